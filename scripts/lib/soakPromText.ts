/**
 * Reads single values out of a Prometheus text exposition (what the daemon's /metrics returns).
 * Only what the soak test needs: unlabelled samples, or the sum over every label set of a name.
 */

/** Every sample line of `name` (with any labels), summed; undefined when the name is absent. */
export function promValue(text: string, name: string): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    // `name_total` must not match `name`: the next character has to end the metric name.
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    // The last brace closes the labels (a label value may itself contain one).
    const afterLabels = rest[0] === '{' ? rest.slice(rest.lastIndexOf('}') + 1) : rest;
    const value = Number(afterLabels.trim().split(/\s+/)[0]);
    if (Number.isNaN(value)) continue;
    total = (total ?? 0) + value;
  }
  return total;
}
