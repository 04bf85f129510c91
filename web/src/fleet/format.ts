/** Formatting for the fleet dashboard. Pure (no DOM), so the tests can import it. */

export const PERIODS = [1, 7, 30, 90] as const;
export type PeriodDays = (typeof PERIODS)[number];

/** The last `days` days up to the end of the current hour (ISO times for the API). */
export function periodOf(days: number, now: number): { from: string; to: string } {
  const hour = 3_600_000;
  const to = Math.ceil((now + 1) / hour) * hour;
  return { from: new Date(to - days * 24 * hour).toISOString(), to: new Date(to).toISOString() };
}

/** How long ago: "12 s ago", "5 min ago", "3 h ago", "2 d ago"; "never" without a time. */
export function ageText(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A gateway's delivery lag: how far behind its newest message was when it arrived. */
export function lagText(seconds: number | null): string {
  if (seconds === null) return '–';
  if (seconds < 5) return 'none';
  if (seconds < 90) return `${Math.round(seconds)} s behind`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min behind`;
  return `${(seconds / 3600).toFixed(1)} h behind`;
}

/** A relative change as a person reads it: "+20.0 %", "−10.0 %", "0.0 %"; "–" without one. */
export function changeText(change: number | null): string {
  if (change === null) return '–';
  const percent = change * 100;
  // Rounded first, so that a change of −0.01 % does not read "−0.0 %".
  const rounded = Math.round(percent * 10) / 10;
  if (rounded === 0) return '0.0 %';
  return `${rounded > 0 ? '+' : '−'}${Math.abs(rounded).toFixed(1)} %`;
}
