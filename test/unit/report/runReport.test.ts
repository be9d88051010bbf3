import { describe, expect, it } from 'vitest';
import type { RunProfile } from '../../../functions/core/drift/runProfile.js';
import type { RunSummary } from '../../../functions/core/engine/runSummary.js';
import type { LabelledEvaluation } from '../../../functions/core/evaluation/labelledEvaluation.js';
import { escapeHtml } from '../../../functions/core/report/html.js';
import { renderRunReport } from '../../../functions/core/report/runReport.js';

/** Data marks of one kind in rendered SVG: vega draws each mark set as `<g class="mark-<kind> role-mark …">` of items. */
function dataMarks(html: string, kind: 'rect' | 'line' | 'symbol' | 'rule'): number[] {
  const groups = [...html.matchAll(new RegExp(`<g class="mark-${kind} role-mark[^"]*"[^>]*>(.*?)</g>`, 'g'))];
  return groups.map((g) => (g[1]!.match(/<(path|line)\b/g) ?? []).length);
}

const figures = (html: string) => (html.match(/<figure class="chart">/g) ?? []).length;

const HOSTILE = '<script>alert("x")</script>';

const figures4 = (contacts: number, responders: number, cost: number, gain: number) => ({
  contacts,
  expectedResponders: responders,
  responseRate: contacts > 0 ? responders / contacts : null,
  cost,
  gain,
  profit: gain - cost,
  roi: cost > 0 ? (gain - cost) / cost : null,
});

/** A binary run of 1,000 customers by hand: 10 deciles of 100, value 100, cost 10, no budget. */
function binarySummary(extra: Partial<RunSummary> = {}): RunSummary {
  const deciles = Array.from({ length: 10 }, (_, i) => {
    const mean = (10 - i) / 20; // 0.5, 0.45, …, 0.05
    return {
      decile: i + 1,
      customers: 100,
      minScore: mean - 0.025,
      maxScore: mean + 0.025,
      meanProbability: mean,
      meanValue: 100,
      expectedResponders: mean * 100,
      cumulativeCustomers: (i + 1) * 100,
      cumulativeExpectedResponders: 0,
      cumulativeGainPct: 0,
      lift: mean / 0.275,
      cumulativeLift: null,
      cost: 0,
      gain: 0,
      profit: 0,
      roi: null,
    };
  });
  return {
    status: 'complete',
    source: `extract ${HOSTILE}.csv`,
    model: { name: 'hand', version: 'v1', task: 'binary', location: 'memory' },
    startedAt: '2026-11-30T00:00:00.000Z',
    finishedAt: '2026-11-30T00:00:01.000Z',
    durationMs: 1000,
    rows: { read: 1003, scored: 1000, rejected: 3, rejectReasons: { NOT_A_NUMBER: 2, FIELD_COUNT: 1 } },
    unseenCategories: { [HOSTILE]: 4 },
    delimiter: ',',
    csvInjectionProtection: true,
    economics: { currency: 'EUR', costPerContact: 10, valuePerResponse: 100, fixedCost: 0, budget: {}, policy: 'max-expected-profit' },
    scoreDistribution: {
      customers: 1000,
      min: 0.025,
      max: 0.525,
      mean: 0.275,
      quantiles: { p10: 0.05, p25: 0.15, p50: 0.275, p75: 0.4, p90: 0.5 },
      histogram: Array.from({ length: 20 }, (_, i) => ({ from: i / 20, to: (i + 1) / 20, customers: i < 11 && i > 0 ? 100 : 0 })),
    },
    deciles,
    campaign: {
      currency: 'EUR',
      policy: 'max-expected-profit',
      budgetContacts: null,
      scored: 1000,
      selection: figures4(900, 270, 9000, 27000),
      everyone: figures4(1000, 275, 10000, 27500),
      noOne: figures4(0, 0, 0, 0),
      best: figures4(900, 270, 9000, 27000),
    },
    profitCurve: [
      { contacts: 0, profit: 0 },
      { contacts: 500, profit: 14000 },
      { contacts: 900, profit: 18000 },
      { contacts: 1000, profit: 17500 },
    ],
    selected: 900,
    segments: null,
    ...extra,
  };
}

