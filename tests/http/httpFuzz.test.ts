/**
 * Fuzzes the gateway's whole HTTP surface over real sockets: every route the server has (read from
 * its own route table), with malformed JSON, bodies beyond the limits, wrong types and shapes,
 * prototype-pollution keys, wrong content types, path tricks (`..`, `%2e%2e`, encoded slashes and
 * letters, very long paths), unicode and NUL bytes in paths, queries, headers and bodies, as
 * anonymous, a viewer, an installer and the API token — seeded, so a failure repeats
 * (FUZZ_SEED=… to try another sequence). Plus a few hundred raw-socket requests that an HTTP client
 * would refuse to send.
 *
 * Asserts: no response is 5xx; the server answers /healthz after every batch; nothing that needs a
 * role or the token succeeds without it (the route a request reached is read from the server);
 * no write succeeds (every body is invalid by construction); the config file, users.json, the
 * data_dir listing and every table of the database are unchanged at the end.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/common/seededRandom.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { apiTokens } from '../../src/gateway/http/apiAuth.js';
import { buildServer } from '../../src/gateway/http/httpServer.js';
import { DATABASE_FILE } from '../../src/store/dataStore.js';
import { hashPassword } from '../../src/web/auth/passwords.js';
import { WEB_ROOT } from '../../src/web/webRoutes.js';
import type { RouteRole, WebAuth } from '../../src/web/webAuth.js';
import { tempDir, testContext, writeConfig } from '../helpers/gatewayHarness.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x15f022);
const HTTP_REQUESTS = 10_400;
const RAW_REQUESTS = 240;
const BATCH = 400;
const CONCURRENCY = 16;
const BODY_LIMIT = 1024 * 1024; // fastify's default
const PLAN_IMAGE_LIMIT = 5 * 1024 * 1024;

// Account names no generated string decodes to (the fuzzer must not delete or reset real accounts).
const INSTALLER = { username: 'inst-q7', password: 'installer password 1' };
const VIEWER = { username: 'view-q7', password: 'viewer password 1' };

type Persona = 'anonymous' | 'viewer' | 'installer' | 'token';
const PERSONAS: readonly Persona[] = ['anonymous', 'viewer', 'installer', 'token'];

/** Writes that succeed without changing anything kept: allowed to answer 2xx. */
const SIDE_EFFECT_FREE = new Set(['POST /ui/api/logout', 'POST /api/config/reload', 'POST /ui/api/cameras/:id/calibration/preview']);

interface RouteInfo {
  method: string;
  url: string;
  role: RouteRole | 'token' | 'open';
}

interface FuzzRequest {
  id: string;
  route: RouteInfo;
  method: string;
  path: string;
  persona: Persona;
  headers: Record<string, string>;
  body?: Buffer;
  kind: string;
  /** Refused by the HTTP parser (sent on a connection of its own). */
  parserLevel?: boolean;
}

interface Outcome {
  request: FuzzRequest;
  status?: number;
  error?: string;
}

/** What the server saw: the route a request reached (by the x-fuzz-id header). */
interface Seen {
  route: string | undefined;
  method: string;
  role: RouteRole | undefined;
  status: number;
}

// ------------------------------------------------------------------ generators

const pick = <T>(rand: () => number, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const chance = (rand: () => number, p: number): boolean => rand() < p;
const int = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** Percent-encodes every byte of a UTF-8 (or raw) byte sequence. */
const pctBytes = (bytes: Buffer | number[]): string => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');

/** Strings of unicode oddities (as JS strings; lone surrogates are only sent inside JSON escapes). */
const UNICODE = ['\u0000', '\u202e', '\u200b', '\ufeff', 'é', 'e\u0301', '😀', '𝔘𝔫𝔦', '中文', '\u0085', '\u2028', 'ﬁ', 'İ', 'ß', '\uffff', '\u001f', '\r\n', '\t', '"', '\\', "'", '<script>', '${x}', '%s', '../'];

function unicodeString(rand: () => number, maxParts = 6): string {
  let s = '';
  for (let i = int(rand, 1, maxParts); i > 0; i--) s += chance(rand, 0.6) ? pick(rand, UNICODE) : String.fromCharCode(int(rand, 0x20, 0x7e));
  return s;
}

/** Path segments and query values: already in the form they go on the request line. */
function segment(rand: () => number): string {
  switch (int(rand, 0, 13)) {
    case 0:
      return pick(rand, ['..', '.', '%2e%2e', '%2E%2E', '%2e', '..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%5c..%5cwindows', '%252e%252e%252f', '....//', '..;', '%c0%ae%c0%ae', '%c0%af', '..%00', '.%00.']);
    case 1:
      return pick(rand, ['%2f', '%2F', 'a%2fb', '%5c', 'a%5cb', '%2f%2f', '%3f', '%23', '%26', '%3d', ';', ';a=b', ':', '@', '~', '!', '*', "'", '(', ')', '$', ',', '+', '%20', '%09']);
    case 2:
      return pick(rand, ['%00', 'a%00b', '%00.json', 'door%00', '%0a', '%0d%0a', '%7f', '%ff', '%fe%ff', '%ed%a0%80', '%f4%90%80%80', '%e0%a4%a', '%', '%%', '%zz', 'a%', '%g0', '%u0041']);
    case 3:
      return pctBytes(Buffer.from(unicodeString(rand), 'utf8'));
    case 4:
      // Raw latin-1 bytes on the request line (the client sends them as single bytes).
      return Array.from({ length: int(rand, 1, 6) }, () => String.fromCharCode(int(rand, 0x80, 0xff))).join('');
    case 5:
      return 'a'.repeat(int(rand, 200, 9000));
    case 6:
      return pick(rand, ['99999999999999999999', '8640000000000001', '-8640000000000001', '9007199254740993', '1e400', '-0', '0x10', 'NaN', 'Infinity', '-1', '1.5', '1e3', '0', '00000000000000000001', '+1', ' 1']);
    case 7:
      return pick(rand, ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'null', 'undefined', 'true', '[]', '{}']);
    case 8:
      return pick(rand, ['door', 'nope', 'DOOR', 'door ', 'door.', 'admin', 'nobody', 'entrance', 'privacy', 'people', 'json', 'csv', '1m', '1h', 'line_crossing']);
    case 9:
      return pick(rand, ['2026-11-23T09:00:00Z', '2026-13-45T99:00:00Z', '+275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00Z', '1970-01-01', 'yesterday', '2026-11-23T09:00:00+25:00']);
    case 10:
      return encodeURIComponent(unicodeString(rand)).replace(/%EF%BF%BF/g, '%EF%BF%BE');
    case 11:
      return pctBytes(Array.from({ length: int(rand, 1, 12) }, () => int(rand, 0, 255)));
    case 12:
      return `${segment(rand)}${segment(rand)}`;
    default:
      return String(int(rand, 0, 1e6));
  }
}

