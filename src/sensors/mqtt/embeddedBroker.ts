/**
 * The MQTT broker sensors publish to when the store has none: aedes on the store LAN, every client
 * authenticated. With the gateway's TLS on it speaks MQTTS (port 8883 by default) with the same
 * certificate as the web UI; plain MQTT only on an explicitly configured `plain_port`. A message is handed to the gateway in `authorizePublish`, which aedes runs before it
 * sends PUBACK: the device's QoS 1 acknowledgement therefore means "stored".
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError } from 'aedes';
import type { GatewayContext } from '../../gateway/context.js';
import { RateLimitedLog } from '../../common/rateLimitedLog.js';

export interface BrokerUser {
  username: string;
  password: string;
}

/** How the broker listens: set by the gateway for its context (see `setBrokerTransport`). */
export interface BrokerTransport {
  /** PEM certificate and key: MQTTS on the main port. Absent: plain MQTT there. */
  tls?: { cert: string; key: string } | undefined;
  /** An extra plain-MQTT listener next to MQTTS (ignored without TLS, where the main port is plain). */
  plainPort?: () => number | undefined;
}

export const MQTTS_PORT = 8883;
export const MQTT_PORT = 1883;

const transports = new WeakMap<GatewayContext, BrokerTransport>();

/** Registers how brokers started with this context listen (the gateway does it before sensors start). */
export function setBrokerTransport(ctx: GatewayContext, transport: BrokerTransport): void {
  transports.set(ctx, transport);
}

export interface EmbeddedBrokerOptions {
  host: string;
  /** Default: 8883 with TLS, 1883 without. */
  port?: number | undefined;
  /** Overrides the transport registered for `ctx`. */
  transport?: BrokerTransport;
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
    private readonly plainServer: net.Server | undefined,
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
    const transport = options.transport ?? transports.get(ctx) ?? {};
    const handle = (socket: net.Socket): void => {
      aedes.handle(socket);
    };
    const secure = transport.tls !== undefined;
    const server: net.Server = transport.tls ? tls.createServer({ cert: transport.tls.cert, key: transport.tls.key }, handle) : net.createServer(handle);
    if (transport.tls) {
      // A plain-MQTT client or a wrong CA on the TLS port: no MQTT session, one rate-limited line.
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => rateLimited.warn(`tls:${socket.remoteAddress ?? ''}`, { err: err.message, remote: socket.remoteAddress }, 'sensor broker: TLS handshake failed'));
    }
    const plainPort = secure ? transport.plainPort?.() : undefined;
    let plainServer: net.Server | undefined;
    try {
      await listen(server, options.port ?? (secure ? MQTTS_PORT : MQTT_PORT), options.host);
      if (plainPort !== undefined) {
        plainServer = net.createServer(handle);
        await listen(plainServer, plainPort, options.host);
      }
    } catch (err) {
      server.close(() => undefined);
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw err;
    }
    for (const s of [server, plainServer]) s?.on('error', (err) => ctx.log.error({ err: err.message }, 'sensor broker: server error'));
    ctx.log.info(
      { host: options.host, port: (server.address() as net.AddressInfo).port, tls: secure, ...(plainServer ? { plain_port: (plainServer.address() as net.AddressInfo).port } : {}), users: options.users.length },
      secure ? 'sensor broker listening (MQTTS)' : 'sensor broker listening (plain MQTT)',
    );
    return new EmbeddedBroker(aedes, server, plainServer);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The plain-MQTT port next to MQTTS, if one is open. */
  get plainPort(): number | undefined {
    return this.plainServer ? (this.plainServer.address() as net.AddressInfo).port : undefined;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await Promise.all([this.server, this.plainServer].map((s) => s && new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

function listen(server: net.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