const LABELS: LabelledEvaluation = {
  column: 'y',
  task: 'binary',
  rows: 990,
  unlabelled: 10,
  positives: 120,
  rocAuc: 0.8123,
  prAuc: 0.4567,
  logLoss: 0.3012,
  accuracy: 0.9,
  calibration: {
    ece: 0.0211,
    bins: [
      { lower: 0, upper: 0.1, count: 500, meanPredicted: 0.05, observedRate: 0.04 },
      { lower: 0.4, upper: 0.5, count: 490, meanPredicted: 0.45, observedRate: 0.5 },
    ],
  },
  liftByDecile: Array.from({ length: 10 }, (_, i) => ({
    decile: i + 1,
    rows: 99,
    positives: 12,
    responseRate: 12 / 99,
    lift: 1,
    cumulativeGain: (i + 1) / 10,
    cumulativeLift: 1,
    minScore: 0,
    maxScore: 1,
  })),
  realized: {
    selection: { contacted: 900, responders: 110, cost: 9000, gain: 11000, profit: 2000, roi: 2000 / 9000 },
    everyone: { contacted: 1000, responders: 120, cost: 10000, gain: 12000, profit: 2000, roi: 0.2 },
  },
};

describe('renderRunReport', () => {
  it('renders a binary run: campaign card, profit curve with the cut-off, score histogram, gains, lift and the decile table', async () => {
    const html = await renderRunReport(binarySummary());

    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain(`<h1>Propensity run: extract ${escapeHtml(HOSTILE)}.csv</h1>`);
    for (const title of ['Campaign', 'Score distribution', 'Gains and lift by decile', 'Data quality']) expect(html).toContain(`<h2>${title}</h2>`);
    expect(html).toContain('<td>best this extract allows</td><td class="num">900</td><td class="num">270.0</td><td class="num">9,000 EUR</td><td class="num">27,000 EUR</td><td class="num">18,000 EUR</td><td class="num">200.0 %</td>');
    // Charts: profit curve, score histogram, gains, lift, rejects.
    expect(figures(html)).toBe(5);
    expect(html).toContain('cut-off 900');
    expect(html).not.toContain('budget 900');
    // The lift chart has one bar per decile; the score histogram one rect per bin of the 20.
    expect(dataMarks(html, 'rect')).toEqual(expect.arrayContaining([20, 10]));
    // No script, no external URL of any kind (the SVG namespaces are identifiers, never fetched).
    expect(html).not.toMatch(/<script/i);
    expect(html.replaceAll('http://www.w3.org/2000/svg', '').replaceAll('http://www.w3.org/1999/xlink', '')).not.toMatch(/https?:|url\(|@import|<link|<img|src=/i);
    expect(html).not.toContain('Placeholder economics');
  });

  it('escapes every text from data: the extract name and an unseen column', async () => {
    const html = await renderRunReport(binarySummary());
    expect(html).not.toContain(HOSTILE);
    expect(html).toContain(`<td>${escapeHtml(HOSTILE)}</td><td class="num">4</td>`);
  });

  it('marks the budget on the profit curve when it binds', async () => {
    const summary = binarySummary();
    const html = await renderRunReport({ ...summary, campaign: { ...summary.campaign!, budgetContacts: 500, selection: figures4(500, 200, 5000, 19000) } });
    expect(html).toContain('cut-off 500');
    expect(html).toContain('budget 500');
    expect(html).toContain('Policy max-expected-profit, budget 500 contacts; 1,000 customers scored.');
  });

  it('shows the placeholder-economics banner when no person set the economics', async () => {
    const summary = binarySummary();
    const html = await renderRunReport({ ...summary, economics: { ...summary.economics, placeholder: true } });
    const { currency, costPerContact } = summary.economics;
    expect(summary.economics.valuePerResponse).toBe(100);
    expect(html).toContain(
      `<div class="banner warn" role="note">${escapeHtml(`Placeholder economics: ${currency} ${costPerContact} per contact, 100 per response — set them with --economics FILE or in spec.json. Every money figure here (profit, ROI, the selection itself) is illustrative.`)}</div>`,
    );
  });

  it('adds "Realized performance" when the extract carried labels: metrics, reliability, realized lift and ROI', async () => {
    const html = await renderRunReport(binarySummary({ labels: LABELS }));

    expect(html).toContain('<h2>Realized performance (labels found in column y)</h2>');
    expect(html).toContain('990 scored rows carried a known label (120 positive); 10 had none and are left out.');
    for (const [label, value] of [['ROC AUC', '0.8123'], ['PR-AUC', '0.4567'], ['log loss', '0.3012'], ['ECE', '0.0211']]) {
      expect(html).toContain(`<div class="label">${label}</div><div class="value">${value}</div>`);
    }
    expect(html).toContain('<td>selection</td><td class="num">900</td><td class="num">110</td><td class="num">9,000 EUR</td><td class="num">11,000 EUR</td><td class="num">2,000 EUR</td><td class="num">22.2 %</td>');
    expect(html).toContain('<td>everyone</td><td class="num">1,000</td><td class="num">120</td>');
    // Two more charts: the reliability diagram (its two bins as symbols) and the realized lift.
    expect(figures(html)).toBe(7);
    expect(dataMarks(html, 'symbol')).toContain(2);
  });

  it('counts missing values per column from `imputed`, else from the run profile', async () => {
    const imputed = await renderRunReport(binarySummary({ imputed: { age: 7, job: 0 } }));
    expect(imputed).toContain('Missing cells among scored rows, filled by the spec’s imputation.');
    expect(imputed).toContain('<td>age</td><td class="num">7</td><td class="num">0.7 %</td>');
    expect(imputed).not.toContain('<td>job</td>');

    const profile = { features: [{ name: 'balance', kind: 'numeric', counts: [1], missing: 25 }] } as unknown as RunProfile;
    const fromProfile = await renderRunReport(binarySummary(), profile);
    expect(fromProfile).toContain('from the run profile (profile.json)');
    expect(fromProfile).toContain('<td>balance</td><td class="num">25</td><td class="num">2.5 %</td>');

    expect(await renderRunReport(binarySummary())).toContain('This run recorded no missing-value counts.');
  });

  it('lists the contact policy exclusions', async () => {
    const html = await renderRunReport(
      binarySummary({ policy: { suppression: { customers: 30, byReason: { 'do-not-call': 20, complaint: 10 } }, overCap: 5, control: { fraction: 0.1, salt: 's', ...figures4(90, 27, 900, 2700) }, selectedBeforeControl: 900 } }),
    );
    expect(html).toContain('<h2>Contact policy exclusions</h2>');
    expect(html).toContain('<td>suppressed: do-not-call</td><td class="num">20</td>');
    expect(html).toContain('<td>over the frequency cap</td><td class="num">5</td>');
    expect(html).toContain('<td>control group (10.0 % asked)</td><td class="num">90</td>');
  });

  it('renders a multiclass run: segment counts, confidence and escaped actions, no campaign or deciles', async () => {
    const html = await renderRunReport(
      binarySummary({
        model: { name: 'seg', version: 'v2', task: 'multiclass', location: 'memory' },
        campaign: null,
        deciles: null,
        selected: 1000,
        segments: [
          { segment: 'A', action: `call ${HOSTILE}`, customers: 600, meanConfidence: 0.7, selected: 600 },
          { segment: 'B', action: null, customers: 400, meanConfidence: 0.55, selected: 400 },
        ],
      }),
    );
    expect(html).toContain('<h2>Segments (1,000 customers on the list)</h2>');
    expect(html).not.toContain('<h2>Campaign</h2>');
    expect(html).not.toContain('<h2>Gains and lift by decile</h2>');
    expect(html).toContain(`<td>A</td><td class="num">600</td><td class="num">0.700</td><td class="num">600</td><td>call ${escapeHtml(HOSTILE)}</td>`);
    expect(html).not.toContain(HOSTILE);
    // Bars: the 20 confidence bins, two per segment chart, and the two reject reasons.
    expect(dataMarks(html, 'rect')).toEqual([20, 2, 2, 2]);
  });
});
