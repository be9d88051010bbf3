import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readJsonObject } from './s3Objects.js';

/** The lock object in a run's prefix: present while a delivery is scoring the run. */
export const LOCK_FILE = '_LOCK';

/** Contents of `_LOCK`. */
export interface RunLockBody {
  readonly runId: string;
  /** Unique per attempt, so a run only ever releases its own lock. */
  readonly owner: string;
  readonly acquiredAt: string;
  /** After this a lock is stale (its run crashed or timed out) and the next delivery takes it over. */
  readonly expiresAt: string;
}

export type RunLockResult =
  | { readonly acquired: true; readonly lock: RunLock }
  | { readonly acquired: false; readonly heldBy: RunLockBody | undefined };

export interface RunLock {
  readonly body: RunLockBody;
  /** Deletes the lock if it is still this attempt's (best effort, never throws). */
  release(): Promise<void>;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** 412: the key exists. 409: another conditional write of the key is in flight (S3 says ConditionalRequestConflict). */
function isTaken(error: unknown): boolean {
  const status = statusOf(error);
  return status === 412 || status === 409;
}

/**
 * Takes the run's lock with a conditional create (`PutObject` with `If-None-Match: *`: S3 refuses
 * with 412 when the key exists, so of two deliveries writing at the same moment exactly one wins).
 * A lock past its `expiresAt` belongs to a run that died (Lambda timeout, crash): it is deleted and
 * taken over once. S3-compatible servers that ignore the header (s3rver) grant every attempt.
 *
 * @example
 * const result = await acquireRunLock(client, bucket, 'outputs/m/run-1/_LOCK', { runId: 'run-1', ttlMs: 960_000 });
 * if (result.acquired) try { … } finally { await result.lock.release(); }
 */
export async function acquireRunLock(
  client: S3Client,
  bucket: string,
  key: string,
  options: { runId: string; ttlMs: number; now?: () => Date; owner?: string },
): Promise<RunLockResult> {
  const now = options.now ?? (() => new Date());
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const at = now();
    const body: RunLockBody = {
      runId: options.runId,
      // A caller-chosen owner (a fan-out execution) recognises its own lock when a step is retried.
      owner: options.owner ?? randomUUID(),
      acquiredAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + options.ttlMs).toISOString(),
    };
    const bytes = Buffer.from(`${JSON.stringify(body, null, 2)}\n`, 'utf8');
    try {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentLength: bytes.length, ContentType: 'application/json', IfNoneMatch: '*' }),
      );
      return { acquired: true, lock: { body, release: () => releaseRunLock(client, bucket, key, body.owner) } };
    } catch (error) {
      if (!isTaken(error)) throw error;
    }
    const heldBy = (await readJsonObject(client, bucket, key).catch(() => undefined)) as RunLockBody | undefined;
    // Gone in between (its run finished): try again. Stale: its run is dead, take it over.
    const stale = heldBy === undefined || !(Date.parse(heldBy.expiresAt) > now().getTime());
    if (!stale || attempt > 0) return { acquired: false, heldBy };
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }
  return { acquired: false, heldBy: undefined };
}

/** Deletes the lock at `key` if `owner` holds it (best effort, never throws). */
export async function releaseRunLock(client: S3Client, bucket: string, key: string, owner: string): Promise<void> {
  try {
    const current = (await readJsonObject(client, bucket, key)) as RunLockBody | undefined;
    if (current?.owner === owner) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch {
    // Best effort: a lock left behind expires by itself.
  }
}
