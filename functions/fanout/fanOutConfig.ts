import { z } from 'zod';
import { parseEnvironment } from '../core/environment.js';
import { readScoreConfig, type ScoreConfig } from '../score/config.js';

/** About 256 MiB per part: at ~100k rows/s of parse and score, a few minutes of one function. */
export const DEFAULT_PART_BYTES = 256 * 1024 ** 2;

/** The default lock TTL: the state machine's default timeout (4 h) plus a minute. */
export const DEFAULT_FAN_OUT_LOCK_TTL_SECONDS = 4 * 3600 + 60;

const fanOutSchema = z.object({
  /** Target size of one part in bytes (the plan step); a gzip extract is always one part. */
  PART_BYTES: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).default(DEFAULT_PART_BYTES),
  /** How long the run's `_LOCK` taken by the plan step holds: longer than the state machine's timeout. */
  FAN_OUT_LOCK_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(DEFAULT_FAN_OUT_LOCK_TTL_SECONDS),
});

/** The fan-out steps' settings: the score function's (same scoring options) plus the part size and lock TTL. */
export interface FanOutConfig extends ScoreConfig {
  readonly partBytes: number;
  readonly fanOutLockTtlMs: number;
}

/**
 * Reads and validates the environment once, at cold start.
 * @throws ConfigError CONFIG_INVALID naming the variable.
 */
export function readFanOutConfig(env: NodeJS.ProcessEnv = process.env): FanOutConfig {
  const e = parseEnvironment(fanOutSchema, env);
  return { ...readScoreConfig(env), partBytes: e.PART_BYTES, fanOutLockTtlMs: e.FAN_OUT_LOCK_TTL_SECONDS * 1000 };
}
