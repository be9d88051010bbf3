import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { BundleError, PropensityError } from '../../../functions/core/errors.js';
import { driftAlarmFiring } from '../../../functions/nightly/driftAlarmFiring.js';
import { forEachModel, ScheduledRunError } from '../../../functions/nightly/nightlyRuntime.js';

const silent = new Logger({ serviceName: 'test', logLevel: 'SILENT' });

describe('forEachModel', () => {
  it('returns every model\'s result in order when all succeed', async () => {
    expect(await forEachModel('drift check', ['a', 'b'], silent, (model) => Promise.resolve(model.toUpperCase()))).toEqual(['A', 'B']);
  });

  it('gives every model its turn, then throws one ScheduledRunError naming each failure', async () => {
    // Prepare
    const seen: string[] = [];
    const work = (model: string): Promise<string> => {
      seen.push(model);
      if (model === 'audiobooks') return Promise.reject(new BundleError('BUNDLE_NOT_FOUND', 'no champion', { bundle: model }));
      if (model === 'card-offer') return Promise.reject(new Error('S3 is down'));
      return Promise.resolve(model);
    };
    // Act
    const failure = await forEachModel('retraining', ['audiobooks', 'bank-marketing', 'card-offer'], silent, work).catch((error: unknown) => error);
    // Assess
    expect(seen).toEqual(['audiobooks', 'bank-marketing', 'card-offer']);
    expect(failure).toBeInstanceOf(ScheduledRunError);
    expect(failure).toBeInstanceOf(PropensityError);
    const error = failure as ScheduledRunError;
    expect(error.code).toBe('SCHEDULED_RUN_FAILED');
    expect(error.isInputError).toBe(false);
    expect(error.name).toBe('ScheduledRunError');
    expect(error.message).toBe('retraining failed for audiobooks (audiobooks: no champion); card-offer (S3 is down)');
    expect(error.failures.map((f) => f.model)).toEqual(['audiobooks', 'card-offer']);
    expect(error.toJSON()).toEqual({
      name: 'ScheduledRunError',
      code: 'SCHEDULED_RUN_FAILED',
      message: error.message,
      job: 'retraining',
      failures: [
        { model: 'audiobooks', code: 'BUNDLE_NOT_FOUND', message: 'audiobooks: no champion' },
        { model: 'card-offer', message: 'S3 is down' },
      ],
    });
  });
});

describe('driftAlarmFiring', () => {
  it.each([
    [{ status: 'ok', driftedFeatures: [], score: null }, false],
    [{ status: 'warn', driftedFeatures: [], score: { level: 'warn' } }, false],
    [{ status: 'warn', driftedFeatures: ['age'], score: null }, true],
    [{ status: 'warn', driftedFeatures: [], score: { level: 'alert' } }, true],
    [{ status: 'alert', driftedFeatures: [], score: null }, true],
  ] as const)('%j → %s', (report, firing) => {
    expect(driftAlarmFiring(report as never)).toBe(firing);
  });
});
