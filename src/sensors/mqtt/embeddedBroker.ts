/**
 * The MQTT broker sensors publish to when the store has none: aedes on the store LAN, every client
 * authenticated. A message is handed to the gateway in `authorizePublish`, which aedes runs before it
 * sends PUBACK: the device's QoS 1 acknowledgement therefore means "stored".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { Aedes, type AuthenticateError } from 'aedes';
import type { GatewayContext } from '../../gateway/context.js';
import { RateLimitedLog } from '../../common/rateLimitedLog.js';

export interface BrokerUser {
  username: string;
  password: string;
}

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  users: readonly BrokerUser[];
  ctx: GatewayContext;
  /** Resolves once the message is stored (or refused and recorded); a rejection withholds the ACK. */
  onMessage: (topic: string, payload: Buffer) => Promise<unknown>;
}

const digest = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

export class EmbeddedBroker {
  private constructor(
    private readonly aedes: Aedes,
    private readonly server: net.Server,
  ) {}

  static async start(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const { ctx } = options;
    const rateLimited = new RateLimitedLog(ctx.log, ctx.now);
    // Digests compared in constant time: a wrong password takes as long as a nearly right one.
    const accounts = new Map(options.users.map((u) => [u.username, digest(u.password)]));
    const aedes = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        const expected = username === undefined ? undefined : accounts.get(username);
        if (expected && password && timingSafeEqual(expected, digest(password))) return done(null, true);
        ctx.metrics.brokerAuthFailures.inc();
        rateLimited.warn(`auth:${username ?? ''}`, { username: username ?? null, client: client.id }, 'sensor broker: connection refused (wrong or missing credentials)');
        const err = new Error('bad user name or password') as AuthenticateError;
        err.returnCode = 4;
        done(err, false);
      },
      authorizePublish: (client, packet, done) => {
        if (packet.topic.startsWith('$')) return done(new Error('$ topics are reserved'));
        if (!client) return done(null);
        options.onMessage(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)).then(
          () => done(null),
          (err: Error) => {
            ctx.log.error({ err: err.message, topic: packet.topic }, 'sensor message not stored: not acknowledged, the device will resend it');
            done(err);
          },
        );
      },
    });
    const updateClients = (): void => {
      ctx.metrics.brokerClients.set(aedes.connectedClients);
    };
    aedes.on('clientReady', updateClients);
    aedes.on('clientDisconnect', updateClients);
    aedes.on('clientError', (client, err) => rateLimited.warn(`client:${client.id}`, { client: client.id, err: err.message }, 'sensor broker: client error'));
    const server = net.createServer((socket) => aedes.handle(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => ctx.log.error({ err: err.message }, 'sensor broker: server error'));
    ctx.log.info({ host: options.host, port: (server.address() as net.AddressInfo).port, users: options.users.length }, 'sensor broker listening');
    return new EmbeddedBroker(aedes, server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
