/**
 * Satisfaction terminals: a button number (1 = worst) or a score, as an object ({"button": 3},
 * {"score": 4}) or a bare number.
 */
import type { FeedbackVote } from '../../kpi/events.js';
import type { FeedbackConfig } from '../sensorConfigSchema.js';
import { isObject, numberField, reject, type JsonValue } from '../payload.js';
import { JsonProfile, type ReadOutcome } from './profile.js';

export class FeedbackProfile extends JsonProfile<FeedbackConfig> {
  protected interpret(body: JsonValue, receivedAt: number): ReadOutcome {
    let raw;
    if (isObject(body)) {
      raw = body.button ?? body.score;
      if (raw === undefined) return reject('missing_field', 'expected "button" or "score"');
    } else if (typeof body === 'number' || typeof body === 'string') {
      raw = body;
    } else {
      return reject('not_object', 'expected {"button": N}, {"score": N} or a bare number');
    }
    const score = numberField(raw, 'button', { integer: true, min: 1, max: this.config.scale });
    if (!score.ok) return score;
    const ts = this.timeOf(body, receivedAt);
    if (!ts.ok) return ts;
    const vote: FeedbackVote = { type: 'feedback_vote', ts: ts.value, terminal: this.config.id, score: score.value, scale: this.config.scale };
    if (this.config.zone !== undefined) vote.zone = this.config.zone;
    return { ok: true, events: [vote] };
  }
}