/** Would the server decode this path segment to one of our account names? */
function namesAccount(raw: string): boolean {
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // not decodable: cannot be a name
  }
  return [INSTALLER.username, VIEWER.username].some((u) => decoded.toLowerCase().includes(u.slice(0, 4)));
}

function fillParams(rand: () => number, url: string): string {
  return url.replace(/:(\w+)/g, (_m, name: string) => {
    if (name === 'id' && chance(rand, 0.35)) return pick(rand, ['door', 'nope']);
    for (;;) {
      const s = segment(rand);
      if (!(name === 'username' && namesAccount(s))) return s;
    }
  });
}

/** Whole-path tricks on a route's concrete path. */
function pathTrick(rand: () => number, p: string): string {
  const parts = p.split('/');
  switch (int(rand, 0, 15)) {
    case 0:
      return `/..${p}`;
    case 1:
      return `/%2e%2e${p}`;
    case 2: {
      const i = int(rand, 1, Math.max(1, parts.length - 1));
      return [...parts.slice(0, i), pick(rand, ['..', '.', '%2e%2e', '%2e', '..%2f', '']), ...parts.slice(i)].join('/');
    }
    case 3:
      return p.replace(/\//g, () => (chance(rand, 0.3) ? pick(rand, ['%2f', '%2F', '//', '/./', '\\', '%5c']) : '/'));
    case 4:
      return `${p}/`;
    case 5:
      return p.toUpperCase();
    case 6:
      // A letter percent-encoded: the router decodes it, a prefix check on the raw URL would not.
      return p.replace(/[a-z]/g, (c) => (chance(rand, 0.25) ? `%${c.charCodeAt(0).toString(16)}` : c));
    case 7:
      return `${p}/${'x'.repeat(int(rand, 1000, 20_000))}`;
    case 8:
      return `/${'a/'.repeat(int(rand, 100, 3000))}${p.slice(1)}`;
    case 9:
      return `${p}%00`;
    case 10:
      return `${p};jsessionid=1`;
    case 11:
      return `${p}#${segment(rand)}`;
    case 12:
      return `http://evil.example${p}`;
    case 13:
      return pick(rand, ['*', p.slice(1), `//${p}`, `/\\${p.slice(1)}`]);
    case 14:
      return `${p}${pctBytes(Buffer.from(unicodeString(rand), 'utf8'))}`;
    default:
      return p.replace(/\/[^/]*$/, (last) => `${last}${segment(rand)}`);
  }
}

/** The query properties each route declares, to aim the fuzzer at their validation. */
const ROUTE_QUERY: Record<string, string[]> = {
  '/api/v1/events': ['from', 'to', 'format', 'camera', 'line', 'zone', 'type', 'source', 'after_id', 'limit'],
  '/api/v1/aggregates': ['from', 'to', 'format', 'camera', 'line', 'zone', 'size'],
  '/api/v1/kpis': ['from', 'to', 'format', 'camera', 'line', 'zone', 'bin'],
  '/api/events': ['after'],
  '/api/v1/dead-letters': ['sensor', 'after_id', 'limit'],
  '/api/v1/impact': ['subject', 'change', 'weeks', 'control', 'format'],
  '/api/v1/annotations': ['from', 'to', 'subject', 'format'],
  '/ui/api/cameras/:id/frame.jpg': ['mode'],
  '/ui/api/plan/image': ['width_m', 'height_m'],
};
const ALL_QUERY_KEYS = [...new Set(Object.values(ROUTE_QUERY).flat())];

const TIMES = ['2026-11-23T09:00:00Z', '2026-11-23T09:00:00+01:00', '0', '1', '1764000000000', '-1', '1e3', '2026-02-30T00:00:00Z', 'Tue, 01 Dec 2026 00:00:00 GMT', ''];
/** Times at and beyond the ends of what a Date can hold (±8.64e15 ms). */
const EDGE_TIMES = ['99999999999999999999', '8640000000000000', '8640000000000001', '8639999999999999', '9007199254740993', '+275760-09-13T00:00:00.000Z', '+275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00Z', '-271821-04-19T23:59:59.999Z'];
const NUMBERS = ['0', '1', '-1', '1.5', '1e3', '10000', '10001', '1000', '1001', '99999999999999999999', '9007199254740993', 'NaN', '0x10', '', ' 1', '1,2'];

/** A value for a query property: often of the right kind but at an edge, sometimes anything. */
function queryValue(rand: () => number, key: string): string {
  if (chance(rand, 0.25)) return segment(rand);
  switch (key) {
    case 'from':
    case 'to':
    case 'change':
      return encodeURIComponent(pick(rand, chance(rand, 0.5) ? EDGE_TIMES : TIMES));
    case 'after_id':
    case 'limit':
    case 'after':
    case 'weeks':
    case 'width_m':
    case 'height_m':
      return encodeURIComponent(pick(rand, NUMBERS));
    case 'format':
      return pick(rand, ['json', 'csv', 'CSV', 'xml', '']);
    case 'subject':
    case 'control':
      return encodeURIComponent(pick(rand, ['zone:door', 'line:entrance', 'zone:', 'zone:a/b/c', 'store', 'zone:door,zone:door', ',,,', 'line:__proto__']));
    case 'size':
    case 'bin':
      return pick(rand, ['1m', '15m', '1h', '1d', '1w', '0m', '']);
    case 'mode':
      return pick(rand, ['privacy', 'people', 'PEOPLE', '']);
    case 'type':
      return pick(rand, ['line_crossing', 'zone_visit,line_crossing', ',', 'line_crossing,,', '__proto__', 'x'.repeat(3000)]);
    default:
      return pick(rand, ['door', 'entrance', 'nope', '', '%00']);
  }
}

function queryString(rand: () => number, route: RouteInfo): string {
  const own = ROUTE_QUERY[route.url] ?? [];
  const pairs: string[] = [];
  for (let i = int(rand, 1, 4); i > 0; i--) {
    const key = own.length > 0 && chance(rand, 0.8) ? pick(rand, own) : chance(rand, 0.6) ? pick(rand, ALL_QUERY_KEYS) : segment(rand);
    const value = queryValue(rand, key);
    pairs.push(chance(rand, 0.05) ? key : chance(rand, 0.05) ? `${key}[]=${value}` : `${key}=${value}`);
  }
  // The floor plan upload with a valid size: its body then decides (and is never an image).
  if (route.url === '/ui/api/plan/image' && chance(rand, 0.5)) pairs.push('width_m=12', 'height_m=8');
  if (chance(rand, 0.04)) pairs.push(`pad=${'q'.repeat(int(rand, 5000, 70_000))}`);
  return pairs.join('&');
}

/** Properties each route's body has (so that wrong types reach the validation of real fields). */
const BODY_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  'POST /ui/api/setup': { required: ['password'], optional: ['setup_code'] },
  'POST /ui/api/login': { required: ['password'], optional: ['username'] },
  'POST /ui/api/account/password': { required: ['current_password', 'new_password'], optional: [] },
  'POST /ui/api/users': { required: ['username', 'password', 'role'], optional: [] },
  'PUT /ui/api/users/:username/password': { required: ['password'], optional: [] },
  'PUT /ui/api/cameras/:id/scene': { required: ['lines', 'zones'], optional: [] },
  'PUT /ui/api/plan': { required: ['width_m', 'height_m'], optional: [] },
  'POST /ui/api/cameras/:id/calibration/preview': { required: ['image_points', 'plan_points'], optional: ['check_points'] },
  'PUT /ui/api/cameras/:id/calibration': { required: ['image_points', 'plan_points'], optional: ['check_points'] },
  'POST /ui/api/validations': { required: ['camera', 'line'], optional: [] },
  'POST /ui/api/validations/:id/tap': { required: ['direction'], optional: ['undo'] },
  'POST /api/v1/annotations': { required: ['time', 'text'], optional: ['subject'] },
};

