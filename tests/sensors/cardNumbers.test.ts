/**
 * Dead letters never keep card data: a till payload the POS profile refuses, sent by a real MQTT
 * client through the embedded broker, lands in the dead-letter table with every card-number-like run
 * of digits masked (last 4 kept), its rejection code and the rest of the payload intact; neither the
 * SQLite files nor the log hold the card number.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayContext } from '../../src/gateway/context.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { maskCardNumbers, maskCardNumbersInBytes } from '../../src/sensors/cardNumbers.js';
import { tempDir } from '../helpers/gatewayHarness.js';

const PAN = '4111111111111111';
const MASTERCARD = '5500000000000004';
const DEVICE = { username: 'till-device', password: 'till-secret-1' };

/** A run of 12 or more digits (single spaces or dashes between them allowed), or a piece of the test cards. */
const hasPan = (text: string): boolean => /\d(?:[ -]?\d){11,}/.test(text) || text.includes('411111111') || text.includes('550000000');

describe('card number masking', () => {
  it('masks runs of 12–19 digits, with single spaces or dashes, keeping the last 4 and the length', () => {
    expect(maskCardNumbers(PAN)).toBe('************1111');
    expect(maskCardNumbers('card 4111 1111 1111 1111 ok')).toBe('card **** **** **** 1111 ok');
    expect(maskCardNumbers('4111-1111-1111-1111')).toBe('****-****-****-1111');
    expect(maskCardNumbers('amex 3782 822463 10005.')).toBe('amex **** ****** *0005.');
    expect(maskCardNumbers('x123456789012y')).toBe('x********9012y'); // 12 digits
    expect(maskCardNumbers('4111111111111111111')).toBe('***************1111'); // 19 digits
    // Over 19 digits: a card number could be anywhere in it, nothing is kept.
    expect(maskCardNumbers('41111111111111111111 2')).toBe('******************** *');
    // Shorter runs are not card numbers: amounts, counts, epoch seconds, dates, phone numbers.
    for (const kept of ['{"amount": 42.5, "items": 3, "ts": 1763805600}', '2026-11-22T10:00:00Z', '+33 6 12 34 56 78', '12345678901', 'till-2 T-1029']) {
      expect(maskCardNumbers(kept)).toBe(kept);
    }
    // Two spaces (or any other character) end a run.
    expect(maskCardNumbers('123456  123456')).toBe('123456  123456');
  });

  it('masks bytes in place whatever the encoding, keeping every other byte', () => {
    const binary = Buffer.concat([Buffer.from([0xff, 0x00, 0xc3]), Buffer.from(`é ${PAN} `), Buffer.from([0x80, 0xfe])]);
    const masked = Buffer.from(maskCardNumbersInBytes(binary));
    expect(masked.length).toBe(binary.length);
    expect(masked.toString('latin1')).not.toContain(PAN);
    expect(masked.includes(Buffer.from('************1111'))).toBe(true);
    expect(masked.subarray(0, 3)).toEqual(binary.subarray(0, 3));
    expect(masked.subarray(-2)).toEqual(binary.subarray(-2));
    expect(masked.includes(Buffer.from('é'))).toBe(true);
    const clean = Buffer.from('{"amount": 12}');
    expect(maskCardNumbersInBytes(clean)).toBe(clean);
  });
});

