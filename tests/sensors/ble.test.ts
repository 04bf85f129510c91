/**
 * BLE through BlueZ's D-Bus API, with python3-dbusmock's BlueZ on a private bus standing in for the
 * radio (the only mock in the sensor tests: there is no Bluetooth hardware here). Staff badges,
 * zone beacons, Eddystone telemetry and a manufacturer-data sensor become stored events; strangers'
 * devices are dropped; presence follows RSSI with hysteresis and times out on silence; the adapter
 * vanishing and bluetoothd restarting are survived; no radio address reaches the database or the log.
 *
 * No wall-clock budgets (a busy CI machine breaks them): every wait is for an observable outcome,
 * with a timeout that only a real failure reaches. The gateway's clock is the test's: the absence
 * timeout is long enough that a stalled machine cannot trigger it by accident, and the test moves
 * the clock past it when it wants a silent beacon to time out. The latency targets (presence
 * within 5 s) are a matter of absent_after_s and the 500 ms presence tick; the timing arithmetic
 * is checked on given times in bleParsers.test.ts.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/kpi/events.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { createMetrics } from '../../src/gateway/metrics.js';
import { BluezMock, hasBluezMock } from '../helpers/bluezMock.js';
import { tempDir, until } from '../helpers/gatewayHarness.js';

const BADGE_UUID = 'e2c56db5-dffb-48d2-b060-d0f5a71096e0';
const ibeacon = (uuid: string, major: number, minor: number): Buffer =>
  Buffer.concat([Buffer.from([0x02, 0x15]), Buffer.from(uuid.replace(/-/g, ''), 'hex'), Buffer.from([major >> 8, major & 255, minor >> 8, minor & 255, 0xc5])]);
const EDDYSTONE = '0000feaa-0000-1000-8000-00805f9b34fb';
const eddystoneUid = Buffer.from('00e8' + '00112233445566778899' + 'aabbccddeeff' + '0000', 'hex');
// TLM: version 0, 2950 mV, 21.5 °C, 1000 adverts, uptime 360.0 s
const eddystoneTlm = Buffer.from('2000' + '0b86' + '1580' + '000003e8' + '00000e10', 'hex');

const ADDRESSES = ['AA:BB:CC:DD:EE:01', 'AA:BB:CC:DD:EE:02', 'AA:BB:CC:DD:EE:03', 'AA:BB:CC:DD:EE:04'];
const STRANGER = `/org/bluez/hci0/dev_${ADDRESSES[1]!.replace(/:/g, '_')}`;
const BADGE = `/org/bluez/hci0/dev_${ADDRESSES[0]!.replace(/:/g, '_')}`;
/** Waits for outcomes, not for time: generous, reached only when something is broken. */
const WAIT_MS = 30_000;
/** Silence this long (gateway clock) is a departure; far beyond any stall of a busy machine. */
const ABSENT_AFTER_S = 60;

