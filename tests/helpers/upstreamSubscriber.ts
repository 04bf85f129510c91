/** The analytics side of the uplink in tests: a persistent QoS 1 subscriber that records every envelope. */
import mqtt, { type MqttClient } from 'mqtt';

export interface Envelope {
  v: number;
  key: string;
  seq: number;
  store_id: string;
  gateway_id: string;
  kind: string;
  queued_at: string;
  data: Record<string, unknown>;
}

export interface Received {
  topic: string;
  envelope: Envelope;
}

export class UpstreamSubscriber {
  readonly received: Received[] = [];
  readonly retained = new Map<string, string>();

  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, filter = 'storepulse/#', clientId = `analytics-${process.pid}-${Date.now()}`): Promise<UpstreamSubscriber> {
    // clean: false keeps the session (and the messages queued for it) across a broker restart.
    const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 200, protocolVersion: 4 });
    const sub = new UpstreamSubscriber(client);
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString();
      if (topic.endsWith('/status')) {
        sub.retained.set(topic, text);
        return;
      }
      if (packet.retain) return;
      sub.received.push({ topic, envelope: JSON.parse(text) as Envelope });
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return sub;
  }

  /** First delivery of each key, in arrival order (re-deliveries dropped, as a consumer would). */
  unique(): Received[] {
    const seen = new Map<string, Received>();
    for (const r of this.received) if (!seen.has(r.envelope.key)) seen.set(r.envelope.key, r);
    return [...seen.values()];
  }

  /** Every re-delivery must repeat the first one exactly (same key, same sequence number, same body). */
  inconsistentDuplicates(): string[] {
    const first = new Map<string, string>();
    const bad: string[] = [];
    for (const r of this.received) {
      const text = JSON.stringify(r.envelope);
      const seen = first.get(r.envelope.key);
      if (seen === undefined) first.set(r.envelope.key, text);
      else if (seen !== text) bad.push(r.envelope.key);
    }
    return bad;
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** Sequence numbers of the unique messages must be consecutive and in order. */
export function sequenceProblems(received: readonly Received[]): string[] {
  const problems: string[] = [];
  for (let i = 1; i < received.length; i++) {
    const prev = received[i - 1]!.envelope.seq;
    const seq = received[i]!.envelope.seq;
    if (seq !== prev + 1) problems.push(`seq ${seq} after ${prev}`);
  }
  return problems;
}
