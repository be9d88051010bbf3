import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { executionNameFor, partPrefixOf, partsPrefixOf } from '../../../functions/fanout/fanOutRun.js';
import { readScoreConfig } from '../../../functions/score/config.js';
import { runIdFor } from '../../../functions/score/scoreS3Object.js';

/** What Step Functions accepts in an execution name (and CloudWatch Logs in a log stream): ≤ 80 of these. */
const STEP_FUNCTIONS_NAME = /^[A-Za-z0-9_-]{1,80}$/;

describe('executionNameFor', () => {
  it('is the run id itself when it fits', () => {
    const runId = runIdFor('incoming/bank-marketing/2026/12/bank-full.csv', { etag: '"0f0e"' });
    expect(executionNameFor(runId)).toBe(runId);
  });

  it('is the same for a redelivered event and differs for another version of the object', () => {
    const key = 'incoming/bank-marketing/calls.csv';
    const first = executionNameFor(runIdFor(key, { etag: 'abc' }));
    expect(executionNameFor(runIdFor(key, { etag: 'abc' }))).toBe(first);
    expect(executionNameFor(runIdFor(key, { etag: 'abd' }))).not.toBe(first);
  });

  it('shortens a long stem to 80 characters, keeping the digest, and replaces dots', () => {
    const runId = runIdFor(`incoming/m/${'very.long-name_'.repeat(10)}.csv`, { versionId: 'v1' });
    const name = executionNameFor(runId);
    expect(name).toHaveLength(80);
    expect(name).toMatch(STEP_FUNCTIONS_NAME);
    expect(name.slice(-13)).toBe(runId.slice(-13));
  });

  it('always gives a name Step Functions accepts, for any key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 300 }), fc.string(), (file, etag) => {
        expect(executionNameFor(runIdFor(`incoming/m/${file}.csv`, { etag }))).toMatch(STEP_FUNCTIONS_NAME);
      }),
    );
  });
});

describe('fan-out layout and settings', () => {
  it('keeps every part under the run\'s _parts/ prefix', () => {
    const run = { outputPrefix: 'outputs/bank-marketing/calls-0123456789ab/' };
    expect(partsPrefixOf(run)).toBe('outputs/bank-marketing/calls-0123456789ab/_parts/');
    expect(partPrefixOf(run, 3)).toBe('outputs/bank-marketing/calls-0123456789ab/_parts/3/');
  });

  it('fans out only with a state machine, above 1 GiB unless FAN_OUT_BYTES says otherwise', () => {
    expect(readScoreConfig({}).fanOut).toBeUndefined();
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:fan-out';
    expect(readScoreConfig({ STATE_MACHINE_ARN: arn }).fanOut).toEqual({ thresholdBytes: 1024 ** 3, stateMachineArn: arn, endpoint: undefined });
    expect(readScoreConfig({ STATE_MACHINE_ARN: arn, FAN_OUT_BYTES: '5000' }).fanOut?.thresholdBytes).toBe(5000);
    expect(() => readScoreConfig({ STATE_MACHINE_ARN: 'not-an-arn' })).toThrow(/STATE_MACHINE_ARN/);
  });
});
