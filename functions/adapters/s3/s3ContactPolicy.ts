import type { S3Client } from '@aws-sdk/client-s3';
import type { CampaignEconomics } from '../../core/economics/campaignEconomics.js';
import { DEFAULT_CONTACT_POLICY_PREFIXES } from '../../core/constants.js';
import { SuppressionError } from '../../core/errors.js';
import { ContactCounter, historyEntry } from '../../core/policy/contactHistory.js';
import { SuppressionSetBuilder, type SuppressionSet } from '../../core/policy/suppressionList.js';
import { getObjectStream, listKeys, putObject } from './s3Objects.js';

/** Where the contact policy lives in the bucket (the stack sets `SUPPRESSION_PREFIX` and `HISTORY_PREFIX` where it grants them). */
export interface ContactPolicyPrefixes {
  /** Suppression lists for every model (`<prefix>*.csv`) and for one (`<prefix><model>/*.csv`). */
  readonly suppression: string;
  /** The contact history: `<prefix><model>/<run-id>.csv`, one entry per committed run (see `policy/contactHistory.ts`). */
  readonly history: string;
}


/** What a run of `model` must keep off its list, read from the bucket: both null when nothing applies. */
export interface S3ContactPolicy {
  readonly suppression: SuppressionSet | null;
  readonly overCap: SuppressionSet | null;
}

/** Opens one object for a list reader; a failure to read it names the object. */
async function objectBytes(client: S3Client, bucket: string, key: string): Promise<AsyncIterable<Uint8Array>> {
  try {
    return (await getObjectStream(client, bucket, key)).body;
  } catch (cause) {
    throw new SuppressionError('cannot be read', { file: `s3://${bucket}/${key}` }, { cause });
  }
}

/**
 * Reads the suppression lists that apply to `model` and, with a frequency cap, the contact history
 * (every entry but `runId`'s own), as of `asOf` (the run's start: every part of a fan-out run agrees).
 * @throws SuppressionError naming the object (and line, column) that cannot be read: the run fails
 */
export async function loadS3ContactPolicy(
  client: S3Client,
  bucket: string,
  model: string,
  economics: CampaignEconomics,
  asOf: Date,
  runId: string,
  prefixes: ContactPolicyPrefixes = DEFAULT_CONTACT_POLICY_PREFIXES,
): Promise<S3ContactPolicy> {
  const lists = (await listKeys(client, bucket, prefixes.suppression))
    .filter((key) => {
      const rest = key.slice(prefixes.suppression.length);
      return rest.endsWith('.csv') && (!rest.includes('/') || (rest.startsWith(`${model}/`) && !rest.slice(model.length + 1).includes('/')));
    })
    .sort();
  let suppression: SuppressionSet | null = null;
  if (lists.length > 0) {
    const builder = new SuppressionSetBuilder(asOf);
    for (const key of lists) await builder.addList(await objectBytes(client, bucket, key), `s3://${bucket}/${key}`);
    suppression = builder.build();
  }
  let overCap: SuppressionSet | null = null;
  if (economics.frequencyCap) {
    const counter = new ContactCounter(economics.frequencyCap, asOf);
    const own = historyKey(model, runId, prefixes);
    for (const key of (await listKeys(client, bucket, `${prefixes.history}${model}/`)).filter((k) => k.endsWith('.csv') && k !== own).sort()) {
      await counter.addEntry(await objectBytes(client, bucket, key), `s3://${bucket}/${key}`);
    }
    overCap = counter.overCap();
  }
  return { suppression, overCap };
}

export function historyKey(model: string, runId: string, prefixes: ContactPolicyPrefixes = DEFAULT_CONTACT_POLICY_PREFIXES): string {
  return `${prefixes.history}${model}/${runId}.csv`;
}

/**
 * Records a committed run's contacts (its targets.csv) as its history entry: one object per run id,
 * so a redelivery or a retried merge writes the same key again, never a second entry.
 */
export async function recordS3Contacts(
  client: S3Client,
  run: { readonly bucket: string; readonly model: string; readonly runId: string; readonly targets: { readonly bucket: string; readonly key: string } },
  day: Date,
  csvInjectionProtection: boolean,
  prefixes: ContactPolicyPrefixes = DEFAULT_CONTACT_POLICY_PREFIXES,
): Promise<string> {
  const { targets } = run;
  const text = await historyEntry(await objectBytes(client, targets.bucket, targets.key), `s3://${targets.bucket}/${targets.key}`, day, csvInjectionProtection);
  const key = historyKey(run.model, run.runId, prefixes);
  await putObject(client, run.bucket, key, text, 'text/csv');
  return key;
}
