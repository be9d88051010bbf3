import { z } from 'zod';
import { ConfigError, REJECT_REASONS } from '../errors.js';
import { ScoreHistogram } from '../economics/scoreHistogram.js';
import { SegmentSelector } from '../economics/segmentSelection.js';
import { LabelTally } from '../evaluation/labelTally.js';
import { parseRunProfile } from '../drift/runProfile.js';
import { parseWith } from '../validation.js';
import type { ScoredPart } from './scoredPart.js';
import type { Spool } from './spool.js';

const KIND = 'propensity.scored-part';
const count = z.number().int().nonnegative();

const scoredPartJsonSchema = z
  .object({
    kind: z.literal(KIND),
    version: z.literal(1),
    source: z.string(),
    task: z.enum(['binary', 'multiclass']),
    rowsRead: count,
    rowsScored: count,
    rowsRejected: count,
    rejectReasons: z.partialRecord(z.enum(REJECT_REASONS), count),
    unseenCategories: z.record(z.string(), count),
    imputed: z.record(z.string(), count).default({}),
    labels: z.unknown().nullable().default(null),
    delimiter: z.string().length(1),
    csvInjectionProtection: z.boolean(),
    histogram: z.unknown(),
    segments: z.unknown().nullable(),
    rankedRuns: z.array(z.string()),
    profile: z.unknown().nullable(),
    longLayout: z.object({ customersScored: count, customersRejected: count, missingPeriods: count }).strict().optional(),
    customerIds: z.string().optional(),
    suppressed: z
      .object({ customers: count, overCap: count, probabilityUnits: z.string().regex(/^\d+$/), gainMicros: z.string().regex(/^\d+$/), byReason: z.record(z.string(), count) })
      .strict()
      .nullable()
      .default(null),
    /** The spool's channels, as `spool.channels()` gave them when the part was saved. */
    channels: z.array(z.string()).min(2),
  })
  .strict();

/** A scored part without its spool, as plain JSON: what a worker thread or a part Lambda hands to the merge. */
export type ScoredPartJson = z.infer<typeof scoredPartJsonSchema>;

/**
 * The part as plain JSON (its accumulators through their own `toJSON`); the spool's lines travel
 * separately (a temp folder another thread attaches to, or objects under the run's S3 prefix).
 * `scoredPartFromJson(scoredPartToJson(p), spool)` merges exactly like `p`.
 */
export function scoredPartToJson(part: ScoredPart): ScoredPartJson {
  return {
    kind: KIND,
    version: 1,
    source: part.source,
    task: part.task,
    rowsRead: part.rowsRead,
    rowsScored: part.rowsScored,
    rowsRejected: part.rowsRejected,
    rejectReasons: { ...part.rejectReasons },
    unseenCategories: { ...part.unseenCategories },
    imputed: { ...part.imputed },
    labels: part.labels?.toJSON() ?? null,
    delimiter: part.delimiter,
    csvInjectionProtection: part.csvInjectionProtection,
    histogram: part.histogram.toJSON(),
    segments: part.segments?.toJSON() ?? null,
    rankedRuns: [...part.rankedRuns],
    profile: part.profile,
    ...(part.longLayout ? { longLayout: { ...part.longLayout } } : {}),
    ...(part.customerIds ? { customerIds: part.customerIds } : {}),
    suppressed: part.suppressed
      ? { ...part.suppressed, probabilityUnits: String(part.suppressed.probabilityUnits), gainMicros: String(part.suppressed.gainMicros), byReason: { ...part.suppressed.byReason } }
      : null,
    channels: [...part.spool.channels()],
  };
}

/**
 * Rebuilds a scored part from {@link scoredPartToJson} output and a spool holding its lines.
 * @throws ConfigError CONFIG_INVALID naming `source` and the offending key when the JSON is not a
 * part, or when the spool lacks a channel the part had
 */
export function scoredPartFromJson(json: unknown, spool: Spool, source = 'scored part JSON'): ScoredPart {
  const fail = (key: string, message: string) => new ConfigError('CONFIG_INVALID', message, { key, source });
  const data = parseWith(scoredPartJsonSchema, json, ({ path, message }) => fail(path, message));
  const missing = [...data.channels, ...data.rankedRuns, ...(data.customerIds ? [data.customerIds] : [])].find((c) => !spool.channels().includes(c));
  if (missing !== undefined) throw fail('channels', `the spool has no channel "${missing}"`);
  if ((data.task === 'multiclass') !== (data.segments !== null)) throw fail('segments', `a ${data.task} part ${data.task === 'multiclass' ? 'needs' : 'has no'} segments`);
  return {
    source: data.source,
    task: data.task,
    rowsRead: data.rowsRead,
    rowsScored: data.rowsScored,
    rowsRejected: data.rowsRejected,
    rejectReasons: data.rejectReasons,
    unseenCategories: data.unseenCategories,
    imputed: data.imputed,
    labels: data.labels === null ? null : LabelTally.fromJSON(data.labels, `${source} (labels)`),
    delimiter: data.delimiter,
    csvInjectionProtection: data.csvInjectionProtection,
    histogram: ScoreHistogram.fromJSON(data.histogram, `${source} (histogram)`),
    segments: data.segments === null ? null : SegmentSelector.fromJSON(data.segments, `${source} (segments)`),
    rankedRuns: data.rankedRuns,
    profile: data.profile === null ? null : parseRunProfile(data.profile, `${source} (profile)`),
    ...(data.longLayout ? { longLayout: data.longLayout } : {}),
    ...(data.customerIds ? { customerIds: data.customerIds } : {}),
    suppressed: data.suppressed
      ? { ...data.suppressed, probabilityUnits: BigInt(data.suppressed.probabilityUnits), gainMicros: BigInt(data.suppressed.gainMicros) }
      : null,
    spool,
  };
}