function junkValue(rand: () => number, depth = 0): unknown {
  switch (int(rand, 0, 14)) {
    case 0:
      return unicodeString(rand);
    case 1:
      return pick(rand, [0, -0, 1, -1, 0.5, 1e300, -1e300, 5e-324, 2 ** 53 + 1, 123456789012]);
    case 2:
      return pick(rand, [true, false, null]);
    case 3:
      return depth < 3 ? Array.from({ length: int(rand, 0, 5) }, () => junkValue(rand, depth + 1)) : [];
    case 4:
      return depth < 3 ? { [unicodeString(rand, 2)]: junkValue(rand, depth + 1) } : {};
    case 5:
      return [pick(rand, [0.1, 0, 1, 1e9, -5]), pick(rand, [0.5, 0, 1, -1e9])];
    case 6:
      return Array.from({ length: 4 }, () => [pick(rand, [0, 0.5, 1, 2, 1e-12, 1e12]), pick(rand, [0, 0.5, 1, 3, 1e-12])]);
    case 7:
      return 'x'.repeat(int(rand, 100, 5000));
    case 8:
      return pick(rand, ['in', 'out', 'viewer', 'installer', 'admin', 'door', 'correct horse battery']);
    case 9:
      return [{ name: unicodeString(rand, 2), points: junkValue(rand, depth + 1) }];
    case 10:
      return [{ name: 'z', polygon: [[0, 0], [1, 0], [1, 1]] }];
    case 11:
      return { image: [0.5, 0.5], plan: [1, 1] };
    case 12:
      return ['x'];
    default:
      return String(int(rand, 0, 100));
  }
}

