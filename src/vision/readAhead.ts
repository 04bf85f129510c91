/**
 * Pulls up to `depth` items ahead of the consumer, so that a producer in another process (ffmpeg
 * decoding) works while the consumer (the detector) is busy, instead of the two taking turns.
 * Errors from the source surface at the position where they happened.
 */
export async function* readAhead<T>(source: AsyncIterable<T>, depth: number): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const pending: Promise<IteratorResult<T>>[] = [];
  const fill = (): void => {
    while (pending.length < depth) {
      const next = iterator.next();
      next.catch(() => undefined); // handled when awaited in order below
      pending.push(next);
    }
  };
  try {
    fill();
    for (;;) {
      const result = await (pending.shift() as Promise<IteratorResult<T>>);
      if (result.done) return;
      fill();
      yield result.value;
    }
  } finally {
    await iterator.return?.();
  }
}
