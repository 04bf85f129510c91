/**
 * Turns what mqtt.js and Node's TLS report into an installer-readable reason and message: a wrong
 * password or an untrusted certificate must say so, not "connection closed".
 */

export type UpstreamFailure = 'auth' | 'tls' | 'unreachable' | 'timeout' | 'protocol' | 'closed' | 'publish';

const TLS_TRUST_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** CONNACK codes: MQTT 3.1.1 return codes 4/5 and MQTT 5 reason codes 0x86/0x87/0x8C. */
const AUTH_CODES = new Set([4, 5, 0x86, 0x87, 0x8c]);
const PROTOCOL_CODES = new Set([1, 0x84]);

export interface ClassifiedError {
  reason: UpstreamFailure;
  message: string;
  /** The broker does not speak this protocol version: try MQTT 3.1.1. */
  unsupportedProtocol: boolean;
}

export function classifyConnectionError(err: Error & { code?: string | number }): ClassifiedError {
  const code = err.code;
  if (typeof code === 'number' && AUTH_CODES.has(code)) {
    return { reason: 'auth', message: `the broker refused the login (${err.message}): check upstream.mqtt.username and password or the client certificate`, unsupportedProtocol: false };
  }
  if (typeof code === 'number' && PROTOCOL_CODES.has(code)) {
    return { reason: 'protocol', message: `the broker does not accept this MQTT version (${err.message})`, unsupportedProtocol: true };
  }
  if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) {
    return {
      reason: 'tls',
      message: `the broker's TLS certificate is not trusted (${code}: ${err.message}): set upstream.mqtt.ca to the CA that signed it, and check the host name`,
      unsupportedProtocol: false,
    };
  }
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return { reason: 'unreachable', message: `the broker cannot be reached (${code})`, unsupportedProtocol: false };
  }
  if (/timeout/i.test(err.message)) return { reason: 'timeout', message: `no answer from the broker (${err.message})`, unsupportedProtocol: false };
  if (typeof code === 'string' && code.startsWith('ERR_SSL')) return { reason: 'tls', message: `TLS failed: ${err.message}`, unsupportedProtocol: false };
  return { reason: 'closed', message: err.message || 'connection closed', unsupportedProtocol: false };
}
