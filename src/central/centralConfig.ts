/**
 * The configuration of `storepulse central` (its own YAML file: central runs at head office, not on
 * a store PC, so it shares nothing with the gateway's config). Defaults live here and nowhere else;
 * `${NAME}` in any string is replaced from the environment, as in the gateway's config.
 */
import os from 'node:os';
import { z } from 'zod';
import { readYamlFile, substituteEnv } from '../gateway/config/loadConfig.js';
import { formatIssues } from '../vision/scene.js';

const DAYS_MESSAGE = 'a whole number of days from 1 to 36500, or "forever"';
/** How long a kind of row is kept: whole days, or `forever`. */
const retentionDays = z.union([z.number().int(DAYS_MESSAGE).min(1, DAYS_MESSAGE).max(36_500, DAYS_MESSAGE), z.literal('forever')], { error: DAYS_MESSAGE });
export type RetentionDays = z.infer<typeof retentionDays>;

/**
 * How long central keeps its rows (enforced by retention.ts). 1-minute bins are for recent
 * drill-down and are ~97 % of the rows (a 500-store fleet writes ~583 MB of them a day); the fleet
 * analytics read hours and days, which are kept forever unless configured.
 */
const retentionSchema = z
  .object({
    /** Off: nothing is ever removed (the periodic job does not run). */
    enabled: z.boolean().default(true),
    kpi_1m_days: retentionDays.default(35),
    kpi_15m_days: retentionDays.default(400),
    kpi_1h_days: retentionDays.default('forever'),
    kpi_1d_days: retentionDays.default('forever'),
    /** Raw events (door counts, till events), by their time. */
    events_days: retentionDays.default('forever'),
    /** Refused messages, by when they were last delivered. */
    dead_letters_days: retentionDays.default(90),
    /** How often each worker tries (one runs at a time; the first try is at start). */
    interval_minutes: z.number().int().min(1).max(7 * 1440).default(60),
    /** Rows per DELETE where rows must be deleted one by one (each its own short transaction). */
    delete_batch_rows: z.number().int().min(100).max(100_000).default(5000),
  })
  .strict();
export type RetentionConfig = z.infer<typeof retentionSchema>;

const KPI_RETENTION_KEYS = ['kpi_1m_days', 'kpi_15m_days', 'kpi_1h_days', 'kpi_1d_days'] as const;
const asDays = (d: RetentionDays): number => (d === 'forever' ? Infinity : d);

/**
 * A finer bin size kept longer than a coarser one is almost always a slip (two values swapped): the
 * coarse view of a period would be gone while its detail stays. One message per offending pair.
 */
export function retentionOrderProblems(r: RetentionConfig): string[] {
  const problems: string[] = [];
  for (let i = 0; i + 1 < KPI_RETENTION_KEYS.length; i++) {
    const finer = KPI_RETENTION_KEYS[i]!;
    const coarser = KPI_RETENTION_KEYS[i + 1]!;
    if (asDays(r[finer]) > asDays(r[coarser])) problems.push(`${finer} (${r[finer]}) is longer than ${coarser} (${r[coarser]}): finer bins must not be kept longer than coarser ones`);
  }
  return problems;
}

/** No MQTT wildcards or separators: these become one level of a topic filter. */
const topicLevel = z.string().regex(/^[^/#+$\s]+$/, 'one topic level: no /, #, +, $ or spaces');

export const centralConfigSchema = z
  .object({
    mqtt: z
      .object({
        url: z.string().regex(/^(mqtts?|wss?):\/\//, 'must start with mqtt://, mqtts://, ws:// or wss://'),
        username: z.string().optional(),
        password: z.string().optional(),
        ca_file: z.string().optional(),
        cert_file: z.string().optional(),
        key_file: z.string().optional(),
        /**
         * Must stay the same across restarts of one worker: the broker keeps the session under it, and
         * re-delivers the messages that were in flight when the worker died.
         */
        client_id: z
          .string()
          .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)')
          .default(() => `storepulse-central-${os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 40)}`),
        /** The shared-subscription group: workers in one group split the messages between them. */
        group: topicLevel.default('storepulse-central'),
        topic_root: topicLevel.default('storepulse'),
        /** How long the broker keeps a stopped worker's session (and queues its share of messages). */
        session_expiry_s: z.number().int().positive().default(7 * 86_400),
        /**
         * Unacknowledged messages the broker may send at once (MQTT 5 Receive Maximum). Larger than a
         * batch, so that the next batch arrives while the previous one commits.
         */
        receive_maximum: z.number().int().min(1).max(65_535).default(2000),
        keepalive_s: z.number().int().positive().default(30),
        reconnect_s: z.number().positive().default(2),
      })
      .strict(),
    postgres: z
      .object({
        url: z.string().regex(/^postgres(ql)?:\/\//, 'a connection string: postgres://user:password@host:5432/database'),
      })
      .strict(),
    batch: z
      .object({
        max_messages: z.number().int().min(1).max(10_000).default(500),
        /** How long the first message of a batch may wait for others before the batch is written. */
        max_wait_ms: z.number().int().min(0).max(10_000).default(20),
      })
      .strict()
      .default({ max_messages: 500, max_wait_ms: 20 }),
    /** The fleet REST API (`/api/v1/fleet/…`) and `/metrics`; off when absent. */
    http: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(8090),
        /** Bearer tokens (values usually `${ENV}`); at least one: the API is never open. */
        tokens: z
          .array(z.object({ name: z.string().min(1), token: z.string().min(24, 'at least 24 characters') }).strict())
          .min(1, 'at least one token'),
      })
      .strict()
      .optional(),
    retention: retentionSchema.prefault({}),
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (typeof c.retention !== 'object' || c.retention === null) return;
    for (const message of retentionOrderProblems(c.retention)) ctx.addIssue({ code: 'custom', message, path: ['retention'] });
  })
  .refine((c) => c.mqtt.receive_maximum >= c.batch.max_messages, {
    message: 'mqtt.receive_maximum must be at least batch.max_messages (the broker would never send a full batch)',
    path: ['mqtt', 'receive_maximum'],
  });

export type CentralConfig = z.infer<typeof centralConfigSchema>;

export type CentralConfigResult = { ok: true; config: CentralConfig } | { ok: false; errors: string[] };

export function parseCentralConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): CentralConfigResult {
  const errors: string[] = [];
  const substituted = substituteEnv(raw ?? {}, env, errors);
  const parsed = centralConfigSchema.safeParse(substituted);
  if (!parsed.success) errors.push(...formatIssues(parsed.error));
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, config: parsed.data };
}

export async function loadCentralConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<CentralConfigResult> {
  const read = await readYamlFile(file);
  return read.ok ? parseCentralConfig(read.raw, env) : read;
}

/** The subscription every worker of the group makes: all messages of every store and gateway. */
export const sharedSubscription = (c: CentralConfig['mqtt']): string => `$share/${c.group}/${c.topic_root}/v1/+/+/#`;
