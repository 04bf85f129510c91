/**
 * BLE through BlueZ's D-Bus API, with python3-dbusmock's BlueZ on a private bus standing in for the
 * radio (the only mock in the sensor tests: there is no Bluetooth hardware here). Staff badges,
 * zone beacons, Eddystone telemetry and a manufacturer-data sensor become stored events; strangers'
 * devices are dropped; presence changes are reported within 5 s; the adapter vanishing and
 * bluetoothd restarting are survived; no radio address reaches the database or the log.
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

describe.skipIf(!hasBluezMock())('BLE beacons, staff badges and sensors over BlueZ D-Bus', () => {
  let bluez: BluezMock;
  let gateway: Gateway;
  let dataDir: string;
  const logLines: string[] = [];
  const metrics = createMetrics();

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
      ctx: { log, metrics, now: Date.now },
      rawConfig: {
        data_dir: dataDir,
        sensors: {
          ble: {
            presence: { enter_rssi: -80, exit_rssi: -90, absent_after_s: 2, smoothing: 0.5 },
            staff_badges: [{ badge: 'staff-01', ibeacon: { uuid: BADGE_UUID, major: 1, minor: 2 } }],
            beacons: [{ id: 'display-1', zone: 'promo', eddystone: { namespace: '00112233445566778899', instance: 'aabbccddeeff' } }],
            sensors: [{ id: 'freezer', company_id: 0x0499, data_prefix: '05', fields: [{ name: 'temperature', offset: 1, type: 'i16be', scale: 0.005, unit: '°C' }], min_interval_s: 0 }],
          },
        },
      },
    });
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'up', 10_000, 'BLE scanning');
  }, 30_000);

  afterAll(async () => {
    await gateway?.stop();
    await bluez?.stop();
  });

  const events = (type: StoreEvent['type']): StoreEvent[] => {
    gateway.store!.events.flush();
    return gateway.store!.events.query({ from: 0, to: Date.now() + 60_000, types: [type], limit: 1000 }).map((e) => e.event);
  };

  it('reports a staff badge arriving within 5 s and drops devices that are not on the allow-list', async () => {
    const stranger = await bluez.addDevice('hci0', ADDRESSES[1]!, 'someones-phone');
    await bluez.advertise(stranger, -40, { company: 0x004c, data: ibeacon(BADGE_UUID, 9, 9) });
    const badge = await bluez.addDevice('hci0', ADDRESSES[0]!, 'badge');
    const sent = Date.now();
    await bluez.advertise(badge, -60, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    const [arrival] = await until(() => events('staff_presence'), (e) => e.length === 1, 5_000, 'staff badge presence');
    expect(arrival).toMatchObject({ type: 'staff_presence', badge: 'staff-01', present: true });
    expect(Date.now() - sent).toBeLessThan(5_000);
    const adverts = (await metrics.bleAdverts.get()).values;
    expect(adverts.find((v) => v.labels.result === 'ignored')!.value).toBeGreaterThan(0);
    expect(gateway.sensors!.status().ble.present).toEqual(['staff-01']);
  });

  it('smooths RSSI with hysteresis: one weak sample is not a departure, a run of them is', async () => {
    const badge = `/org/bluez/hci0/dev_${ADDRESSES[0]!.replace(/:/g, '_')}`;
    await bluez.advertise(badge, -95, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) }); // avg -77.5: still here
    await bluez.advertise(badge, -70, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    await new Promise((r) => setTimeout(r, 300));
    expect(events('staff_presence')).toHaveLength(1);
    const sent = Date.now();
    for (const rssi of [-100, -101, -100, -102]) await bluez.advertise(badge, rssi, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    const changes = await until(() => events('staff_presence'), (e) => e.length === 2, 5_000, 'badge leaving');
    expect(changes[1]).toMatchObject({ badge: 'staff-01', present: false });
    expect(Date.now() - sent).toBeLessThan(5_000);
  });

  it('places a zone beacon, reads its Eddystone telemetry and a manufacturer-data sensor, and times out a silent beacon', async () => {
    const beacon = await bluez.addDevice('hci0', ADDRESSES[2]!, 'display-beacon');
    await bluez.advertise(beacon, -65, undefined, { uuid: EDDYSTONE, data: eddystoneUid });
    await until(() => events('beacon_presence'), (e) => e.length === 1, 5_000, 'beacon presence');
    expect(events('beacon_presence')[0]).toMatchObject({ beacon: 'display-1', zone: 'promo', present: true });
    // The same device's TLM frame: recognised through its earlier UID frame.
    await bluez.advertise(beacon, -66, undefined, { uuid: EDDYSTONE, data: eddystoneTlm });
    const freezer = await bluez.addDevice('hci0', ADDRESSES[3]!, 'freezer-tag');
    await bluez.advertise(freezer, -75, { company: 0x0499, data: Buffer.from('05fe0c', 'hex') }); // 0xfe0c = -500 → -2.5 °C
    const readings = await until(() => events('sensor_reading'), (e) => e.length === 3, 5_000, 'telemetry and sensor readings');
    expect(readings).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sensor: 'display-1.battery', value: 2950, unit: 'mV' }),
        expect.objectContaining({ sensor: 'display-1.temperature', value: 21.5, unit: '°C' }),
        expect.objectContaining({ sensor: 'freezer.temperature', value: -2.5, unit: '°C' }),
      ]),
    );
    // Silence: gone after absent_after_s (2 s), reported within 5 s of the last advertisement.
    const lastHeard = Date.now();
    const left = await until(() => events('beacon_presence'), (e) => e.length === 2, 5_000, 'beacon timing out');
    expect(left[1]).toMatchObject({ beacon: 'display-1', present: false });
    expect(Date.now() - lastHeard).toBeLessThan(5_000);
  });

  it('survives the adapter vanishing and bluetoothd restarting', async () => {
    await bluez.removeAdapter('hci0');
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'down', 5_000, 'radio down');
    expect((await metrics.bleAdapterUp.get()).values[0]!.value).toBe(0);
    await bluez.addAdapter('hci0');
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'up', 10_000, 'radio back');

    await bluez.stopBluez();
    await until(() => gateway.sensors!.status().ble, (s) => s.state === 'down' && s.reason === 'bluetoothd stopped', 5_000, 'bluetoothd gone');
    await bluez.startBluez();
    await bluez.addAdapter('hci0');
    await until(() => gateway.sensors!.status().ble.state, (s) => s === 'up', 10_000, 'bluetoothd back');
    const before = events('staff_presence').length;
    const badge = await bluez.addDevice('hci0', ADDRESSES[0]!, 'badge');
    await bluez.advertise(badge, -55, { company: 0x004c, data: ibeacon(BADGE_UUID, 1, 2) });
    await until(() => events('staff_presence'), (e) => e.length === before + 1, 5_000, 'badge after restart');
    expect(events('staff_presence').at(-1)).toMatchObject({ present: true });
  }, 40_000);

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