/** A value no schema property accepts, whatever the type coercion: an object never becomes a string, number or array. */
const poison = (rand: () => number): unknown => pick(rand, [{}, { a: 1 }, { '': [] }, { length: 4, 0: 'x' }]);

/** An object body shaped like the route's, always invalid: a required property missing or unconvertible. */
function invalidObject(rand: () => number, key: string, withUnicode: boolean): Record<string, unknown> {
  const fields = BODY_FIELDS[key] ?? { required: [], optional: [] };
  const body: Record<string, unknown> = {};
  for (const f of [...fields.required, ...fields.optional]) if (chance(rand, 0.8)) body[f] = withUnicode ? unicodeString(rand) : junkValue(rand);
  if (chance(rand, 0.3)) body[withUnicode ? unicodeString(rand, 2) : segment(rand)] = junkValue(rand);
  if (fields.required.length > 0) {
    const f = pick(rand, fields.required);
    if (chance(rand, 0.5)) delete body[f];
    else body[f] = poison(rand);
  }
  return body;
}

/** Schema-valid calibration points (random, often degenerate): the preview only computes, so it may succeed. */
function calibrationPoints(rand: () => number): Record<string, unknown> {
  const pt = () => [pick(rand, [0, 0.1, 0.5, 0.9, 1, rand(), -rand(), 1e9, 1e-9]), pick(rand, [0, 0.1, 0.5, 0.9, 1, rand(), 1e9, -1e-9])];
  const four = () => (chance(rand, 0.3) ? Array.from({ length: 4 }, () => [0.5, 0.5]) : Array.from({ length: 4 }, pt));
  return { image_points: four(), plan_points: four(), ...(chance(rand, 0.5) ? { check_points: Array.from({ length: int(rand, 0, 3) }, () => ({ image: pt(), plan: pt() })) } : {}) };
}

const MALFORMED_JSON = ['{', '}', '{"a":}', '{"a":1,}', '[1,2', '{"a" 1}', "{'a':1}", '{"a":01}', '{"a":NaN}', '{"a":Infinity}', '{"a":undefined}', 'nul', 'tru', '"unterminated', '{"a":"\\x00"}', '{"a":"\\ud800"', '\u0000', '{"a":1}{"b":2}', '{"a":1} x', '{,}', '{"__proto__":', '\ufeff{"a":1}', '// comment\n{}', '{"a":1e999999999999}'];
const NON_OBJECTS = ['[]', '[{}]', '[1,2,3]', '"string"', '123', '-1', '0', 'true', 'false', 'null', '""', '[[[]]]', '{"password":"x"}'.replace('{', '[{').concat(']')];
const PROTO = ['{"__proto__":{"role":"installer"}}', '{"constructor":{"prototype":{"role":"installer"}}}', '{"password":"x","__proto__":{"isAdmin":true}}', '{"a":{"__proto__":{"b":1}}}'];
const CONTENT_TYPES = ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'image/png', 'image/jpeg', 'image/gif', 'application/json; charset=utf-16le', 'application/json; charset=iso-8859-1', 'application/JSON', 'application/json;;;', 'application/jsonx', '*/*', ';', 'application/json; boundary=\u00ff', 'text/html; charset=\u00e9'];

function jsonBody(text: string, contentType = 'application/json'): { body: Buffer; contentType: string } {
  return { body: Buffer.from(text, 'utf8'), contentType };
}

/** Random bytes that never start like a PNG (89 50 4E 47) or a JPEG (FF D8 FF). */
function notAnImage(rand: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = int(rand, 0, 255);
  if (length > 0 && (bytes[0] === 0x89 || bytes[0] === 0xff)) bytes[0] = 0x00;
  return bytes;
}

