import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { localExtract } from '../../functions/adapters/fs/localExtract.js';
import { tfjsTrainingRuntime } from '../../functions/adapters/model/tfjsTrainingRuntime.js';
import { runDriftCheck } from '../../functions/core/drift/runDriftCheck.js';
import { sha256Hex } from '../../functions/core/bundle/bundle.js';
import { collectDriftHistory, renderDriftReport } from '../../functions/core/report/driftReport.js';
import { train } from '../../functions/core/training/train.js';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';
import { buildBankBaseline, loadBankFixture, profileRows, shiftRows } from '../unit/drift/bankMarketingFixture.js';

/**
 * The four reports of issue 10 opened in headless Chromium (Debian's `chromium`, driven by
 * playwright-core): the bank-marketing run, a multiclass segmentation run, a training report and a
 * drift report with an alert. Each must load without a console error, make no request but the page
 * itself, draw marks in every chart and carry its titles. PNG screenshots go to test-output/report-screens/.
 */
const CHROMIUM = '/usr/bin/chromium';
const found = existsSync(CHROMIUM);
if (!found) console.warn(`reportsInBrowser: SKIPPED, ${CHROMIUM} not found. Install Debian's chromium (apt-get install -y chromium; .ci/run does) to open the HTML reports in a browser.`);

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const SCREENS = path.join(REPO_ROOT, 'test-output', 'report-screens');
const BUNDLE_FILE_LIMIT = 1024 * 1024;

let browser: Browser;
let work: string;

interface Opened {
  readonly h1: string;
  readonly h2: readonly string[];
  /** Per chart: how many data marks (not axes, not text) its SVG drew. */
  readonly marksPerChart: readonly number[];
  readonly consoleProblems: readonly string[];
  readonly requests: readonly string[];
}

/** Opens a report from file://, records console messages and requests, screenshots it, and reads what it shows. */
async function openReport(file: string, screenshot: string): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const consoleProblems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleProblems.push(`pageerror: ${error.message}`));
  page.on('request', (request) => requests.push(request.url()));
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.screenshot({ path: path.join(SCREENS, `${screenshot}.png`), fullPage: true });
    const h1 = (await page.locator('h1').textContent()) ?? '';
    const h2 = await page.locator('h2').allTextContents();
    const dataMark = 'g.role-mark:not(.mark-text):not(.mark-group)';
    const marksPerChart: number[] = [];
    for (const chart of await page.locator('figure.chart svg').all()) marksPerChart.push(await chart.locator(`${dataMark} > path, ${dataMark} > line, ${dataMark} > rect`).count());
    return { h1, h2, marksPerChart, consoleProblems, requests };
  } finally {
    await page.close();
  }
}

/** Scores a shared dataset with a bundled model through the CLI; returns the run folder and its report.html. */
async function scoredRun(model: string, data: string): Promise<{ out: string; file: string }> {
  const out = path.join(work, `${model}-run`);
  const scored = await runCliCaptured(['score', '--model', model, '--input', dataset(data), '--out', out, '--quiet']);
  expect(scored).toMatchObject({ code: 0, stderr: '' });
  return { out, file: path.join(out, 'report.html') };
}

function expectClean(opened: Opened, file: string, minCharts: number): void {
  expect(opened.consoleProblems).toEqual([]);
  expect(opened.requests).toEqual([pathToFileURL(file).href]);
  expect(opened.marksPerChart.length).toBeGreaterThanOrEqual(minCharts);
  for (const [i, marks] of opened.marksPerChart.entries()) expect(marks, `chart ${i + 1} has no marks`).toBeGreaterThan(0);
}

