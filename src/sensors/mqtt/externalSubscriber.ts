/**
 * Sensors on the store's own broker: a persistent QoS 1 subscription (fixed client id, clean=false),
 * so readings published while the gateway is down wait in the broker. The PUBACK goes back only once
 * the message is stored.
 */
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import type { GatewayContext } from '../../gateway/context.js';
import { RateLimitedLog } from '../../common/rateLimitedLog.js';
import { classifyConnectionError } from '../../upstream/connectionErrors.js';

export interface ExternalSubscriberOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: string;
  clientId: string;
  topics: () => string[];
  ctx: GatewayContext;
  onMessage: (topic: string, payload: Buffer) => Promise<unknown>;
}

export class ExternalSubscriber {
  private client: MqttClient | undefined;
  private subscribed = new Set<string>();

  constructor(private readonly options: ExternalSubscriberOptions) {}

  start(): void {
    const { ctx } = this.options;
    const rateLimited = new RateLimitedLog(ctx.log, ctx.now, 30_000);
    const client = mqtt.connect(this.options.url, {
      clientId: this.options.clientId,
      clean: false,
      protocolVersion: 4,
      username: this.options.username,
      password: this.options.password,
      ca: this.options.ca ? readFileSync(this.options.ca) : undefined,
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      resubscribe: false,
    });
    this.client = client;
    client.handleMessage = (packet, done) => {
      const payload = Buffer.from(packet.payload);
      this.options.onMessage(packet.topic, payload).then(
        () => done(),
        (err: Error) => {
          ctx.log.error({ err: err.message, topic: packet.topic }, 'sensor message not stored: not acknowledged, the broker will resend it');
          // Dropping the connection makes the broker redeliver the unacknowledged message.
          client.stream.destroy();
        },
      );
    };
    client.on('connect', (connack) => {
      ctx.metrics.sensorBrokerConnected.set(1);
      ctx.log.info({ url: redact(this.options.url), session_present: connack.sessionPresent }, 'sensor broker connected');
      if (!connack.sessionPresent) this.subscribed.clear();
      this.syncSubscriptions();
    });
    client.on('close', () => ctx.metrics.sensorBrokerConnected.set(0));
    client.on('error', (err) => rateLimited.warn('error', { err: classifyConnectionError(err).message.replace('upstream.mqtt', 'sensors.broker') }, 'sensor broker connection failed'));
  }

  /** Subscribes to new topics and drops removed ones (config reload). */
  syncSubscriptions(): void {
    const client = this.client;
    if (!client?.connected) return;
    const wanted = new Set(this.options.topics());
    const add = [...wanted].filter((t) => !this.subscribed.has(t));
    const drop = [...this.subscribed].filter((t) => !wanted.has(t));
    if (add.length) {
      client.subscribe(add, { qos: 1 }, (err) => {
        if (err) this.options.ctx.log.error({ err: err.message, topics: add }, 'sensor topics: subscription failed');
        else add.forEach((t) => this.subscribed.add(t));
      });
    }
    if (drop.length) client.unsubscribe(drop, () => drop.forEach((t) => this.subscribed.delete(t)));
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync();
    this.options.ctx.metrics.sensorBrokerConnected.set(0);
  }
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
