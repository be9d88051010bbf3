import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../functions/core/engine/runSummary.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

/**
 * Must-show of issue 10: scoring an extract that still carries its label column reports realized
 * figures that a reader of the WRITTEN scores.csv can recompute. The AUC here is this file's own
 * Mann–Whitney (average ranks over ties, as scikit-learn's roc_auc_score), not the product's.
 */

/** ROC AUC by average ranks: (Σ ranks of positives − P(P+1)/2) / (P·N), tied scores sharing their mean rank. */
function mannWhitneyAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let k = i; k <= j; k++) ranks[order[k]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let p = 0;
  let rankSum = 0;
  positive.forEach((yes, i) => {
    if (yes) {
      p++;
      rankSum += ranks[i]!;
    }
  });
  const n = scores.length - p;
  return (rankSum - (p * (p + 1)) / 2) / (p * n);
}

/** A written CSV's rows as fields (the outputs here never quote a field). */
async function csvRows(file: string, delimiter = ','): Promise<string[][]> {
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => line.split(delimiter).map((field) => field.replace(/^"|"$/g, '')));
}

const summaryOf = async (out: string): Promise<RunSummary> => JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as RunSummary;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-labels-'));
});

describe('scoring bank-full.csv, which still has its label y', () => {
  const input = dataset('bank-marketing/bank-full.csv');
  const score = async (name: string, ...extra: string[]) => {
    const out = path.join(work, name);
    const run = await runCliCaptured(['score', '--model', 'bank-marketing', '--input', input, '--out', out, ...extra]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    return { out, stdout: run.stdout, summary: await summaryOf(out) };
  };

  it('reports a realized AUC equal (to 1e-6) to one computed from the written scores.csv and the file\'s labels', async () => {
    const { out, stdout, summary } = await score('single', '--workers', '1', '--parts', '1');

    // Labels from the input (line n of the file is row n − 1), scores as scores.csv wrote them.
    const input = await csvRows(dataset('bank-marketing/bank-full.csv'), ';');
    const y = input[0]!.indexOf('y');
    const scores = await csvRows(path.join(out, 'scores.csv'));
    expect(scores[0]).toEqual(['line', 'probability', 'predicted', 'decile']);
    const rows = scores.slice(1);
    expect(rows).toHaveLength(45_211);
    const positive = rows.map((r) => input[Number(r[0]) - 1]![y] === 'yes');
    const auc = mannWhitneyAuc(rows.map((r) => Number(r[1])), positive);

    const labels = summary.labels!;
    expect(labels).toMatchObject({ column: 'y', task: 'binary', rows: 45_211, unlabelled: 0, positives: positive.filter(Boolean).length });
    expect(Math.abs(labels.rocAuc - auc)).toBeLessThanOrEqual(1e-6);
    expect(labels.rocAuc).toBeGreaterThan(0.7);
    // Lift by the run's deciles: the rows of scores.csv's decile column, and its responders.
    for (const d of labels.liftByDecile!) {
      const inDecile = rows.filter((r) => Number(r[3]) === d.decile);
      expect(d.rows).toBe(inDecile.length);
      expect(d.positives).toBe(inDecile.filter((r) => input[Number(r[0]) - 1]![y] === 'yes').length);
    }
    // Realized selection: the responders among targets.csv's customers, at the run's economics.
    const targets = (await csvRows(path.join(out, 'targets.csv'))).slice(1);
    const responders = targets.filter((t) => input[Number(t[0]) - 1]![y] === 'yes').length;
    const { costPerContact, fixedCost } = summary.economics;
    expect(labels.realized!.selection).toMatchObject({ contacted: targets.length, responders, cost: fixedCost + targets.length * costPerContact });
    expect(labels.realized!.everyone).toMatchObject({ contacted: 45_211, responders: labels.positives });
    expect(summary.imputed).toMatchObject({ pdays: rows.length - input.slice(1).filter((r) => r[input[0]!.indexOf('pdays')] !== '-1').length });
    // The CLI says it found labels, in one line.
    expect(stdout).toMatch(/^Labels found in column "y": 45,211 rows, realized AUC 0\.\d{3}, selection ROI [\d.]+ % \(everyone [\d.]+ %\)$/m);
    expect(await readFile(path.join(out, 'report.md'), 'utf8')).toContain('## Labels found in column "y" (realized)');
  });

  it('gives the same labels figures on two worker lanes and in three parts', async () => {
    const single = (await summaryOf(path.join(work, 'single'))).labels;
    expect(single).toBeDefined();
    const lanes = await score('lanes', '--workers', '2', '--quiet');
    const parts = await score('parts', '--workers', '2', '--parts', '3', '--quiet');
    expect(lanes.summary.labels).toEqual(single);
    expect(parts.summary.labels).toEqual(single);
  });
});

describe('scoring the segmentation Train.csv, which still has its label Segmentation', () => {
  it('reports the macro one-vs-rest AUC and accuracy of the written class probabilities', async () => {
    const out = path.join(work, 'segments');
    const run = await runCliCaptured(['score', '--model', 'segmentation', '--input', dataset('segmentation/Train.csv'), '--out', out, '--quiet', '--workers', '1', '--parts', '1']);
    expect(run.code).toBe(0);
    const input = await csvRows(dataset('segmentation/Train.csv'));
    const labelOf = new Map(input.slice(1).map((r) => [r[0]!, r[r.length - 1]!]));
    const [header, ...rows] = await csvRows(path.join(out, 'scores.csv'));
    const classes = header!.filter((h) => h.startsWith('p_')).map((h) => h.slice(2));
    const perClass = classes.map((c, k) => mannWhitneyAuc(rows.map((r) => Number(r[1 + k])), rows.map((r) => labelOf.get(r[0]!) === c)));
    const predicted = header!.indexOf('predicted');
    const labels = (await summaryOf(out)).labels!;
    expect(labels).toMatchObject({ column: 'Segmentation', task: 'multiclass', rows: rows.length, unlabelled: 0, prAuc: null, liftByDecile: null, realized: null });
    expect(Math.abs(labels.rocAuc - perClass.reduce((a, b) => a + b, 0) / classes.length)).toBeLessThanOrEqual(1e-6);
    expect(labels.accuracy).toBeCloseTo(rows.filter((r) => r[predicted] === labelOf.get(r[0]!)).length / rows.length, 12);
  });
});