describe.skipIf(!hasBluezMock())('BLE beacons, staff badges and sensors over BlueZ D-Bus', () => {
  let bluez: BluezMock;
  let gateway: Gateway;
  let dataDir: string;
  const logLines: string[] = [];
  const metrics = createMetrics();
  /** The gateway's clock: real time plus what the test has fast-forwarded. */
  let skewMs = 0;
  const now = (): number => Date.now() + skewMs;

  beforeAll(async () => {
    bluez = await BluezMock.start();
    await bluez.addAdapter('hci0');
    dataDir = await tempDir('ble');
    const log = pino(
      { level: 'debug' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
    );
    gateway = await Gateway.start({
      ctx: { log, metrics, now },
      rawConfig: {
        data_dir: dataDir,
        sensors: {
          ble: {
            presence: { enter_rssi: -80, exit_rssi: -90, absent_after_s: ABSENT_AFTER_S, smoothing: 0.5 },
            staff_badges: [{ badge: 'staff-01', ibeacon: { uuid: BADGE_UUID, major: 1, minor: 2 } }],
            beacons: [{ id: 'display-1', zone: 'promo', eddystone: { namespace: '00112233445566778899', instance: 'aabbccddeeff' } }],
            sensors: [{ id: 'freezer', company_id: 0x0499, data_prefix: '05', fields: [{ name: 'temperature', offset: 1, type: 'i16be', scale: 0.005, unit: '°C' }], min_interval_s: 0 }],
          },
        },
      },
    });
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'up', WAIT_MS, 'BLE scanning');
  });

  afterAll(async () => {
    await gateway?.stop();
    await bluez?.stop();
  });

  const events = (type: StoreEvent['type']): StoreEvent[] => {
    gateway.store!.events.flush();
    return gateway.store!.events.query({ from: 0, to: now() + 60_000, types: [type], limit: 1000 }).map((e) => e.event);
  };
  const adverts = async (result: 'matched' | 'ignored'): Promise<number> => (await metrics.bleAdverts.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  /**
   * Returns once the gateway has handled everything advertised so far: a stranger's advertisement,
   * sent last, has been counted as ignored (D-Bus delivers one sender's signals in order).
   */
  const caughtUp = async (): Promise<void> => {
    const ignored = await adverts('ignored');
    await bluez.advertise(STRANGER, -40, { company: 0x004c, data: ibeacon(BADGE_UUID, 9, 9) });
    await until(() => adverts('ignored'), (n) => n > ignored, WAIT_MS, 'the gateway to catch up with the adverts');
  };

  it('reports a staff badge arriving and drops devices that are not on the allow-list', async () => {
    const stranger = await bluez.addDevice('hci0', ADDRESSES[1]!, 'someones-phone');
    expect(stranger).toBe(STRANGER);
    await bluez.advertise(stranger, -40, { company: 0x004c, data: ibeacon(BADGE_UUID, 9, 9) });
    const badge = await bluez.addDevice('hci0', ADDRESSES[0]!, 'badge');
    expect(badge).toBe(BADGE);
    await bluez.advertise(badge, -60, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    await until(() => events('staff_presence'), (e) => e.length >= 1, WAIT_MS, 'staff badge presence');
    await caughtUp();
    const arrivals = events('staff_presence');
    expect(arrivals).toHaveLength(1); // the stranger's iBeacon (same UUID, other major/minor) is not a badge
    expect(arrivals[0]).toMatchObject({ type: 'staff_presence', badge: 'staff-01', present: true });
    expect(await adverts('ignored')).toBeGreaterThan(0);
    expect(gateway.sensors!.status().ble.present).toEqual(['staff-01']);
  });

  it('smooths RSSI with hysteresis: one weak sample is not a departure, a run of them is', async () => {
    await bluez.advertise(BADGE, -95, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) }); // avg -77.5: still here
    await bluez.advertise(BADGE, -70, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    await caughtUp(); // both samples handled, not merely sent
    expect(events('staff_presence')).toHaveLength(1);
    expect(gateway.sensors!.status().ble.present).toEqual(['staff-01']);
    for (const rssi of [-100, -101, -100, -102]) await bluez.advertise(BADGE, rssi, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    await until(() => events('staff_presence'), (e) => e.length >= 2, WAIT_MS, 'badge leaving');
    await caughtUp();
    // Weak samples, not silence: the absence timeout is far off. One departure, no flapping.
    const changes = events('staff_presence');
    expect(changes).toHaveLength(2);
    expect(changes[1]).toMatchObject({ badge: 'staff-01', present: false });
    expect(gateway.sensors!.status().ble.present).toEqual([]);
  });

  it('places a zone beacon, reads its Eddystone telemetry and a manufacturer-data sensor, and times out a silent beacon', async () => {
    const beacon = await bluez.addDevice('hci0', ADDRESSES[2]!, 'display-beacon');
    await bluez.advertise(beacon, -65, undefined, { uuid: EDDYSTONE, data: eddystoneUid });
    await until(() => events('beacon_presence'), (e) => e.length >= 1, WAIT_MS, 'beacon presence');
    expect(events('beacon_presence')[0]).toMatchObject({ beacon: 'display-1', zone: 'promo', present: true });
    // The same device's TLM frame: recognised through its earlier UID frame.
    const beforeLastAdvert = now();
    await bluez.advertise(beacon, -66, undefined, { uuid: EDDYSTONE, data: eddystoneTlm });
    const freezer = await bluez.addDevice('hci0', ADDRESSES[3]!, 'freezer-tag');
    await bluez.advertise(freezer, -75, { company: 0x0499, data: Buffer.from('05fe0c', 'hex') }); // 0xfe0c = -500 → -2.5 °C
    await until(() => events('sensor_reading'), (e) => e.length >= 3, WAIT_MS, 'telemetry and sensor readings');
    await caughtUp();
    const readings = events('sensor_reading');
    expect(readings).toHaveLength(3);
    expect(readings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sensor: 'display-1.battery', value: 2950, unit: 'mV' }),
        expect.objectContaining({ sensor: 'display-1.temperature', value: 21.5, unit: '°C' }),
        expect.objectContaining({ sensor: 'freezer.temperature', value: -2.5, unit: '°C' }),
      ]),
    );
    // Silence shorter than absent_after_s: still here. Then the clock passes it: gone, by the
    // presence tick alone (nothing is advertised), and not before absent_after_s of silence.
    expect(events('beacon_presence')).toHaveLength(1);
    expect(gateway.sensors!.status().ble.present).toEqual(['display-1']);
    skewMs += ABSENT_AFTER_S * 1000;
    const left = await until(() => events('beacon_presence'), (e) => e.length >= 2, WAIT_MS, 'beacon timing out');
    expect(left).toHaveLength(2);
    expect(left[1]).toMatchObject({ beacon: 'display-1', present: false });
    expect(left[1]!.ts - beforeLastAdvert).toBeGreaterThanOrEqual(ABSENT_AFTER_S * 1000);
    expect(gateway.sensors!.status().ble.present).toEqual([]);
  });

  it('survives the adapter vanishing and bluetoothd restarting', async () => {
    await bluez.removeAdapter('hci0');
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'down', WAIT_MS, 'radio down');
    expect((await metrics.bleAdapterUp.get()).values[0]!.value).toBe(0);
    await bluez.addAdapter('hci0');
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'up', WAIT_MS, 'radio back');

    await bluez.stopBluez();
    await until(() => gateway.sensors!.status().ble, (s) => s.state === 'down' && s.reason === 'bluetoothd stopped', WAIT_MS, 'bluetoothd gone');
    await bluez.startBluez();
    await bluez.addAdapter('hci0');
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'up', WAIT_MS, 'bluetoothd back');
    const before = events('staff_presence').length;
    const badge = await bluez.addDevice('hci0', ADDRESSES[0]!, 'badge');
    await bluez.advertise(badge, -55, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    const after = await until(() => events('staff_presence'), (e) => e.length >= before + 1, WAIT_MS, 'badge after restart');
    expect(after[before]).toMatchObject({ badge: 'staff-01', present: true });
  });

  it('keeps no radio address: not in the database file, not in the log', async () => {
    gateway.store!.events.flush();
    gateway.store!.db.pragma('wal_checkpoint(TRUNCATE)');
    const db = readFileSync(gateway.store!.file).toString('latin1');
    const log = logLines.join('');
    expect(log).toContain('BLE scanning');
    for (const address of ADDRESSES) {
      for (const form of [address, address.replace(/:/g, '_'), address.replace(/:/g, '').toLowerCase()]) {
        expect(db.includes(form)).toBe(false);
        expect(log.includes(form)).toBe(false);
      }
    }
  });
});
