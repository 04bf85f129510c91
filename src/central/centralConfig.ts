/**
 * The configuration of `storepulse central` (its own YAML file: central runs at head office, not on
 * a store PC, so it shares nothing with the gateway's config). Defaults live here and nowhere else;
 * `${NAME}` in any string is replaced from the environment, as in the gateway's config.
 */
import os from 'node:os';
import { z } from 'zod';
import { readYamlFile, substituteEnv } from '../gateway/config/loadConfig.js';
import { formatIssues } from '../vision/scene.js';

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
    log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
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
