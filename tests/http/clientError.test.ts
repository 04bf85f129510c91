/**
 * Requests node's HTTP parser refuses (a malformed request line, a head over the size limit) are
 * answered once with `Connection: close`, and the server then closes the connection: checked on raw
 * sockets, over plain TCP and over TLS, including a request pipelined behind the bad one (never
 * answered) and a bad request on a kept-alive connection that already carried a good one.
 */
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../src/gateway/gateway.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { tempDir, testContext } from '../helpers/gatewayHarness.js';

interface Exchange {
  /** Everything the server sent, as latin1. */
  data: string;
  /** The server ended the connection (FIN, or close_notify then FIN with TLS). */
  ended: boolean;
  /** The connection closed (by the server: the client here never closes first). */
  closed: boolean;
}

/**
 * Writes `parts` in order (each after the previous one's answer, when `waitBetween`) and
 * collects what comes back until the server closes. The guard only stops a hang from blocking the
 * suite: a connection still open then is reported as not closed.
 */
function exchange(open: () => net.Socket, parts: string[], waitBetween = false): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = open();
    const result: Exchange = { data: '', ended: false, closed: false };
    const guard = setTimeout(() => {
      socket.destroy();
      resolve(result);
    }, 15_000);
    let next = 0;
    const writeNext = () => {
      if (next < parts.length) socket.write(parts[next++]!);
    };
    socket.on('data', (chunk: Buffer) => {
      result.data += chunk.toString('latin1');
      // The next part once every part so far has had its answer (a response per part).
      if (waitBetween && responses(result.data).length === next) writeNext();
    });
    socket.on('end', () => (result.ended = true));
    socket.on('error', () => undefined); // a reset shows as closed without `ended`
    socket.on('close', () => {
      clearTimeout(guard);
      result.closed = true;
      resolve(result);
    });
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => {
      if (waitBetween) writeNext();
      else for (const p of parts) socket.write(p);
    });
  });
}

/** Status lines and `Connection` headers of every response in the bytes received. */
function responses(data: string): { status: number; connection: string | undefined; body: string }[] {
  const out: { status: number; connection: string | undefined; body: string }[] = [];
  const re = /HTTP\/1\.1 (\d{3})[^\r]*\r\n([\s\S]*?)\r\n\r\n/g;
  for (let m = re.exec(data); m; m = re.exec(data)) {
    const headers = Object.fromEntries(m[2]!.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length'] ?? 0);
    const body = data.slice(re.lastIndex, re.lastIndex + length);
    re.lastIndex += length;
    out.push({ status: Number(m[1]), connection: headers.connection, body });
  }
  return out;
}

const GOOD = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
const MALFORMED = ['GARBAGE\r\n\r\n', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n'];
const OVERSIZED_HEAD = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(40_000)}\r\n\r\n`;

describe.each([
  ['plain HTTP', { mode: 'off' }],
  ['HTTPS', { mode: 'self-signed' }],
] as const)('HTTP client errors over %s', (_name, tlsConfig) => {
  let gateway: Gateway;
  let server: FastifyInstance;
  let open: () => net.Socket;

  beforeAll(async () => {
    const dir = await tempDir('client-error');
    gateway = await Gateway.start({ ctx: testContext(), rawConfig: { data_dir: path.join(dir, 'data'), tls: tlsConfig, cameras: [] } });
    server = buildServer(gateway, testContext());
    await server.listen({ host: '127.0.0.1', port: 0 });
    const port = (server.server.address() as net.AddressInfo).port;
    open = tlsConfig.mode === 'off' ? () => net.connect(port, '127.0.0.1') : () => tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    await gateway?.stop();
  });

  it.each(MALFORMED)('answers 400 with Connection: close and closes the connection: %j', async (request) => {
    const { data, ended, closed } = await exchange(open, [request]);
    expect(responses(data)).toEqual([{ status: 400, connection: 'close', body: JSON.stringify({ error: { code: 'bad_request', message: 'malformed HTTP request' } }) }]);
    expect(closed).toBe(true);
    expect(ended).toBe(true);
  });

  it('answers 431 to a head over the limit and closes the connection', async () => {
    const { data, closed } = await exchange(open, [OVERSIZED_HEAD]);
    const [first, ...rest] = responses(data);
    expect(rest).toEqual([]);
    expect(first).toMatchObject({ status: 431, connection: 'close' });
    expect(closed).toBe(true);
  });

  it('never answers a request pipelined behind a malformed one', async () => {
    const { data, closed } = await exchange(open, [MALFORMED[2]! + GOOD]);
    expect(responses(data).map((r) => r.status)).toEqual([400]);
    expect(closed).toBe(true);
  });

  it('closes a kept-alive connection after a malformed request that follows a good one', async () => {
    const { data, closed } = await exchange(open, [GOOD, 'GARBAGE\r\n\r\n'], true);
    const answers = responses(data);
    expect(answers.map((r) => r.status)).toEqual([200, 400]);
    expect(answers[0]!.connection).not.toBe('close'); // the good request alone keeps the connection open
    expect(answers[1]!.connection).toBe('close');
    expect(closed).toBe(true);
  });

  it('keeps serving other connections', async () => {
    const { data } = await exchange(open, [GOOD.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')]);
    expect(responses(data).map((r) => r.status)).toEqual([200]);
  });
});
