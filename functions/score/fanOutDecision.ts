import type { S3Client } from '@aws-sdk/client-s3';
import { headObject } from '../adapters/s3/s3Objects.js';
import type { StartExecution } from '../adapters/sfn/startExecution.js';
import { executionNameFor, type FanOutRun } from '../fanout/fanOutRun.js';

/** The fan-out as the score function sees it: a size threshold and a way to start the state machine. */
export interface FanOutStarter {
  /** Extracts strictly larger than this (bytes as stored) fan out. */
  readonly thresholdBytes: number;
  readonly start: StartExecution;
}

/** A run handed to the state machine: its execution name, and whether this delivery started it. */
export interface FannedOut {
  readonly execution: string;
  /**
   * False when Step Functions answered ExecutionAlreadyExists (a redelivery after the execution
   * closed, or with another input). A redelivery while it runs, with the same input, gets the same
   * execution back with 200 (true here): in both cases there is one execution per run.
   */
  readonly started: boolean;
  readonly bytes: number;
}

/**
 * Starts the fan-out state machine for an extract above the threshold, named after the run id, so
 * a redelivered event finds its execution (ExecutionAlreadyExists) instead of starting another.
 * Returns `undefined` for an extract to score here. The size is the event's, else HeadObject's.
 */
export async function fanOutIfLarge(client: S3Client, run: FanOutRun & { readonly size?: number | undefined }, fanOut: FanOutStarter): Promise<FannedOut | undefined> {
  const { size, ...input } = run;
  const bytes = size ?? (await headObject(client, run.bucket, run.key))?.contentLength;
  if (bytes === undefined || bytes <= fanOut.thresholdBytes) return undefined;
  const execution = executionNameFor(run.runId);
  const result = await fanOut.start({ name: execution, input });
  return { execution, started: result.status === 'started', bytes };
}
