import { existsSync, readFileSync } from 'node:fs';
import { dataset } from '../../helpers/datasets.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/core/errors.js';
import { SegmentSelector } from '../../../functions/core/economics/segmentSelection.js';

const classes = ['A', 'B', 'C', 'D'];
const actions = { A: 'discounts and affordability', B: 'loyalty programme', C: 'premium upsell' }; // D has none

// [id, line, class index, confidence]
const scored: Array<[string, number, number, number]> = [
  ['c1', 2, 0, 0.4],
  ['c2', 3, 3, 0.9],
  ['c3', 4, 1, 0.6],
  ['c4', 5, 0, 0.8],
  ['c5', 6, 2, 0.6], // ties with c3 on confidence; line 4 < 6 so c3 ranks first
  ['c6', 7, 0, 0.5],
];

function build(maxContacts?: number, rows = scored): SegmentSelector {
  const s = new SegmentSelector({ classes, actions, maxContacts: maxContacts ?? null });
  for (const [id, line, c, conf] of rows) s.offer(id, line, c, conf);
  return s;
}

describe('SegmentSelector', () => {
  it('lists every scored customer with segment, confidence and action, by confidence then line', () => {
    const { targets, scored: n } = build().finish();
    expect(n).toBe(6);
    expect(targets).toEqual([
      { rank: 1, id: 'c2', line: 3, segment: 'D', confidence: 0.9, action: null },
      { rank: 2, id: 'c4', line: 5, segment: 'A', confidence: 0.8, action: 'discounts and affordability' },
      { rank: 3, id: 'c3', line: 4, segment: 'B', confidence: 0.6, action: 'loyalty programme' },
      { rank: 4, id: 'c5', line: 6, segment: 'C', confidence: 0.6, action: 'premium upsell' },
      { rank: 5, id: 'c6', line: 7, segment: 'A', confidence: 0.5, action: 'discounts and affordability' },
      { rank: 6, id: 'c1', line: 2, segment: 'A', confidence: 0.4, action: 'discounts and affordability' },
    ]);
  });

  it('summarises every segment over all scored customers, and counts the selected ones', () => {
    const { targets, segments } = build(3).finish();
    expect(targets.map((t) => t.id)).toEqual(['c2', 'c4', 'c3']);
    expect(segments).toEqual([
      // A: 0.4, 0.8, 0.5 → mean 1.7 / 3 = 17 / 30
      { segment: 'A', action: 'discounts and affordability', customers: 3, meanConfidence: 17 / 30, selected: 1 },
      { segment: 'B', action: 'loyalty programme', customers: 1, meanConfidence: 0.6, selected: 1 },
      { segment: 'C', action: 'premium upsell', customers: 1, meanConfidence: 0.6, selected: 0 },
      { segment: 'D', action: null, customers: 1, meanConfidence: 0.9, selected: 1 },
    ]);
  });

  it('reports a segment nobody fell into with a null mean', () => {
    const { segments } = build(undefined, [['x', 2, 1, 0.7]]).finish();
    expect(segments.map((s) => [s.segment, s.customers, s.meanConfidence])).toEqual([
      ['A', 0, null],
      ['B', 1, 0.7],
      ['C', 0, null],
      ['D', 0, null],
    ]);
  });

  it('merged JSON parts equal the whole, for any split (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ c: fc.integer({ min: 0, max: 3 }), conf: fc.oneof(fc.constantFrom(0.25, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true })) }), {
          maxLength: 60,
        }),
        fc.nat(),
        fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        (drawn, cut, maxContacts) => {
          const rows = drawn.map((r, i): [string, number, number, number] => [`s${i % 5}`, i + 2, r.c, r.conf]);
          const at = cut % (rows.length + 1);
          const whole = build(maxContacts, rows);
          const left = SegmentSelector.fromJSON(JSON.parse(JSON.stringify(build(maxContacts, rows.slice(0, at)))));
          const right = SegmentSelector.fromJSON(JSON.parse(JSON.stringify(build(maxContacts, rows.slice(at)))));
          const merged = right.merge(left);
          expect(merged.toJSON()).toEqual(whole.toJSON());
          expect(merged.finish()).toEqual(whole.finish());
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects an unknown class index or a confidence outside [0, 1], naming the line', () => {
    const s = new SegmentSelector({ classes });
    expect(() => s.offer('q', 9, 4, 0.5)).toThrow('line 9: class index 4 must be in [0, 4) and confidence 0.5 in [0, 1]');
    expect(() => s.offer('q', 9, 1, 1.5)).toThrow(RangeError);
    expect(s.scored).toBe(0);
  });

  it('refuses to merge selectors with other classes, and names bad JSON keys', () => {
    try {
      build().merge(new SegmentSelector({ classes: ['A', 'B'] }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).message).toBe('segment selector merge: classes: cannot merge segment selectors with different classes, actions or maxContacts');
    }
    const json = build().toJSON();
    try {
      SegmentSelector.fromJSON({ ...json, ids: ['x'], lines: [2], classIndexes: [7], confidences: [0.5] }, 'part.json');
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).code).toBe('CONFIG_INVALID');
      expect((error as ConfigError).key).toBe('classIndexes.0');
      expect((error as ConfigError).message).toBe('part.json: classIndexes.0: expected one of 4 class indexes');
    }
  });
});

// Real data: the segmentation training file, taking its label as the "predicted" class.
const TRAIN = dataset('segmentation/Train.csv');

describe.runIf(existsSync(TRAIN))('SegmentSelector on segmentation/Train.csv', () => {
  it('counts A = 1972, B = 1858, C = 1970, D = 2268 and keeps the 100 most confident', () => {
    const lines = readFileSync(TRAIN, 'utf8').trimEnd().split('\n');
    const s = new SegmentSelector({ classes, actions, maxContacts: 100 });
    lines.slice(1).forEach((text, i) => {
      const f = text.split(',');
      const age = Number(f[3]);
      s.offer(f[0]!, i + 2, classes.indexOf(f[10]!), Math.min(1, age / 90)); // confidence: any fixed function
    });
    const { scored, targets, segments } = s.finish();
    expect(scored).toBe(8068);
    expect(segments.map((x) => [x.segment, x.customers])).toEqual([
      ['A', 1972],
      ['B', 1858],
      ['C', 1970],
      ['D', 2268],
    ]);
    expect(targets).toHaveLength(100);
    expect(segments.reduce((n, x) => n + x.selected, 0)).toBe(100);
    for (let i = 1; i < targets.length; i++) {
      const [a, b] = [targets[i - 1]!, targets[i]!];
      expect(a.confidence > b.confidence || (a.confidence === b.confidence && a.line < b.line)).toBe(true);
    }
  });
});
