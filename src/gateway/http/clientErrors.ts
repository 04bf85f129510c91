/**
 * What the server answers when node's HTTP parser refuses a request (a malformed request line or
 * header, a head over the 16 KiB limit, a request that never finished in time): one response with
 * `Connection: close`, then the connection is closed.
 *
 * Fastify's default handler writes the response without `Connection: close` and destroys the socket
 * at once: the client is not told that the connection is over, and on a TLS socket (or with request
 * bytes still unread, when the kernel answers the close with a reset) the response can be lost. Here
 * the socket is ended instead (the response and, with TLS, close_notify are flushed first) and
 * destroyed shortly after in case the client never closes its side. A parser that has failed reads
 * nothing more from that connection, so a request pipelined behind the bad one is never answered.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

/** How long a client gets to read the error and close before its socket is destroyed. */
export const CLIENT_ERROR_LINGER_MS = 2_000;

const answered = new WeakSet<Socket>();

function statusFor(code: string | undefined): { status: number; code: string; message: string } {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return { status: 408, code: 'request_timeout', message: 'the request did not arrive in time' };
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, code: 'header_overflow', message: 'the request line and headers are over the size limit' };
  return { status: 400, code: 'bad_request', message: 'malformed HTTP request' };
}

/** A `clientErrorHandler` for Fastify (`this` is unused: the logger comes in by closure). */
export function clientErrorHandler(log: Logger): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    // A reset connection has nobody to answer; a socket already answered must not get a second response.
    if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
    answered.add(socket);
    const { status, code, message } = statusFor(err.code);
    log.debug({ err: err.message, code: err.code, remote: socket.remoteAddress }, `HTTP client error: answered ${status} and closed`);
    // As node's own handler: no error response in the middle of a response already being sent (it
    // would corrupt it for the client); the connection is closed all the same.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify({ error: { code, message } });
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    } else {
      socket.end();
    }
    // A client that resets instead of reading the answer is no error of ours; one that never hangs up
    // is cut off after a moment.
    socket.on('error', () => undefined);
    const linger = setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
    socket.once('close', () => clearTimeout(linger));
  };
}
