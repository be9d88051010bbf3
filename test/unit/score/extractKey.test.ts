import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeEventKey } from '../../../functions/local/embeddedS3.js';
import { decodeEventKey } from '../../../functions/score/scoreRuntime.js';
import { parseExtractKey, runIdFor } from '../../../functions/score/scoreS3Object.js';

describe('parseExtractKey', () => {
  it.each([
    ['incoming/bank-marketing/bank-full.csv', { model: 'bank-marketing', stem: 'bank-full' }],
    ['incoming/bank-marketing/2026/11/23/calls.CSV.GZ', { model: 'bank-marketing', stem: 'calls' }],
    ['incoming/churn/weekly export (3).csv.gz', { model: 'churn', stem: 'weekly-export-3' }],
  ])('reads model and stem from %s', (key, expected) => {
    expect(parseExtractKey(key)).toEqual(expected);
  });

  it.each([
    'outputs/bank-marketing/run/scores.csv', // not under incoming/
    'incoming/bank-full.csv', // no model folder
    'incoming/bank-marketing/calls.csv.economics.json', // a sidecar
    'incoming/bank-marketing/calls.txt',
    'incoming/Bank_Marketing/calls.csv', // not a model name
  ])('is not an extract: %s', (key) => {
    expect(parseExtractKey(key)).toBeUndefined();
  });

  it('honours another incoming prefix', () => {
    expect(parseExtractKey('drops/m/x.csv', 'drops/')).toEqual({ model: 'm', stem: 'x' });
  });
});

describe('runIdFor', () => {
  it('is the stem and the first 12 hex digits of sha256(key, ETag)', () => {
    const key = 'incoming/m/calls.csv';
    const expected = createHash('sha256').update(`${key}\nabc123`).digest('hex').slice(0, 12);
    expect(runIdFor(key, { etag: 'abc123' })).toBe(`calls-${expected}`);
  });

  it('prefers the version id when the bucket is versioned', () => {
    const key = 'incoming/m/calls.csv';
    const expected = createHash('sha256').update(`${key}\nv1`).digest('hex').slice(0, 12);
    expect(runIdFor(key, { etag: 'abc', versionId: 'v1' })).toBe(`calls-${expected}`);
  });

  it('differs between two uploads of the same key', () => {
    expect(runIdFor('incoming/m/a.csv', { etag: '1' })).not.toBe(runIdFor('incoming/m/a.csv', { etag: '2' }));
  });
});

describe('event keys', () => {
  it('decodes what S3 writes into notifications', () => {
    expect(decodeEventKey('incoming/m/my+file%281%29.csv')).toBe('incoming/m/my file(1).csv');
    expect(decodeEventKey('incoming/m/a%2Bb.csv')).toBe('incoming/m/a+b.csv');
  });

  it('round-trips any key through the embedded server encoding', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }), (segments) => {
        const key = segments.join('/');
        expect(decodeEventKey(encodeEventKey(key))).toBe(key);
      }),
    );
  });
});
