/**
 * Card numbers (PANs) are never kept: a till that publishes a whole receipt or the card read must not
 * leave card data in the dead-letter table or the log. In every run of 12–19 digits, with single
 * spaces or dashes allowed between digit groups ("4111 1111 1111 1111", "4111-1111-1111-1111"), each
 * digit but the last 4 becomes `*` ("4111111111111111" → "************1111", "4111 1111 1111 1111" →
 * "**** **** **** 1111"): the length is kept, so byte offsets and sizes still mean the same. A longer
 * run (over 19 digits) could hold a card number anywhere in it: all its digits are masked. Shorter
 * runs (amounts, counts, epoch seconds) are kept; epoch milliseconds (13 digits) are masked too.
 */

/** A maximal run of digits with at most one space or dash between two digits. */
const DIGIT_RUN = /\d(?:[ -]?\d)*/g;
const MIN_DIGITS = 12;
const MAX_DIGITS = 19;
const KEEP_LAST = 4;

function maskRun(run: string): string {
  let digits = 0;
  for (const c of run) if (c >= '0' && c <= '9') digits++;
  if (digits < MIN_DIGITS) return run;
  const masked = digits - (digits <= MAX_DIGITS ? KEEP_LAST : 0);
  let seen = 0;
  return run.replace(/\d/g, (d) => (seen++ < masked ? '*' : d));
}

export function maskCardNumbers(text: string): string {
  return text.replace(DIGIT_RUN, maskRun);
}

/**
 * The same on raw bytes, whatever their encoding: digits, spaces and dashes are ASCII, which in UTF-8
 * never occurs inside a multi-byte character, so every other byte is kept as it was. Same length out.
 */
export function maskCardNumbersInBytes(payload: Uint8Array): Uint8Array {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('latin1');
  const masked = maskCardNumbers(text);
  return masked === text ? payload : Buffer.from(masked, 'latin1');
}
