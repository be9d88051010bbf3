import { describe, expect, it } from 'vitest';
import { EncodedBatch } from '../../../functions/core/model/encodedBatch.js';
import type { ScoringModel } from '../../../functions/core/model/scoringModel.js';
import { parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { fitSpec } from '../../../functions/core/spec/fitSpec.js';
import { compileEncoder } from '../../../functions/core/spec/rowEncoder.js';

/** A spec with one number slot (x, unscaled) and one text slot (channel, as an imported pipeline takes it). */
async function textInputEncoder() {
  const fitted = await fitSpec(
    parseFeatureSpec({
      columns: [
        { name: 'x', role: 'feature', scale: 'none' },
        { name: 'channel', role: 'feature', type: 'categorical', feed: 'string', impute: { strategy: 'constant', value: 'none' } },
      ],
    }),
    { header: ['x', 'channel'], records: [['1', 'sms'], ['2', 'web']] },
    { now: new Date('2026-01-01T00:00:00Z'), source: 'train.csv' },
  );
  return compileEncoder(fitted, ['x', 'channel'], 'score.csv');
}

/** Returns x + (channel length) per row, so the answer proves both the numbers and the text arrived. */
function recordingModel(): ScoringModel & { calls: Array<{ rows: number; text: string[] | undefined }> } {
  const calls: Array<{ rows: number; text: string[] | undefined }> = [];
  return {
    calls,
    inputWidth: 1,
    outputWidth: 1,
    score(batch, rows, text) {
      calls.push({ rows, text: text?.slice(0, rows) });
      return Promise.resolve(Float32Array.from({ length: rows }, (_, i) => batch[i]! + (text?.[i]?.length ?? 0)));
    },
    async dispose() {},
  };
}

describe('EncodedBatch', () => {
  it('keeps the rows that encode, with their text, and scores them in order', async () => {
    const batch = new EncodedBatch(await textInputEncoder(), 3);
    const model = recordingModel();
    expect(batch.add(['3', 'fax'])).toBeNull();
    // Not a number: the row is refused and not kept, so the next row takes its slot.
    expect(batch.add(['three', 'sms'])).toMatchObject({ column: 'x' });
    expect(batch.add(['4', ''])).toBeNull();
    expect([batch.rows, batch.full]).toEqual([2, false]);
    expect(batch.add(['5', 'web'])).toBeNull();
    expect(batch.full).toBe(true);
    expect([...(await batch.scoreAndClear(model))]).toEqual([3 + 3, 4 + 4, 5 + 3]);
    expect(model.calls).toEqual([{ rows: 3, text: ['fax', 'none', 'web'] }]);
    expect(batch.rows).toBe(0);
  });

  it('lays rows out where the caller says, and scores as many as it asks', async () => {
    const batch = new EncodedBatch(await textInputEncoder(), 4);
    const model = recordingModel();
    expect(batch.encodeAt(2, ['7', 'sms'])).toBeNull();
    expect(batch.encodeAt(0, ['1', 'web'])).toBeNull();
    expect(batch.encodeAt(1, ['2', ''])).toBeNull();
    expect(batch.rows).toBe(0);
    expect([...(await batch.scoreAndClear(model, 3))]).toEqual([1 + 3, 2 + 4, 7 + 3]);
    expect(() => batch.encodeAt(4, ['1', 'web'])).toThrow('row 4 is outside a batch of 4');
  });

  it('has no text slots for a model that takes none', async () => {
    const fitted = await fitSpec(parseFeatureSpec({ columns: [{ name: 'x', role: 'feature', scale: 'none' }] }), { header: ['x'], records: [['1'], ['2']] }, {
      now: new Date('2026-01-01T00:00:00Z'),
      source: 'train.csv',
    });
    const batch = new EncodedBatch(compileEncoder(fitted, ['x'], 'score.csv'), 2);
    expect(batch.text).toBeUndefined();
    expect(batch.add(['9'])).toBeNull();
    expect([...batch.values]).toEqual([9, 0]);
  });
});
