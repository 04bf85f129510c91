/**
 * The `sensors:` part of the gateway configuration: the MQTT broker the sensors publish to, one entry
 * per MQTT sensor (topic + profile), and BLE beacons, staff badges and advertising sensors.
 */
import { z } from 'zod';

const sensorId = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'use lower-case letters, digits, ., - and _ (it becomes a metric label)');

/** A topic filter; + and # are allowed so one entry can take a family of devices' topics. */
const topicFilter = z
  .string()
  .min(1)
  .refine((t) => t.split('/').every((level, i, all) => (level.includes('+') ? level === '+' : true) && (level.includes('#') ? level === '#' && i === all.length - 1 : true)), 'invalid MQTT topic filter (+ and # take a whole level, # only at the end)');

const fieldPath = z.string().regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/, 'a field name, or a dotted path such as data.temperature');

const common = {
  id: sensorId,
  topic: topicFilter,
  /** The payload field with the device's reading time; the receive time when absent. */
  time_field: fieldPath.default('ts'),
};

const doorCounter = z
  .object({
    ...common,
    profile: z.literal('door_counter'),
    /** cumulative: totals since the counter started (resets and wrap-around handled); delta: people since the last message. */
    counting: z.enum(['cumulative', 'delta']).default('cumulative'),
    in_field: fieldPath.default('in'),
    out_field: fieldPath.default('out'),
    /** The counter's modulus (65536 for a 16-bit counter): a smaller value after a large one is a wrap, not a reset. */
    wrap_at: z.number().int().min(2).optional(),
    /** More people than this in one reading is a fault (a replaced counter), not traffic. */
    max_per_reading: z.number().int().min(1).default(10_000),
    /** Counters mounted the other way round. */
    swap_directions: z.boolean().default(false),
  })
  .strict();

const feedbackTerminal = z
  .object({
    ...common,
    profile: z.literal('feedback'),
    /** Buttons or score range: 1 (worst) … scale (best). */
    scale: z.number().int().min(2).max(10).default(4),
    /** The zone the terminal stands in (feedback per zone). */
    zone: z.string().min(1).optional(),
  })
  .strict();

const posTerminal = z
  .object({
    ...common,
    profile: z.literal('pos'),
    /** The register when the payload names none. */
    register: z.string().min(1).optional(),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR').optional(),
    max_amount: z.number().positive().default(1_000_000),
  })
  .strict();

const numericSensor = z
  .object({
    ...common,
    profile: z.literal('numeric'),
    /** Where the value is: a field or dotted path; a bare-number payload is also accepted. */
    field: fieldPath.default('value'),
    unit: z.string().max(16).optional(),
    /** Readings outside [min, max] are faults and go to the dead letters. */
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict();

export const mqttSensorSchema = z.discriminatedUnion('profile', [doorCounter, feedbackTerminal, posTerminal, numericSensor]);

const embeddedBroker = z
  .object({
    mode: z.literal('embedded'),
    host: z.string().default('0.0.0.0'),
    /** MQTTS when the gateway's tls is on (default 8883), plain MQTT when tls.mode is off (default 1883). */
    port: z.number().int().min(0).max(65535).optional(),
    /** An extra plain-MQTT listener next to MQTTS, for devices without TLS (off unless set; 1883 is usual). */
    plain_port: z.number().int().min(0).max(65535).optional(),
    /** Sensor accounts (use ${ENV} for passwords). Without any, one is generated in data_dir/mqtt-password. */
    users: z.array(z.object({ username: z.string().min(1), password: z.string().min(8, 'at least 8 characters') }).strict()).default([]),
  })
  .strict();

const externalBroker = z
  .object({
    mode: z.literal('external'),
    url: z.string().regex(/^(mqtts?|wss?|tcp|ssl):\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://'),
    username: z.string().optional(),
    password: z.string().optional(),
    ca: z.string().optional(),
    /** A fixed client id with a persistent session: the broker keeps QoS 1 readings while the gateway is down. */
    client_id: z.string().min(1).optional(),
  })
  .strict();

const ibeaconId = z
  .object({
    uuid: z
      .string()
      .regex(/^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/, 'a 128-bit UUID')
      .transform((u) => u.replace(/-/g, '').toLowerCase()),
    major: z.number().int().min(0).max(65535),
    minor: z.number().int().min(0).max(65535),
  })
  .strict();

const eddystoneId = z
  .object({
    namespace: z.string().regex(/^[0-9a-fA-F]{20}$/, '10 bytes in hex').transform((s) => s.toLowerCase()),
    instance: z.string().regex(/^[0-9a-fA-F]{12}$/, '6 bytes in hex').transform((s) => s.toLowerCase()),
  })
  .strict();

/** How a beacon or badge is recognised: by what it advertises, never by its (often random) address. */
const beaconIdentity = {
  ibeacon: ibeaconId.optional(),
  eddystone: eddystoneId.optional(),
};
const oneIdentity = (b: { ibeacon?: unknown; eddystone?: unknown }) => (b.ibeacon === undefined) !== (b.eddystone === undefined);
const identityMessage = { message: 'give exactly one of ibeacon or eddystone' };

const beaconSchema = z
  .object({ id: sensorId, zone: z.string().min(1).optional(), ...beaconIdentity })
  .strict()
  .refine(oneIdentity, identityMessage);

const staffBadgeSchema = z
  .object({ badge: sensorId, ...beaconIdentity })
  .strict()
  .refine(oneIdentity, identityMessage);

const advertFieldSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9_]+$/),
    /** Byte offset in the manufacturer data (after the 2-byte company id, as BlueZ reports it). */
    offset: z.number().int().min(0).max(255),
    type: z.enum(['u8', 'i8', 'u16le', 'i16le', 'u16be', 'i16be', 'u32le', 'i32le', 'u32be', 'i32be']),
    scale: z.number().default(1),
    unit: z.string().max(16).optional(),
  })
  .strict();