function makeBody(rand: () => number, route: RouteInfo, method: string): { body?: Buffer; contentType?: string; kind: string } {
  const key = `${route.method} ${route.url}`;
  const sendsBody = method === 'POST' || method === 'PUT' || method === 'PATCH' || method === 'DELETE' || chance(rand, 0.15);
  if (!sendsBody || chance(rand, 0.08)) return { kind: 'none' };
  const roll = rand();
  if (roll < 0.16) {
    const text = chance(rand, 0.6) ? pick(rand, MALFORMED_JSON) : JSON.stringify(invalidObject(rand, key, false)).slice(0, -1 - int(rand, 0, 3));
    return { ...jsonBody(text), kind: 'malformed-json' };
  }
  if (roll < 0.42) return { ...jsonBody(JSON.stringify(invalidObject(rand, key, false))), kind: 'wrong-types' };
  if (roll < 0.56) {
    // Unicode, NUL and lone surrogates inside JSON strings (escaped: the JSON text itself is valid).
    const text = JSON.stringify(invalidObject(rand, key, true)).replace(/"$|"(?=[,}])/, (q) => (chance(rand, 0.5) ? `\\ud800${q}` : `\\u0000${q}`));
    return { ...jsonBody(text), kind: 'unicode' };
  }
  if (roll < 0.62) return { ...jsonBody(pick(rand, NON_OBJECTS)), kind: 'not-an-object' };
  if (roll < 0.66) return { ...jsonBody(pick(rand, PROTO)), kind: 'proto-pollution' };
  if (roll < 0.69) {
    const depth = int(rand, 2000, 60_000);
    return { ...jsonBody(`${'['.repeat(depth)}${chance(rand, 0.5) ? ']'.repeat(depth) : ''}`), kind: 'deep-nesting' };
  }
  if (roll < 0.72) return { ...jsonBody(''), kind: 'empty-json' };
  if (roll < 0.745) {
    // Beyond the body limit (the floor plan image has its own, larger one).
    const image = route.url === '/ui/api/plan/image' && chance(rand, 0.3);
    const size = (image ? PLAN_IMAGE_LIMIT : BODY_LIMIT) + int(rand, 1, 64 * 1024);
    return { body: Buffer.alloc(size, chance(rand, 0.5) ? 0x7b : 0x00), contentType: image ? 'image/png' : 'application/json', kind: 'huge' };
  }
  if (roll < 0.76 && route.url === '/ui/api/cameras/:id/calibration/preview') return { ...jsonBody(JSON.stringify(calibrationPoints(rand))), kind: 'calibration-math' };
  if (roll < 0.86 && route.url === '/ui/api/plan/image') {
    const json = chance(rand, 0.3);
    return json
      ? { ...jsonBody(pick(rand, ['{"width_m":1}', '"plan"', '[1,2]', '{}', '123'])), kind: 'plan-not-an-image' }
      : { body: notAnImage(rand, int(rand, 0, 2048)), contentType: pick(rand, ['image/png', 'image/jpeg']), kind: 'plan-not-an-image' };
  }
  const ct = pick(rand, CONTENT_TYPES);
  const body = ct.startsWith('image/') ? notAnImage(rand, int(rand, 0, 512)) : Buffer.from(JSON.stringify(invalidObject(rand, key, chance(rand, 0.5))), 'utf8');
  return { body, contentType: ct, kind: 'content-type' };
}

