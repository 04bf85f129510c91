/** Advertisement decoders and the presence hysteresis, on bytes and times given by hand. */
import { describe, expect, it } from 'vitest';
import { parseEddystone, parseIBeacon, readField } from '../../src/sensors/ble/advertisements.js';
import { PresenceTracker } from '../../src/sensors/ble/presence.js';

describe('advertisement decoders', () => {
  it('decodes an iBeacon and refuses other Apple frames', () => {
    const frame = Buffer.from('0215' + 'e2c56db5dffb48d2b060d0f5a71096e0' + '0001' + '0102' + 'c5', 'hex');
    expect(parseIBeacon(frame)).toEqual({ uuid: 'e2c56db5dffb48d2b060d0f5a71096e0', major: 1, minor: 258, txPower: -59 });
    expect(parseIBeacon(frame.subarray(0, 22))).toBeUndefined();
    expect(parseIBeacon(Buffer.from('1005031c', 'hex'))).toBeUndefined(); // an AirPods/Nearby frame
  });

  it('decodes Eddystone UID (with or without the reserved bytes) and TLM', () => {
    expect(parseEddystone(Buffer.from('00e8' + '00112233445566778899' + 'aabbccddeeff', 'hex'))).toEqual({ frame: 'uid', txPower: -24, namespace: '00112233445566778899', instance: 'aabbccddeeff' });
    expect(parseEddystone(Buffer.from('00e8' + '00112233445566778899' + 'aabbccddeeff' + '0000', 'hex'))).toMatchObject({ frame: 'uid' });
    expect(parseEddystone(Buffer.from('2000' + '0b86' + 'fe80' + '000003e8' + '00000e10', 'hex'))).toEqual({ frame: 'tlm', batteryMv: 2950, temperatureC: -1.5, advertCount: 1000, uptimeS: 360 });
    // Battery 0 and temperature 0x8000 mean "not supported".
    expect(parseEddystone(Buffer.from('2000' + '0000' + '8000' + '00000001' + '00000001', 'hex'))).toMatchObject({ batteryMv: undefined, temperatureC: undefined });
    expect(parseEddystone(Buffer.from('2001' + '00'.repeat(12), 'hex'))).toBeUndefined(); // encrypted TLM
    expect(parseEddystone(Buffer.from('10', 'hex'))).toEqual({ frame: 'other', type: 0x10 });
    expect(parseEddystone(Buffer.alloc(0))).toBeUndefined();
  });

  it('reads scaled fields and refuses to read past the end', () => {
    const data = Buffer.from('05fe0c1234', 'hex');
    expect(readField(data, 1, 'i16be', 0.005)).toBe(-2.5);
    expect(readField(data, 3, 'u16le', 1)).toBe(0x3412);
    expect(readField(data, 4, 'u16le', 1)).toBeUndefined();
  });
});

describe('presence with hysteresis', () => {
  const config = { enter_rssi: -80, exit_rssi: -90, absent_after_s: 4, smoothing: 0.5 };

  it('enters above the enter threshold and leaves only below the exit threshold', () => {
    const p = new PresenceTracker(() => config);
    expect(p.observe('b', -85, 0)).toBeUndefined(); // between the thresholds: not yet here
    expect(p.observe('b', -70, 1000)).toMatchObject({ present: true, ts: 1000 }); // avg -77.5
    expect(p.observe('b', -95, 2000)).toBeUndefined(); // avg -86.25: in the gap, still here
    expect(p.observe('b', -99, 3000)).toMatchObject({ present: false, ts: 3000 }); // avg -92.6
  });

  it('times out a silent beacon, but not while the radio was away', () => {
    const p = new PresenceTracker(() => config);
    p.observe('b', -60, 0);
    expect(p.tick(3000)).toEqual([]);
    p.resume(3500); // the radio came back at 3.5 s: the beacon gets a full 4 s from then
    expect(p.tick(5000)).toEqual([]);
    expect(p.tick(7500)).toEqual([{ key: 'b', present: false, ts: 7500, rssi: undefined }]);
    expect(p.present()).toEqual([]);
  });
});