const advertSensorSchema = z
  .object({
    id: sensorId,
    /** Bluetooth SIG company id (0x0499 = Ruuvi). */
    company_id: z.number().int().min(0).max(0xffff),
    /** Only manufacturer data starting with these bytes (hex): the device's format/version byte. */
    data_prefix: z.string().regex(/^([0-9a-fA-F]{2})*$/).default(''),
    /** This one device's address (checked in memory only, never stored); any device of the format without it. */
    address: z
      .string()
      .regex(/^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/)
      .transform((a) => a.toUpperCase())
      .optional(),
    fields: z.array(advertFieldSchema).min(1),
    /** Advertisements come several times a second: keep one reading per field per interval. */
    min_interval_s: z.number().min(0).default(10),
  })
  .strict();

const bleSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** hci0, hci1, …; the first adapter when absent. */
    adapter: z.string().regex(/^hci\d+$/).optional(),
    presence: z
      .object({
        /** Smoothed RSSI (dBm) at or above which a beacon is present … */
        enter_rssi: z.number().max(0).default(-80),
        /** … and below which it has left (lower than enter_rssi: the gap is the hysteresis). */
        exit_rssi: z.number().max(0).default(-90),
        /** Not heard for this long: gone. */
        absent_after_s: z.number().positive().default(4),
        /** Weight of a new sample in the RSSI moving average (1 = no smoothing). */
        smoothing: z.number().gt(0).max(1).default(0.4),
      })
      .strict()
      .refine((p) => p.exit_rssi < p.enter_rssi, { message: 'exit_rssi must be below enter_rssi', path: ['exit_rssi'] })
      .default({ enter_rssi: -80, exit_rssi: -90, absent_after_s: 4, smoothing: 0.4 }),
    beacons: z.array(beaconSchema).default([]),
    staff_badges: z.array(staffBadgeSchema).default([]),
    sensors: z.array(advertSensorSchema).default([]),
    /** Telemetry (battery, temperature) from Eddystone TLM frames of the listed beacons and badges. */
    telemetry: z.boolean().default(true),
  })
  .strict();

export const sensorsSchema = z
  .object({
    /** Where the MQTT sensors publish: the embedded broker (default) or the store's own broker. */
    broker: z.discriminatedUnion('mode', [embeddedBroker, externalBroker]).default(embeddedBroker.parse({ mode: 'embedded' })),
    mqtt: z.array(mqttSensorSchema).default([]),
    ble: bleSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    const claim = (id: string, path: (string | number)[]): void => {
      if (ids.has(id)) ctx.addIssue({ code: 'custom', path, message: `duplicate sensor id "${id}"` });
      ids.add(id);
    };
    s.mqtt.forEach((m, i) => claim(m.id, ['mqtt', i, 'id']));
    s.ble?.beacons.forEach((b, i) => claim(b.id, ['ble', 'beacons', i, 'id']));
    s.ble?.staff_badges.forEach((b, i) => claim(b.badge, ['ble', 'staff_badges', i, 'badge']));
    s.ble?.sensors.forEach((b, i) => claim(b.id, ['ble', 'sensors', i, 'id']));
    s.mqtt.forEach((m, i) => {
      if (m.profile === 'numeric' && m.min !== undefined && m.max !== undefined && m.min >= m.max) ctx.addIssue({ code: 'custom', path: ['mqtt', i, 'max'], message: 'max must be above min' });
    });
    const keys = new Map<string, string>();
    const claimIdentity = (b: { ibeacon?: { uuid: string; major: number; minor: number }; eddystone?: { namespace: string; instance: string } }, path: (string | number)[]): void => {
      const key = b.ibeacon ? `ib:${b.ibeacon.uuid}:${b.ibeacon.major}:${b.ibeacon.minor}` : `es:${b.eddystone!.namespace}:${b.eddystone!.instance}`;
      if (keys.has(key)) ctx.addIssue({ code: 'custom', path, message: `the same beacon identity as ${keys.get(key)}` });
      keys.set(key, path.join('.'));
    };
    s.ble?.beacons.forEach((b, i) => claimIdentity(b, ['ble', 'beacons', i]));
    s.ble?.staff_badges.forEach((b, i) => claimIdentity(b, ['ble', 'staff_badges', i]));
  });

export type SensorsConfig = z.infer<typeof sensorsSchema>;
export type MqttSensorConfig = SensorsConfig['mqtt'][number];
export type DoorCounterConfig = Extract<MqttSensorConfig, { profile: 'door_counter' }>;
export type FeedbackConfig = Extract<MqttSensorConfig, { profile: 'feedback' }>;
export type PosConfig = Extract<MqttSensorConfig, { profile: 'pos' }>;
export type NumericConfig = Extract<MqttSensorConfig, { profile: 'numeric' }>;
export type BrokerConfig = SensorsConfig['broker'];
export type BleConfig = NonNullable<SensorsConfig['ble']>;
export type BeaconConfig = BleConfig['beacons'][number];
export type StaffBadgeConfig = BleConfig['staff_badges'][number];
export type AdvertSensorConfig = BleConfig['sensors'][number];
export type PresenceConfig = BleConfig['presence'];
