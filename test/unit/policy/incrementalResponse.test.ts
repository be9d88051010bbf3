import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { incrementalFromOutcomes, incrementalResponse } from '../../../functions/core/policy/incrementalResponse.js';
import { claimIndexedOutcomes, labelledScoreAt } from '../../../functions/core/runIndex/indexedOutcomes.js';
import { OutcomeClaims } from '../../../functions/core/runIndex/outcomeClaims.js';
import { inChunks, type RunIndexRow } from '../../../functions/core/runIndex/runIndex.js';
import { controlDraw, inControlGroup } from '../../../functions/core/policy/controlGroup.js';

describe('incremental response (treated vs control)', () => {
  it('matches a hand calculation: 1,000 treated with 120 responders, 200 control with 14', () => {
    // Hand: p_t = 0.12, p_c = 0.07, d = 0.05;
    // se = √(0.12·0.88/1000 + 0.07·0.93/200) = √(0.0001056 + 0.00032550) = √0.0004311 = 0.0207629…
    // 95 %: 0.05 ± 1.959964·0.0207629 = 0.05 ± 0.0406945 → [0.0093055, 0.0906945]
    // incremental responders = 1000·d = 50 [9.3055, 90.6945]
    // cost = 1000·8 + 500 = 8500; incremental ROI = (1000·d·200 − 8500) / 8500 = 10000/8500 − 1 = 0.176470…
    const r = incrementalResponse({ treated: 1000, treatedResponders: 120, control: 200, controlResponders: 14 }, { costPerContact: 8, fixedCost: 500, valuePerResponse: 200 })!;
    expect(r.treated.rate).toBe(0.12);
    expect(r.control.rate).toBe(0.07);
    expect(r.uplift.estimate).toBeCloseTo(0.05, 12);
    const se = Math.sqrt(0.0004311);
    expect(se).toBeCloseTo(0.0207629, 6);
    expect(r.uplift.low).toBeCloseTo(0.0093055, 6);
    expect(r.uplift.high).toBeCloseTo(0.0906945, 6);
    expect(r.incrementalResponders.estimate).toBeCloseTo(50, 9);
    expect(r.incrementalResponders.low).toBeCloseTo(9.3055, 3);
    expect(r.incrementalResponders.high).toBeCloseTo(90.6945, 3);
    expect(r.incrementalRoi!.estimate).toBeCloseTo(10000 / 8500 - 1, 9);
    expect(r.incrementalRoi!.low).toBeCloseTo((9.3055 * 200) / 8500 - 1, 3);
    expect(r.incrementalRoi!.high).toBeCloseTo((90.6945 * 200) / 8500 - 1, 3);
  });

  it('is what the realized step reports for a run whose labels join its index and control.csv', async () => {
    // Prepare: 1,000 treated (120 responded), 200 in control (14 responded), 300 neither selected nor held out.
    const index: RunIndexRow[] = [];
    const labels = new Map<string, boolean>();
    const control = new Set<string>();
    for (let i = 0; i < 1500; i++) {
      const id = `c${i}`;
      const treated = i < 1000;
      index.push({ id, score: '0.2', selected: treated, value: treated ? '200' : '' });
      if (i >= 1000 && i < 1200) control.add(id);
      labels.set(id, treated ? i < 120 : i < 1014 || i >= 1400);
    }
    const rows = () => Readable.from(index) as AsyncIterable<RunIndexRow>;
    // Act
    const claimed = await claimIndexedOutcomes(new OutcomeClaims({ outcomes: labels }), inChunks(rows(), 256), { day: '2026-11-30', mayClaimUndated: true }, 200, control);
    const joined = claimed.ids.map((_, i) => labelledScoreAt(claimed, i, true));
    const r = incrementalFromOutcomes(joined, { costPerContact: 8, fixedCost: 500 }, 200)!;
    // Assess: the hand calculation above.
    expect(r.treated).toEqual({ customers: 1000, responders: 120, rate: 0.12 });
    expect(r.control).toEqual({ customers: 200, responders: 14, rate: 0.07 });
    expect(r.incrementalResponders.estimate).toBeCloseTo(50, 9);
    expect(r.incrementalResponders.low).toBeCloseTo(9.3055, 3);
    expect(r.incrementalResponders.high).toBeCloseTo(90.6945, 3);
    expect(r.incrementalRoi!.estimate).toBeCloseTo(10000 / 8500 - 1, 9);
  });

  it('needs both groups; no cost, no ROI', () => {
    expect(incrementalResponse({ treated: 10, treatedResponders: 1, control: 0, controlResponders: 0 }, { costPerContact: 1, fixedCost: 0, valuePerResponse: 1 })).toBeNull();
    expect(incrementalResponse({ treated: 10, treatedResponders: 1, control: 5, controlResponders: 0 }, { costPerContact: 0, fixedCost: 0, valuePerResponse: 1 })!.incrementalRoi).toBeNull();
  });
});

describe('control group draw', () => {
  it('is a function of id and salt only, and holds out about the fraction', () => {
    expect(controlDraw('12345', 'spring')).toBe(controlDraw('12345', 'spring'));
    expect(controlDraw('12345', 'spring')).not.toBe(controlDraw('12345', 'autumn'));
    let held = 0;
    for (let i = 0; i < 20_000; i++) if (inControlGroup(`c${i}`, 'spring', 0.1)) held++;
    // Binomial(20000, 0.1): sd 42; 5 sd either side.
    expect(Math.abs(held - 2000)).toBeLessThan(212);
    expect(inControlGroup('x', 's', 0)).toBe(false);
  });
});
