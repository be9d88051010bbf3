import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalOutputTarget } from '../../../functions/adapters/fs/localOutputTarget.js';
import { tempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { loadModel } from '../../../functions/adapters/model/modelLoader.js';
import { resolveEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { campaignFigures } from '../../../functions/core/economics/campaignRoi.js';
import { profitCurve } from '../../../functions/core/economics/profitCurve.js';
import { ScoreHistogram } from '../../../functions/core/economics/scoreHistogram.js';
import { loadBundle } from '../../../functions/core/engine/loadBundle.js';
import type { RunSummary } from '../../../functions/core/engine/runSummary.js';
import { scoreExtract } from '../../../functions/core/engine/scoreExtract.js';
import { tinyBinaryBundle } from '../../helpers/tinyBundle.js';

describe('profitCurve', () => {
  it('gives the exact expected profit after each bin, best scores first, from 0 contacts (the campaign not run)', () => {
    // Prepare: four customers, value 100, cost 20 per contact and 10 fixed: expected values 70, 40, 10, −10.
    const histogram = new ScoreHistogram(20);
    for (const p of [0.9, 0.6, 0.3, 0.1]) histogram.add(p, 100);

    // Act
    const curve = profitCurve(histogram, { costPerContact: 20, fixedCost: 10, valuePerResponse: 100 });

    // Assess: 90 − 10 − 20, 150 − 10 − 40, 180 − 10 − 60, 190 − 10 − 80.
    expect(curve).toEqual([
      { contacts: 0, profit: 0 },
      { contacts: 1, profit: 60 },
      { contacts: 2, profit: 100 },
      { contacts: 3, profit: 110 },
      { contacts: 4, profit: 100 },
    ]);
  });

  it('keeps about 120 points on a large run, the last one contacting everyone', () => {
    const histogram = new ScoreHistogram();
    for (let i = 0; i < 10_000; i++) histogram.add(((i * 7919) % 10_000) / 10_000, 50);
    const economics = { costPerContact: 5, fixedCost: 0, valuePerResponse: 50 };

    const curve = profitCurve(histogram, economics);

    expect(curve.length).toBeGreaterThan(100);
    expect(curve.length).toBeLessThanOrEqual(122);
    const t = histogram.totals();
    expect(curve.at(-1)).toEqual({ contacts: 10_000, profit: campaignFigures({ contacts: t.customers, probabilityUnits: t.probabilityUnits, gainMicros: t.gainMicros }, economics).profit });
    for (let i = 1; i < curve.length; i++) expect(curve[i]!.contacts).toBeGreaterThan(curve[i - 1]!.contacts);
  });

  it('in a scored run without a budget, peaks exactly at the max-expected-profit selection (summary.json profitCurve)', async () => {
    // Prepare: 400 customers of the tiny model (hand-set weights), value 100, cost 40 (break-even p = 0.4), fixed 50.
    const files = await tinyBinaryBundle();
    const bundle = await loadBundle(files, loadModel);
    const lines = ['customer_id,age,member', ...Array.from({ length: 400 }, (_, i) => `c${i},${(i * 37) % 90},${i % 3 === 0 ? 'yes' : 'no'}`)];
    const out = await mkdtemp(path.join(tmpdir(), 'propensity-profit-'));
    try {
      // Act
      const { summary } = await scoreExtract({
        input: Readable.from([Buffer.from(`${lines.join('\n')}\n`)]),
        source: 'extract.csv',
        bundle,
        economics: resolveEconomics(files.manifest.economics, { costPerContact: 40, valuePerResponse: 100, fixedCost: 50, budget: {} }),
        output: new LocalOutputTarget(out),
        spool: tempFileSpool(),
      });

      // Assess
      const curve = summary.profitCurve!;
      const selection = summary.campaign!.selection;
      expect(selection.contacts).toBeGreaterThan(0);
      expect(selection.contacts).toBeLessThan(400);
      expect(Math.max(...curve.map((p) => p.profit))).toBe(selection.profit);
      expect(curve).toContainEqual({ contacts: selection.contacts, profit: selection.profit });
      expect(curve.at(-1)).toEqual({ contacts: 400, profit: summary.campaign!.everyone.profit });
      const written = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;
      expect(written.profitCurve).toEqual(curve);
      const html = await readFile(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain(`cut-off ${selection.contacts}`);
    } finally {
      await bundle.model.dispose();
    }
  });
});
