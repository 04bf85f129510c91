/**
 * Decoders for what BLE beacons advertise, as BlueZ reports it: ManufacturerData values (after the
 * 2-byte company id) and ServiceData values. Pure; every decoder returns undefined for data that is
 * not its format rather than throwing.
 */

export const APPLE_COMPANY_ID = 0x004c;
export const EDDYSTONE_SERVICE_UUID = '0000feaa-0000-1000-8000-00805f9b34fb';

export interface IBeacon {
  uuid: string;
  major: number;
  minor: number;
  /** Calibrated RSSI at 1 m (dBm). */
  txPower: number;
}

export function parseIBeacon(data: Uint8Array): IBeacon | undefined {
  // 0x02 (iBeacon) 0x15 (21 bytes follow): uuid[16] major[2] minor[2] tx[1]
  if (data.length !== 23 || data[0] !== 0x02 || data[1] !== 0x15) return undefined;
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  return { uuid: view.subarray(2, 18).toString('hex'), major: view.readUInt16BE(18), minor: view.readUInt16BE(20), txPower: view.readInt8(22) };
}

export type EddystoneFrame =
  | { frame: 'uid'; namespace: string; instance: string; txPower: number }
  | { frame: 'tlm'; batteryMv: number | undefined; temperatureC: number | undefined; advertCount: number; uptimeS: number }
  | { frame: 'other'; type: number };

export function parseEddystone(data: Uint8Array): EddystoneFrame | undefined {
  if (data.length < 1) return undefined;
  const view = Buffer.from(data.buffer, data.byteOffset, data.length);
  switch (view[0]) {
    case 0x00: // UID: tx[1] namespace[10] instance[6] (reserved[2], often omitted)
      if (view.length !== 18 && view.length !== 20) return undefined;
      return { frame: 'uid', txPower: view.readInt8(1), namespace: view.subarray(2, 12).toString('hex'), instance: view.subarray(12, 18).toString('hex') };
    case 0x20: {
      // TLM version 0 (unencrypted): battery mV[2] temperature 8.8 fixed point[2] adv count[4] uptime 0.1 s[4]
      if (view.length !== 14 || view[1] !== 0x00) return undefined;
      const battery = view.readUInt16BE(2);
      const rawTemp = view.readInt16BE(4);
      return {
        frame: 'tlm',
        batteryMv: battery === 0 ? undefined : battery,
        temperatureC: rawTemp === -0x8000 ? undefined : rawTemp / 256,
        advertCount: view.readUInt32BE(6),
        uptimeS: view.readUInt32BE(10) / 10,
      };
    }
    default:
      return { frame: 'other', type: view[0]! };
  }
}

export type FieldType = 'u8' | 'i8' | 'u16le' | 'i16le' | 'u16be' | 'i16be' | 'u32le' | 'i32le' | 'u32be' | 'i32be';

const FIELD_SIZE: Record<FieldType, number> = { u8: 1, i8: 1, u16le: 2, i16le: 2, u16be: 2, i16be: 2, u32le: 4, i32le: 4, u32be: 4, i32be: 4 };

/** One numeric field of a manufacturer-data sensor (Ruuvi, Xiaomi-style thermometers, custom tags). */
export function readField(data: Uint8Array, offset: number, type: FieldType, scale: number): number | undefined {
  if (offset + FIELD_SIZE[type] > data.length) return undefined;
  const v = Buffer.from(data.buffer, data.byteOffset, data.length);
  const raw = {
    u8: () => v.readUInt8(offset),
    i8: () => v.readInt8(offset),
    u16le: () => v.readUInt16LE(offset),
    i16le: () => v.readInt16LE(offset),
    u16be: () => v.readUInt16BE(offset),
    i16be: () => v.readInt16BE(offset),
    u32le: () => v.readUInt32LE(offset),
    i32le: () => v.readInt32LE(offset),
    u32be: () => v.readUInt32BE(offset),
    i32be: () => v.readInt32BE(offset),
  }[type]();
  // Rounded to the scale's precision: 2175 × 0.01 is 21.75, not 21.750000000000004.
  return Number((raw * scale).toPrecision(12));
}
