import type { S3Client } from '@aws-sdk/client-s3';
import { readOutcomes, s3Url } from '../adapters/s3/s3Csv.js';
import { getObjectStream, isNotFound, readJsonObject } from '../adapters/s3/s3Objects.js';
import { DAY_MS } from '../core/constants.js';
import { labelExtract } from '../core/retrain/labelledExtract.js';
import { idColumn, targetColumn, type FeatureSpec } from '../core/spec/featureSpec.js';
import { readTrainingTable, type TrainingTable } from '../core/training/trainingTable.js';
import type { ListedObject } from '../nightly/nightlyRuntime.js';
import { LABEL_JOIN_WINDOW_DAYS } from '../nightly/nightlySettings.js';

export interface LabelledData {
  /** Every new labelled row, in one table laid out as the spec's file section says. */
  readonly table: TrainingTable;
  /** Files the rows came from (`s3://…`), for the record. */
  readonly sources: readonly string[];
  readonly warnings: readonly string[];
}

/**
 * Lays tables with headers out on the first one's columns (by name), so extracts whose columns come
 * in another order still line up; header-less tables are positional already.
 */
function concatTables(tables: readonly TrainingTable[], source: string): TrainingTable {
  const first = tables[0];
  if (!first) return { source, header: null, records: [] };
  const header = first.header;
  const records: (readonly string[])[] = [];
  for (const table of tables) {
    if (!header || !table.header || table.header.join('\u0000') === header.join('\u0000')) {
      records.push(...table.records);
      continue;
    }
    const positions = header.map((name) => table.header!.indexOf(name));
    for (const record of table.records) records.push(positions.map((p) => (p < 0 ? '' : (record[p] ?? ''))));
  }
  return { source, header, records };
}

async function readS3Table(client: S3Client, bucket: string, key: string, spec: FeatureSpec): Promise<TrainingTable> {
  const object = await getObjectStream(client, bucket, key);
  return readTrainingTable(s3Url(bucket, key), spec, object.body);
}

/**
 * Gathers the labelled rows that arrived since the last training:
 * - full labelled extracts under `training/<model>/` (read as they are);
 * - outcome files under `labels/<model>/` (customer id + `outcome`), joined with the extracts that
 *   recent runs scored (`outputs/<model>/<run>/summary.json` names each run's source). A customer
 *   scored in several runs is taken from the newest.
 */
export async function gatherLabelledData(args: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly spec: FeatureSpec;
  readonly positiveClass: string;
  readonly negativeClass: string;
  /** New files under `training/<model>/`, oldest first. */
  readonly trainingKeys: readonly string[];
  /** New files under `labels/<model>/`, oldest first. */
  readonly labelKeys: readonly string[];
  /** The model's outputs listing (for the runs' summaries). */
  readonly outputs: readonly ListedObject[];
  readonly now: Date;
}): Promise<LabelledData> {
  const { client, bucket, spec } = args;
  const tables: TrainingTable[] = [];
  const sources: string[] = [];
  const warnings: string[] = [];

  for (const key of args.trainingKeys) {
    tables.push(await readS3Table(client, bucket, key, spec));
    sources.push(s3Url(bucket, key));
  }

  if (args.labelKeys.length > 0) {
    const id = idColumn(spec);
    const target = targetColumn(spec);
    if (!id || !target || !spec.file.header) {
      warnings.push(`${args.labelKeys.length} label file(s) left out: joining outcomes needs a header, an id column and a target column in the feature spec`);
    } else {
      const outcomes = await readOutcomes(client, bucket, args.labelKeys, { idColumn: id.name, targetColumn: target.name, positiveClass: args.positiveClass });
      sources.push(...args.labelKeys.map((key) => s3Url(bucket, key)));
      const joined = await joinWithScoredExtracts({ ...args, outcomes, idName: id.name, targetName: target.name, warnings });
      tables.push(...joined.tables);
      sources.push(...joined.sources);
    }
  }
  return { table: concatTables(tables, `${sources.length} labelled file(s)`), sources, warnings };
}

async function joinWithScoredExtracts(args: {
  readonly client: S3Client;
  readonly bucket: string;
  readonly spec: FeatureSpec;
  readonly positiveClass: string;
  readonly negativeClass: string;
  readonly outputs: readonly ListedObject[];
  readonly now: Date;
  readonly outcomes: Map<string, boolean>;
  readonly idName: string;
  readonly targetName: string;
  readonly warnings: string[];
}): Promise<{ tables: TrainingTable[]; sources: string[] }> {
  const { client, bucket, outcomes } = args;
  const oldest = args.now.getTime() - LABEL_JOIN_WINDOW_DAYS * DAY_MS;
  const summaries = args.outputs
    .filter((o) => o.key.endsWith('/summary.json') && o.lastModified.getTime() >= oldest)
    .sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime());
  const remaining = new Map(outcomes);
  const tables: TrainingTable[] = [];
  const sources: string[] = [];
  for (const summaryObject of summaries) {
    if (remaining.size === 0) break;
    const summary = (await readJsonObject(client, bucket, summaryObject.key)) as { source?: unknown } | undefined;
    const source = typeof summary?.source === 'string' ? summary.source : '';
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source);
    if (!match) continue;
    let table: TrainingTable;
    try {
      table = await readS3Table(client, match[1]!, match[2]!, args.spec);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      args.warnings.push(`${source} (scored by ${summaryObject.key}) is gone: its customers' labels cannot be joined`);
      continue;
    }
    const labelled = labelExtract({ source, header: table.header ?? [], records: table.records }, remaining, {
      idColumn: args.idName,
      targetColumn: args.targetName,
      positiveClass: args.positiveClass,
      negativeClass: args.negativeClass,
    });
    if (labelled.labelled === 0) continue;
    const idIndex = labelled.table.header!.findIndex((h) => h.toLowerCase() === args.idName.toLowerCase());
    for (const record of labelled.table.records) remaining.delete((record[idIndex] ?? '').trim());
    tables.push(labelled.table);
    sources.push(source);
  }
  if (remaining.size > 0) args.warnings.push(`${remaining.size} label(s) match no customer of the scored extracts of the last ${LABEL_JOIN_WINDOW_DAYS} days`);
  return { tables, sources };
}

/**
 * Splits labelled rows into training rows and a holdout, deterministically (a multiplicative hash
 * of the row number), so a rerun of the same night judges on the same rows.
 */
export function splitHoldout(table: TrainingTable, fraction: number): { train: TrainingTable; holdout: TrainingTable } {
  const train: (readonly string[])[] = [];
  const holdout: (readonly string[])[] = [];
  table.records.forEach((record, i) => {
    const u = (Math.imul(i + 1, 2654435761) >>> 0) / 2 ** 32;
    (u < fraction ? holdout : train).push(record);
  });
  return {
    train: { source: `${table.source} (training part)`, header: table.header, records: train },
    holdout: { source: `${table.source} (holdout)`, header: table.header, records: holdout },
  };
}
