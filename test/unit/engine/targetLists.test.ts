import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TempFileSpool } from '../../../functions/adapters/fs/tempFileSpool.js';
import { resolveEconomics, type CampaignEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { MONEY_SCALE, moneyUnits } from '../../../functions/core/economics/fixedPoint.js';
import { TargetSelector, bestSelectionRuleFor, selectionRuleFor } from '../../../functions/core/economics/targetSelection.js';
import { csvField, formatProbability } from '../../../functions/core/engine/csvText.js';
import { RankedRunWriter } from '../../../functions/core/engine/rankedRuns.js';
import { campaignCandidates, writeCampaignTargets, type RunRef } from '../../../functions/core/engine/targetLists.js';
import { endStream } from '../../../functions/core/engine/textStreams.js';
import { inControlGroup } from '../../../functions/core/policy/controlGroup.js';

let parent: string;
beforeAll(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'propensity-targets-test-'));
});
afterAll(async () => {
  await rm(parent, { recursive: true, force: true });
});

type Row = { id: string; line: number; p: number; v: number };

/** Spills rows as a scoring part does (parts of `partSize`, runs of `runRows`), writes the list, returns its text and totals. */
async function streamed(rows: Row[], economics: CampaignEconomics, partSize: number, runRows: number, controlFraction = 0) {
  const candidates = campaignCandidates(economics);
  const spools: TempFileSpool[] = [];
  const runs: RunRef[] = [];
  const file = path.join(parent, `targets-${Math.random().toString(36).slice(2)}.csv`);
  const controlFile = `${file}.control`;
  try {
    for (let start = 0; start < rows.length || spools.length === 0; start += partSize) {
      const spool = await TempFileSpool.create(parent);
      spools.push(spool);
      const writer = new RankedRunWriter(spool, candidates.readers, runRows);
      for (const r of rows.slice(start, start + partSize)) {
        const ev = moneyUnits(r.p * r.v) - candidates.costMicros;
        if (candidates.accepts(r.p, ev)) writer.add(ev, r.line, r.p, r.v, csvField(r.id));
      }
      const channels = writer.finish();
      await spool.close();
      runs.push(...channels.map((channel) => ({ spool, channel })));
    }
    const out = createWriteStream(file);
    const controlOut = createWriteStream(controlFile);
    const { control, ...totals } = await writeCampaignTargets(runs, economics, out, null, controlFraction > 0 ? { out: controlOut, fraction: controlFraction, salt: 'salt' } : null);
    await endStream(out);
    await endStream(controlOut);
    return { text: await readFile(file, 'utf8'), controlText: await readFile(controlFile, 'utf8'), totals, control };
  } finally {
    await Promise.all(spools.map((s) => s.dispose()));
    await rm(file, { force: true });
    await rm(controlFile, { force: true });
  }
}

/** The reference: the in-memory selectors of the policy's rule and of the best rule, fed every row. */
function inMemory(rows: Row[], economics: CampaignEconomics) {
  const policy = new TargetSelector(selectionRuleFor(economics));
  const best = new TargetSelector(bestSelectionRuleFor(economics));
  for (const r of rows) {
    policy.offer(r.id, r.line, r.p, r.v);
    best.offer(r.id, r.line, r.p, r.v);
  }
  const text = policy.result().map((t) => `${csvField(t.id)},${t.rank},${formatProbability(t.probability)},${t.value},${t.expectedValue}\n`).join('');
  return { text, totals: { selection: policy.totals(), best: best.totals() } };
}

const economicsArb = fc.record({
  costPerContact: fc.constantFrom(0, 1, 2.5, 10),
  valuePerResponse: fc.constantFrom(5, 20, 120),
  fixedCost: fc.constantFrom(0, 100),
  policy: fc.constantFrom('max-expected-profit', 'top-k', 'threshold'),
  k: fc.integer({ min: 1, max: 40 }),
  threshold: fc.constantFrom(0.2, 0.5, 0.9),
  maxContacts: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  maxSpend: fc.option(fc.constantFrom(50, 120, 130), { nil: undefined }),
});

describe('streamed target lists', () => {
  it('equal the in-memory selectors: same customers, order, text and exact totals, for every policy and budget (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 100 }), fc.constantFrom(1, 3, 7)), { maxLength: 80 }),
        economicsArb,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(0, 0, 0.3),
        async (cells, e, partSize, runRows, controlFraction) => {
          // Probabilities on a coarse grid: many ties on expected value, broken by line.
          const rows = cells.map(([q, v], i) => ({ id: i % 5 === 0 ? `=id${i}` : `c${i}`, line: i + 2, p: q / 100, v: v * 10 }));
          const economics = resolveEconomics({
            costPerContact: e.costPerContact,
            valuePerResponse: e.valuePerResponse,
            fixedCost: e.fixedCost,
            policy: e.policy,
            ...(e.policy === 'top-k' ? { k: e.k } : {}),
            ...(e.policy === 'threshold' ? { threshold: e.threshold } : {}),
            budget: { ...(e.maxContacts !== undefined ? { maxContacts: e.maxContacts } : {}), ...(e.maxSpend !== undefined ? { maxSpend: e.maxSpend } : {}) },
          });
          // Values per row as a value column gives them (the economics' constant only shapes the rules).
          const expected = inMemory(rows, economics);
          const actual = await streamed(rows, economics, partSize, runRows, controlFraction);
          // The control split takes the rows whose id draws below the fraction out of the list, rank kept.
          const lines = expected.text.split('\n').filter(Boolean);
          const held = (line: string) => inControlGroup(line.slice(0, line.indexOf(',')), 'salt', controlFraction);
          expect(actual.text).toBe(lines.filter((l) => !held(l)).map((l) => `${l}\n`).join(''));
          expect(actual.controlText).toBe(lines.filter(held).map((l) => `${l}\n`).join(''));
          expect(actual.totals.best).toEqual(expected.totals.best);
          expect(actual.totals.selection.contacts + actual.control.contacts).toBe(expected.totals.selection.contacts);
          expect(actual.totals.selection.gainMicros + actual.control.gainMicros).toBe(expected.totals.selection.gainMicros);
          expect(actual.totals.selection.probabilityUnits + actual.control.probabilityUnits).toBe(expected.totals.selection.probabilityUnits);
          if (controlFraction === 0) expect({ selection: actual.totals.selection, best: actual.totals.best }).toEqual(expected.totals);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('writes a known list: ranks by expected value, ties by line, the budget cuts', async () => {
    const economics = resolveEconomics({ costPerContact: 1, valuePerResponse: 10, fixedCost: 0, policy: 'max-expected-profit', budget: { maxContacts: 3 } });
    const rows: Row[] = [
      { id: 'a', line: 2, p: 0.5, v: 10 }, // ev 4
      { id: 'b', line: 3, p: 0.05, v: 10 }, // ev -0.5: never
      { id: 'c', line: 4, p: 0.9, v: 10 }, // ev 8
      { id: 'd', line: 5, p: 0.5, v: 10 }, // ev 4, after a
      { id: 'e', line: 6, p: 0.3, v: 10 }, // ev 2: over the budget
    ];
    const { text, totals } = await streamed(rows, economics, 2, 2);
    expect(text).toBe(`c,1,0.900000,10,8\na,2,0.500000,10,4\nd,3,0.500000,10,4\n`);
    expect(totals.selection.contacts).toBe(3);
    expect(Number(totals.selection.gainMicros) / MONEY_SCALE).toBe(19);
  });
});