describe('dead letters through the real ingest path', () => {
  const gateways: Gateway[] = [];
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.stop()));
  });

  it('keep the rejection code and the payload, never the card number, in SQLite or in the log', async () => {
    const dataDir = await tempDir('dead-letters-pan');
    const lines: string[] = [];
    const ctx: GatewayContext = {
      // No timestamps: epoch milliseconds are 13 digits.
      log: pino({ level: 'info', timestamp: false }, new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) })),
      metrics: createMetrics(),
      now: Date.now,
    };
    const gateway = await Gateway.start({
      ctx,
      rawConfig: {
        data_dir: dataDir,
        tls: { mode: 'off' }, // plain mqtt:// (MQTTS is tests/tls)
        store_id: 'paris-01',
        sensors: { broker: { mode: 'embedded', host: '127.0.0.1', port: 0, users: [DEVICE] }, mqtt: [{ id: 'till', topic: 'store/pos/+', profile: 'pos', currency: 'EUR' }] },
      },
    });
    gateways.push(gateway);
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${gateway.sensors!.brokerPort!}`, { ...DEVICE, reconnectPeriod: 0 });
    try {
      // The card number as the amount: the refusal's reason quotes the number.
      await device.publishAsync('store/pos/till-2', JSON.stringify({ amount: Number(PAN), register: 'till-2' }), { qos: 1 });
      // A refund (refused: a negative amount is not a sale) with the card read in several shapes.
      const refund = {
        amount: -19.9,
        register: 'till-2',
        id: 'T-1029',
        items: 2,
        card: '4111 1111 1111 1111',
        card_dashed: '4111-1111-1111-1111',
        track: `;${MASTERCARD}=2512101?`,
        note: 'receipt 42, loyalty 12345678901',
      };
      await device.publishAsync('store/pos/till-2', JSON.stringify(refund), { qos: 1 });
      // Not JSON: the parser's message quotes the text around the error.
      await device.publishAsync('store/pos/till-2', `{"card": x${PAN}}`, { qos: 1 });
    } finally {
      await device.endAsync();
    }

    // The PUBACKs came back: the refusals are recorded. Write them to the file, then read the rows
    // straight from SQLite (another connection, as an auditor would).
    const store = gateway.store!;
    store.deadLetters.flush();
    const db = new Database(store.file, { readonly: true });
    const rows = db.prepare('SELECT code, reason, payload, payload_bytes, sensor, topic FROM dead_letters ORDER BY id').all() as { code: string; reason: string; payload: Buffer; payload_bytes: number; sensor: string; topic: string }[];
    db.close();
    expect(rows.map((r) => r.code)).toEqual(['out_of_range', 'out_of_range', 'not_json']);
    for (const row of rows) {
      expect(hasPan(row.payload.toString('utf8')), row.payload.toString('utf8')).toBe(false);
      expect(hasPan(row.reason), row.reason).toBe(false);
      expect(row).toMatchObject({ sensor: 'till', topic: 'store/pos/till-2' });
      expect(row.payload.length).toBe(row.payload_bytes);
    }

    // The number: masked where it stood, in the payload and in the reason that quotes it.
    expect(rows[0]!.payload.toString('utf8')).toBe('{"amount":************1111,"register":"till-2"}');
    expect(rows[0]!.reason).toBe('"amount" is ************1111, above 1000000');
    // The refund: everything but the card digits is kept, still valid JSON.
    expect(JSON.parse(rows[1]!.payload.toString('utf8'))).toEqual({
      amount: -19.9,
      register: 'till-2',
      id: 'T-1029',
      items: 2,
      card: '**** **** **** 1111',
      card_dashed: '****-****-****-1111',
      track: ';************0004=2512101?',
      note: 'receipt 42, loyalty 12345678901',
    });
    expect(rows[1]!.reason).toMatch(/negative amount/);
    // Not JSON: kept masked, the reason without the parser's excerpt of the text.
    expect(rows[2]!.payload.toString('utf8')).toBe('{"card": x************1111}');
    expect(rows[2]!.reason).toMatch(/^payload is not JSON: Unexpected token 'x'/);
    // The API shows the same masked rows.
    expect(store.deadLetters.list().some((l) => hasPan(l.payload) || hasPan(l.reason))).toBe(false);

    // Not in the SQLite files at all (the database and its write-ahead log).
    for (const file of [store.file, `${store.file}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file).toString('latin1');
      for (const pan of [PAN, '4111 1111 1111 1111', '4111-1111-1111-1111', MASTERCARD]) expect(bytes.includes(pan), `${pan} in ${file}`).toBe(false);
    }

    // The log says what was refused (one line per sensor and code), with the code, but no card number.
    const refused = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'sensor message refused (kept in dead letters)');
    expect(refused.map((l) => [l.code, l.reason])).toEqual([
      ['out_of_range', '"amount" is ************1111, above 1000000'],
      ['not_json', expect.stringMatching(/^payload is not JSON/)],
    ]);
    for (const line of lines) expect(hasPan(line), line).toBe(false);
  });
});
