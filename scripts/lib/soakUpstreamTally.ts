/**
 * The analytics side of the soak test: a persistent QoS 1 subscriber on the upstream broker that
 * keeps only what the loss check needs — the event ids and outbox sequence numbers it has received —
 * instead of every envelope (an hour at 200 readings/s would be most of a gigabyte of JSON).
 * clean: false keeps its session, and the messages queued for it, across the broker restarts.
 */
import mqtt, { type MqttClient } from 'mqtt';

export interface TallySummary {
  messages: number;
  /** Re-deliveries (same key again), expected after a reconnect: at-least-once. */
  redeliveries: number;
  uniqueEvents: number;
  firstSeq: number | undefined;
  lastSeq: number | undefined;
  /** Sequence numbers between the first and the last received that never arrived. */
  sequenceGaps: number;
}

interface Envelope {
  key: string;
  seq: number;
  kind: string;
  data: { id?: number };
}

export class UpstreamTally {
  readonly eventIds = new Set<number>();
  private readonly seqs = new Set<number>();
  private messages = 0;

  private constructor(private readonly client: MqttClient) {}

  static async connect(url: string, filter: string, clientId: string): Promise<UpstreamTally> {
    const client = await mqtt.connectAsync(url, { clientId, clean: false, reconnectPeriod: 200, protocolVersion: 4 });
    const tally = new UpstreamTally(client);
    client.on('message', (topic, payload, packet) => {
      // The retained online/offline status is not part of the outbox stream.
      if (packet.retain || topic.endsWith('/status')) return;
      tally.record(JSON.parse(payload.toString()) as Envelope);
    });
    await client.subscribeAsync(filter, { qos: 1 });
    return tally;
  }

  private record(envelope: Envelope): void {
    this.messages++;
    this.seqs.add(envelope.seq);
    if (envelope.kind === 'event' && typeof envelope.data.id === 'number') this.eventIds.add(envelope.data.id);
  }

  summary(): TallySummary {
    let firstSeq: number | undefined;
    let lastSeq: number | undefined;
    for (const s of this.seqs) {
      firstSeq = firstSeq === undefined ? s : Math.min(firstSeq, s);
      lastSeq = lastSeq === undefined ? s : Math.max(lastSeq, s);
    }
    const span = firstSeq === undefined || lastSeq === undefined ? 0 : lastSeq - firstSeq + 1;
    return { messages: this.messages, redeliveries: this.messages - this.seqs.size, uniqueEvents: this.eventIds.size, firstSeq, lastSeq, sequenceGaps: span - this.seqs.size };
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