function personaHeaders(rand: () => number, persona: Persona, cookies: Record<'viewer' | 'installer', string>, token: string): Record<string, string> {
  switch (persona) {
    case 'viewer':
      return { cookie: cookies.viewer };
    case 'installer':
      return { cookie: cookies.installer };
    case 'token':
      return { authorization: `Bearer ${token}` };
    default: {
      // Anonymous, sometimes with forged, malformed or misplaced credentials.
      switch (int(rand, 0, 9)) {
        case 0:
          return { cookie: `storepulse_session=${pick(rand, ['%E0%A4%A', '%', '%zz', 'forged', '', 'a'.repeat(43), `${token}`, '\u00ff\u00fe', 'x'.repeat(6000)])}` };
        case 1:
          return { cookie: `storepulse_session=a; storepulse_session=${segment(rand)}; other=%` };
        case 2:
          return { authorization: pick(rand, ['Bearer', 'Bearer ', `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `bearer  ${'A'.repeat(5000)}`, 'Basic YWRtaW46YWRtaW4=', `Bearer ${token} ${token}`, 'Bearer \u00e9\u00e9']) };
        case 3:
          return { authorization: `Bearer ${segment(rand).slice(0, 4000)}`.replace(/[^\t\x20-\x7e\x80-\xff]/g, '') };
        case 4:
          return { 'x-forwarded-for': '127.0.0.1, 10.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
        default:
          return {};
      }
    }
  }
}

function makeRequest(rand: () => number, n: number, routes: RouteInfo[], cookies: Record<'viewer' | 'installer', string>, token: string): FuzzRequest {
  const route = pick(rand, routes);
  let method = route.method;
  const otherMethod = rand();
  if (otherMethod < 0.04) method = pick(rand, ['PATCH', 'OPTIONS', 'PROPFIND', 'SEARCH', 'TRACE']);
  else if (otherMethod < 0.08 && route.method === 'GET') method = 'HEAD';
  else if (otherMethod < 0.1) method = pick(rand, ['GET', 'POST', 'PUT', 'DELETE']);
  const rawBytes = chance(rand, 0.02);
  let p = fillParams(rand, route.url);
  if (chance(rand, 0.35)) p = pathTrick(rand, p);
  if (chance(rand, ROUTE_QUERY[route.url] ? 0.8 : 0.3)) p += `?${queryString(rand, route)}`;
  let persona = pick(rand, PERSONAS);
  // Logging out with one of the fuzzer's own sessions would be a real (authorised) write.
  if (route.url === '/ui/api/logout' && (persona === 'viewer' || persona === 'installer')) persona = 'token';
  const headers: Record<string, string> = { 'x-fuzz-id': String(n), ...personaHeaders(rand, persona, cookies, token) };
  const { body, contentType, kind } = makeBody(rand, route, method);
  if (contentType !== undefined && !(chance(rand, 0.05) && body)) headers['content-type'] = contentType;
  if (chance(rand, 0.05)) headers.accept = pick(rand, ['text/csv', 'image/*', '*/*;q=0', 'application/json; charset=\u00e9', '']);
  if (chance(rand, 0.03)) headers['accept-encoding'] = pick(rand, ['gzip', 'br', 'identity;q=0', '*;q=0', 'x'.repeat(2000)]);
  p = p.replace(rawBytes ? /[^\u0021-\u00ff]/g : /[^\u0021-\u007e]/g, (c) => pctBytes(Buffer.from(c, c.charCodeAt(0) > 0xff ? 'utf8' : 'latin1')));
  // What node's HTTP parser refuses before the application sees it (a request line or header that is
  // not ASCII, a target not starting with "/", a head over 16 KiB): the server answers 400/431 with
  // "Connection: close" and closes the connection (tests/http/clientError.test.ts), so these go on a
  // connection of their own rather than cost a kept-alive one.
  const head = p.length + Object.entries(headers).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
  const parserLevel = !/^(\/|http:\/\/)/.test(p) || [...(p + Object.values(headers).join(''))].some((c) => c.charCodeAt(0) > 0x7e) || head > 15_000;
  if (parserLevel) headers.connection = 'close';
  return { id: String(n), route, method, path: p, persona, headers, body, kind, parserLevel };
}

/** Requests an HTTP client would refuse to send: raw bytes straight onto the socket. */
function rawRequests(rand: () => number, count: number, cookie: string): Buffer[] {
  const targets = ['/healthz', '/api/status', '/ui/api/users', '/ui/api/cameras/door/live', '/ui/api/session', '/ui/api/plan'];
  const lines: (() => Buffer)[] = [
    () => Buffer.from(`GET ${pick(rand, targets)}\u0000 HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'),
    () => Buffer.concat([Buffer.from('GET /ui/api/cameras/'), Buffer.from(unicodeString(rand), 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n')]),
    () => Buffer.from(`GET ${pick(rand, targets)} HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\u0000x\r\n\r\n`, 'latin1'),
    () => Buffer.concat([Buffer.from(`GET ${pick(rand, targets)} HTTP/1.1\r\nHost: x\r\nX-Name: `), Buffer.from(unicodeString(rand), 'utf8'), Buffer.from('\r\n\r\n')]),
    () => Buffer.from(pick(rand, ['GARBAGE\r\n\r\n', '\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'GET / HTTP/1.1\r\n\r\n', 'get /healthz http/1.1\r\nHost: x\r\n\r\n', 'GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n'])),
    () => Buffer.from(`GET /${'a'.repeat(int(rand, 17_000, 80_000))} HTTP/1.1\r\nHost: x\r\n\r\n`),
    () => Buffer.from(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(int(rand, 17_000, 40_000))}\r\n\r\n`),
    () => Buffer.from(`POST /ui/api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${pick(rand, ['-1', 'abc', '99999999999999999999', '1, 2', ''])}\r\n\r\n{}`),
    () => Buffer.from('POST /ui/api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'),
    () => Buffer.from(`POST /ui/api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${pick(rand, ['zz\r\n{}\r\n0\r\n\r\n', '2\r\n{}0\r\n\r\n', 'ffffffffffffffff\r\n{}\r\n', '-2\r\n{}\r\n0\r\n\r\n'])}`),
    () => Buffer.from(`POST /ui/api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{"password":"\u0000\u00ff\u00fe"}`, 'latin1'),
    () => Buffer.from(`GET http://evil.example${pick(rand, targets)} HTTP/1.1\r\nHost: evil.example\r\n\r\n`),
    () => Buffer.from(`GET ${pick(rand, targets)} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n`), // body never comes: the server must not hang the others
    () => Buffer.from(`${pick(rand, ['GET', 'POST'])} ${pick(rand, targets)} HTTP/1.0\r\n\r\n`),
  ];
  return Array.from({ length: count }, () => pick(rand, lines)());
}

// ------------------------------------------------------------------ transport

function send(agent: http.Agent, port: number, r: FuzzRequest, retried = false): Promise<Outcome> {
  return new Promise((resolve) => {
    let request: http.ClientRequest;
    try {
      request = http.request({ agent: r.parserLevel ? false : agent, host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.body ? { ...r.headers, 'content-length': String(r.body.length) } : r.headers });
    } catch (err) {
      resolve({ request: r, error: `client refused to send: ${(err as Error).message}` });
      return;
    }
    let done = false;
    const finish = (o: Omit<Outcome, 'request'>) => {
      if (done) return;
      done = true;
      resolve({ request: r, ...o });
    };
    request.on('response', (res) => {
      res.on('data', () => undefined);
      res.on('end', () => finish({ status: res.statusCode }));
      res.on('error', () => finish({ status: res.statusCode }));
      res.on('aborted', () => finish({ status: res.statusCode }));
    });
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (done) return;
      // A kept-alive socket the server had just closed: the documented case for retrying once.
      if (!retried && request.reusedSocket && err.code === 'ECONNRESET') {
        done = true;
        void send(agent, port, r, true).then(resolve);
        return;
      }
      finish({ error: err.code ?? err.message });
    });
    request.setTimeout(60_000, () => request.destroy(new Error('timeout')));
    request.end(r.body);
  });
}

/** Sends raw bytes on a new connection; the status of the first response, if any. */
function sendRaw(port: number, bytes: Buffer): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const finish = () => {
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve(m ? { status: Number(m[1]) } : { error: data ? `no status line: ${JSON.stringify(data.slice(0, 80))}` : 'closed without a response' });
    };
    socket.setTimeout(3_000, finish); // a request whose body never comes gets no answer: that is fine
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (/\r\n\r\n/.test(data)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes, () => undefined);
  });
}

async function pool<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await fn(items[i]!);
      }
    }),
  );
  return results;
}

// ------------------------------------------------------------------ state of the box

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function snapshot(configFile: string, dataDir: string): { config: string; users: string; files: string[]; rows: Record<string, number>; tables: Record<string, string> } {
  const db = new Database(path.join(dataDir, DATABASE_FILE), { readonly: true, fileMustExist: true });
  const rows: Record<string, number> = {};
  const tables: Record<string, string> = {};
  try {
    const names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
    for (const name of names) {
      const all = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      const serialised = all.map((row) => JSON.stringify(row, (_k, v: unknown) => (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer' ? Buffer.from((v as { data: number[] }).data).toString('hex') : v))).sort();
      rows[name] = all.length;
      tables[name] = sha256(serialised.join('\n'));
    }
  } finally {
    db.close();
  }
  return {
    config: sha256(readFileSync(configFile)),
    users: sha256(readFileSync(path.join(dataDir, 'users.json'))),
    // The WAL and its index grow and shrink with reads and checkpoints: not content.
    files: readdirSync(dataDir).filter((f) => !/-(wal|shm)$/.test(f)).sort(),
    rows,
    tables,
  };
}

// ------------------------------------------------------------------ the test

describe('HTTP surface fuzz', () => {
  let gateway: Gateway;
  let app: FastifyInstance;
  let port: number;
  let configFile: string;
  let dataDir: string;
  let agent: http.Agent;
  const seen = new Map<string, Seen>();

  beforeAll(async () => {
    const dir = await tempDir('http-fuzz');
    dataDir = path.join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    configFile = path.join(dir, 'gateway.yaml');
    // A configured but disabled camera: its routes answer (lines, zones, calibration) without a detector.
    await writeConfig(
      configFile,
      `# fuzz target\ndata_dir: ${dataDir}\ntls: { mode: "off" } # the fuzzer speaks raw HTTP/1.1\ncameras:\n  - id: door\n    enabled: false\n    source: { kind: rtsp, url: "rtsp://127.0.0.1:1/none" }\n    lines:\n      - { name: entrance, points: [[0.1, 0.5], [0.9, 0.5]] }\n`,
    );
    const users = await Promise.all(
      [
        { ...INSTALLER, role: 'installer' },
        { ...VIEWER, role: 'viewer' },
      ].map(async (u) => ({ username: u.username, role: u.role, hash: await hashPassword(u.password), created_at: '2026-11-23T09:00:00.000Z' })),
    );
    writeFileSync(path.join(dataDir, 'users.json'), `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
    // A frozen clock: no KPI bin closes and no session's last-seen time moves while the fuzzer runs,
    // so any change to the database is a request's doing.
    const t0 = Date.now();
    const ctx = { ...testContext(), now: () => t0 };
    gateway = await Gateway.start({ ctx, configPath: configFile });
    app = buildServer(gateway, ctx);
    app.addHook('onResponse', async (request, reply) => {
      const id = request.headers['x-fuzz-id'];
      if (typeof id === 'string') seen.set(id, { route: request.routeOptions.url, method: request.method, role: request.routeOptions.config?.role, status: reply.statusCode });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  });

  afterAll(async () => {
    agent?.destroy();
    await app?.close();
    await gateway?.stop();
  });

  it(`answers ${HTTP_REQUESTS} + ${RAW_REQUESTS} malformed requests without a 5xx, a crash, a bypass or a write`, { timeout: 600_000 }, async () => {
    const login = async (u: { username: string; password: string }) => {
      const res = await app.inject({ method: 'POST', url: '/ui/api/login', remoteAddress: '10.9.9.9', payload: u });
      expect(res.statusCode).toBe(200);
      return String(res.headers['set-cookie']).split(';')[0]!;
    };
    const cookies = { viewer: await login(VIEWER), installer: await login(INSTALLER) };
    const token = apiTokens(gateway.config)[0]!.token;
    const routes = (app as unknown as { webAuth: WebAuth }).webAuth.routes;
    expect(routes.length).toBeGreaterThan(35);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    gateway.store!.tick();
    const before = snapshot(configFile, dataDir);
    expect(before.rows.web_sessions).toBe(2);

    const rand = seededRandom(SEED);
    const outcomes: Outcome[] = [];
    const health: number[] = [];
    for (let start = 0; start < HTTP_REQUESTS; start += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, HTTP_REQUESTS - start) }, (_, i) => makeRequest(rand, start + i, routes, cookies, token));
      outcomes.push(...(await pool(batch, CONCURRENCY, (r) => send(agent, port, r))));
      const healthz = await send(agent, port, { id: 'health', route: routes[0]!, method: 'GET', path: '/healthz', persona: 'anonymous', headers: {}, kind: 'health' });
      health.push(healthz.status ?? 0);
    }
    const raw = await pool(rawRequests(rand, RAW_REQUESTS, cookies.viewer), CONCURRENCY, (bytes) => sendRaw(port, bytes));
    health.push((await send(agent, port, { id: 'health', route: routes[0]!, method: 'GET', path: '/healthz', persona: 'anonymous', headers: {}, kind: 'health' })).status ?? 0);

    const describeOutcome = (o: Outcome) => {
      const s = seen.get(o.request.id);
      return `${o.request.method} ${o.request.path.slice(0, 160)} [${o.request.persona}, ${o.request.kind}${s?.route ? `, reached ${s.method} ${s.route}` : ''}] → ${o.status ?? o.error}`;
    };
    const tally: Record<string, number> = {};
    for (const o of outcomes) tally[o.status ?? 'no response'] = (tally[o.status ?? 'no response'] ?? 0) + 1;
    const rawTally: Record<string, number> = {};
    for (const r of raw) rawTally[r.status ?? 'no response'] = (rawTally[r.status ?? 'no response'] ?? 0) + 1;
    console.log(`seed ${SEED}: ${outcomes.length} requests over ${routes.length} routes (${outcomes.filter((o) => o.request.parserLevel).length} refused by the HTTP parser), ${raw.length} raw; statuses ${JSON.stringify(tally)}; raw ${JSON.stringify(rawTally)}`);

    // The static app is 503 "not built" by design in a checkout without `npm run build`.
    const built = existsSync(path.join(WEB_ROOT, 'index.html'));
    const notBuilt = (o: Outcome) => !built && o.status === 503 && /^\/(app\.(js|css))?$/.test(seen.get(o.request.id)?.route ?? '');
    const rank: Record<Persona, number> = { anonymous: 0, viewer: 1, installer: 2, token: 2 };
    const problems = {
      serverErrors: outcomes.filter((o) => (o.status ?? 0) >= 500 && !notBuilt(o)).map(describeOutcome),
      rawServerErrors: raw.filter((r) => (r.status ?? 0) >= 500),
      unhealthy: health.filter((s) => s !== 200),
      // Every request got an answer, except bodies over the limit (the server may answer 413 and close
      // before the client has sent them all) and what the HTTP parser refused (400/431 and the socket
      // destroyed at once: the client may see the reset first, and for HEAD cannot read the 400's body).
      unanswered: outcomes.filter((o) => o.status === undefined && o.request.kind !== 'huge' && !o.request.parserLevel).map(describeOutcome),
      // A body over the limit is never taken (GET and HEAD bodies are not read at all).
      hugeAccepted: outcomes.filter((o) => o.request.kind === 'huge' && !['GET', 'HEAD'].includes(o.request.method) && o.status !== undefined && o.status < 400).map(describeOutcome),
      // Nothing that needs a role or the token was served without it, whatever the path looked like
      // (the route a request reached is the server's word, not the path's).
      bypasses: outcomes
        .filter((o) => {
          const s = seen.get(o.request.id);
          if (!s?.route || s.status >= 400) return false;
          const read = s.method === 'GET' || s.method === 'HEAD';
          const needed = s.route.startsWith('/ui/api/') ? (s.role === 'public' ? 0 : s.role === 'viewer' ? 1 : 2) : s.route.startsWith('/api/') ? (read ? 1 : 2) : 0;
          // The token opens /api only; a viewer's cookie never opens an installer's route.
          if (o.request.persona === 'token' && s.route.startsWith('/ui/api/')) return needed > 0;
          return rank[o.request.persona] < needed;
        })
        .map(describeOutcome),
      // No write was accepted: every body is invalid by construction.
      writes: outcomes
        .filter((o) => {
          const s = seen.get(o.request.id);
          return s?.route !== undefined && !['GET', 'HEAD', 'OPTIONS'].includes(s.method) && s.status < 300 && !SIDE_EFFECT_FREE.has(`${s.method} ${s.route}`);
        })
        .map(describeOutcome),
    };
    expect(problems).toEqual({ serverErrors: [], rawServerErrors: [], unhealthy: [], unanswered: [], hugeAccepted: [], bypasses: [], writes: [] });
    expect(health).toHaveLength(Math.ceil(HTTP_REQUESTS / BATCH) + 1);

    // And nothing kept on the box changed.
    const after = snapshot(configFile, dataDir);
    expect(after).toEqual(before);
    // The fuzzer's sessions are intact (nothing logged them out).
    expect((await app.inject({ url: '/ui/api/users', headers: { cookie: cookies.installer } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/ui/api/session', headers: { cookie: cookies.viewer } })).json().user).toEqual({ username: VIEWER.username, role: 'viewer' });
  });
});