// Skipped only where Chromium is not installed (.ci/run installs it), and then loudly: the warning above and the reason in the title.
describe.skipIf(!found)(`HTML reports in headless Chromium${found ? '' : ` — SKIPPED: ${CHROMIUM} not found (install Debian's chromium; .ci/run does)`}`, () => {
  beforeAll(async () => {
    await mkdir(SCREENS, { recursive: true });
    work = await mkdtemp(path.join(tmpdir(), 'propensity-reports-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the bank-marketing run: campaign card, profit curve, gains, deciles; re-rendered by propensity report byte for byte', async () => {
    const { out, file } = await scoredRun('bank-marketing', 'bank-marketing/bank-full.csv');

    const opened = await openReport(file, 'run-bank-marketing');

    expectClean(opened, file, 5);
    expect(opened.h1).toBe(`Propensity run: ${dataset('bank-marketing/bank-full.csv')}`);
    // bank-full.csv still holds y: the run is evaluated against it.
    expect(opened.h2).toEqual(['Campaign', 'Score distribution', 'Gains and lift by decile', 'Realized performance (labels found in column y)', 'Data quality']);
    const again = path.join(work, 'bank-again.html');
    const report = await runCliCaptured(['report', out, '--out', again]);
    expect(report).toMatchObject({ code: 0, stdout: `${again}\n` });
    expect(await readFile(again, 'utf8')).toBe(await readFile(file, 'utf8'));
  }, 180_000);

  it('a multiclass segmentation run: segment counts, confidence and actions', async () => {
    const { file } = await scoredRun('segmentation', 'segmentation/Train.csv');

    const opened = await openReport(file, 'run-segmentation');

    expectClean(opened, file, 3);
    expect(opened.h1).toBe(`Propensity run: ${dataset('segmentation/Train.csv')}`);
    // Train.csv still holds Segmentation: the run is evaluated against it.
    expect(opened.h2).toEqual(['Score distribution', expect.stringMatching(/^Segments \([\d,]+ customers on the list\)$/), 'Realized performance (labels found in column Segmentation)', 'Data quality']);
  }, 180_000);

  it('a training report in a freshly trained bundle: every file of the bundle under 1 MB, hashed, and what propensity report renders', async () => {
    const spec = JSON.parse(await readFile(path.join(REPO_ROOT, 'model-store/bank-marketing/spec.json'), 'utf8')) as unknown;
    const result = await train({
      runtime: tfjsTrainingRuntime,
      data: localExtract(dataset('bank-marketing/bank-full.csv')),
      spec,
      version: 'report-test',
      overrides: { training: { epochs: 3, ensemble: 1, importanceRepeats: 1 }, search: { trials: 2, minEpochs: 1, timeBudgetSeconds: 120 } },
    });
    const bundleDir = path.join(work, 'bundle');
    await writeBundleDir(bundleDir, result.bundle);
    for (const [name, bytes] of result.bundle.files) expect(bytes.length, name).toBeLessThanOrEqual(BUNDLE_FILE_LIMIT);
    expect((await stat(path.join(bundleDir, 'manifest.json'))).size).toBeLessThanOrEqual(BUNDLE_FILE_LIMIT);
    const file = path.join(bundleDir, 'report.html');
    expect(result.bundle.manifest.files['report.html']).toBe(sha256Hex(await readFile(file)));

    const opened = await openReport(file, 'training-bank-marketing');

    expectClean(opened, file, 8);
    expect(opened.h1).toBe('Training report: bank-marketing report-test');
    expect(opened.h2).toEqual([
      'Evaluation split',
      'Learning curves',
      'ROC and precision–recall curves',
      'Calibration',
      'Confusion matrix and per-class precision, recall, F1',
      'Permutation importance',
      'Hyperparameter search',
    ]);
    const rendered = path.join(work, 'training-again.html');
    expect((await runCliCaptured(['report', bundleDir, '--out', rendered])).code).toBe(0);
    expect(await readFile(rendered, 'utf8')).toBe(await readFile(file, 'utf8'));
  }, 300_000);

  it('a drift report with an alert: PSI lines, the drifted features, score shift and realized history', async () => {
    const fixture = await loadBankFixture();
    const baseline = buildBankBaseline(fixture);
    const shifted = shiftRows(fixture.header, fixture.holdout);
    const profiles = [shifted.slice(0, 4500), shifted.slice(4500)].map((rows, i) => ({ source: `run-${i}/profile.json`, profile: profileRows(fixture, baseline, rows, `run-${i}`, (p) => p >= 0.4) }));
    const { report } = runDriftCheck({ baseline, profiles, model: 'bank-marketing', modelVersion: 'v1', now: new Date('2026-11-24T06:00:00Z') });
    expect(report.status).toBe('alert');
    // What a drift folder copied from S3 holds beside tonight's report: an earlier report and one realized file.
    const history = collectDriftHistory([
      { name: '2026-11-24.json', json: report },
      { name: '2026-11-23.json', json: { ...report, checkedAt: '2026-11-23T06:00:00.000Z', performance: { ...report.performance, estimatedAuc: 0.78 } } },
      {
        name: '2026-11-24.realized.json',
        json: {
          at: '2026-11-24T06:00:00.000Z',
          runs: [
            {
              run: 'outputs/bank-marketing/run-0/',
              modelVersion: 'v1',
              labelled: 4500,
              unlabelled: 0,
              performance: {
                rows: 4500,
                responders: 520,
                responseRate: 520 / 4500,
                expectedResponseRate: 0.12,
                auc: 0.74,
                selection: { contacts: 900, responders: 260, expectedResponders: 300, precision: 260 / 900, expectedPrecision: 1 / 3, recall: 0.5, expectedRecall: 0.55, cost: 7200, profit: 24000, expectedProfit: 28800, roi: 24000 / 7200, expectedRoi: 4 },
              },
            },
          ],
        },
      },
    ]);
    const file = path.join(work, '2026-11-24.html');
    await writeFile(file, await renderDriftReport(report, history));

    const opened = await openReport(file, 'drift-alert');

    expectClean(opened, file, 5);
    expect(opened.h1).toBe('Drift report: bank-marketing v1');
    expect(opened.h2).toEqual(['PSI per feature', 'Baseline and current distributions of the drifted features', 'Score distribution shift', 'Performance']);
  }, 180_000);
});
