import type { CampaignFigures } from '../economics/campaignRoi.js';
import { placeholderNotice } from '../economics/campaignEconomics.js';
import type { LabelledEvaluation, RealizedFigures } from '../evaluation/labelledEvaluation.js';
import type { RunSummary } from './runSummary.js';
import { formatMoney, INTEGER_FORMAT, ONE_DECIMAL_FORMAT } from '../report/numberFormat.js';

const integer = INTEGER_FORMAT;
const decimal = ONE_DECIMAL_FORMAT;
const money = formatMoney;

function percent(ratio: number | null): string {
  return ratio === null ? '–' : `${decimal.format(ratio * 100)} %`;
}

function campaignRow(label: string, f: CampaignFigures, currency: string): string {
  return `| ${label} | ${integer.format(f.contacts)} | ${decimal.format(f.expectedResponders)} | ${money(f.cost, currency)} | ${money(f.gain, currency)} | ${money(f.profit, currency)} | ${percent(f.roi)} |`;
}

/**
 * The readable report of a run (`report.md`, and what the CLI and `npm start` print): rows,
 * the campaign against contacting everyone or no one, and the gains table.
 */
export function formatReport(summary: RunSummary): string {
  const lines: string[] = [];
  const { rows } = summary;
  lines.push(`# Propensity run: ${summary.source}`, '');
  const placeholder = placeholderNotice(summary.economics);
  if (placeholder) lines.push(`> **Placeholder economics.** Every money figure below uses ${placeholder.replace('placeholder economics: ', '')}.`, '');
  lines.push(`Model **${summary.model.name}** version ${summary.model.version} (${summary.model.task}), ${summary.durationMs} ms.`, '');
  lines.push(`Rows read ${integer.format(rows.read)} = scored ${integer.format(rows.scored)} + rejected ${integer.format(rows.rejected)}.`);
  const reasons = Object.entries(rows.rejectReasons);
  if (reasons.length > 0) lines.push(`Rejects by reason: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ')} (see rejects.csv).`);
  const long = summary.longLayout;
  if (long) {
    lines.push(`Long layout (one row per customer per period): customers scored ${integer.format(long.customersScored)}, rejected ${integer.format(long.customersRejected)}; periods with no row, imputed as missing: ${integer.format(long.missingPeriods)}.`);
  }
  const unseen = Object.entries(summary.unseenCategories).filter(([, n]) => n > 0);
  if (unseen.length > 0) lines.push(`Values not seen in training (scored as other): ${unseen.map(([c, n]) => `${c} ${n}`).join(', ')}.`);
  const imputed = Object.entries(summary.imputed ?? {}).filter(([, n]) => n > 0);
  if (imputed.length > 0) lines.push(`Missing values filled by imputation: ${imputed.map(([c, n]) => `${c} ${integer.format(n)}`).join(', ')}.`);
  lines.push('');

  const c = summary.campaign;
  if (c) {
    const cur = c.currency;
    lines.push(`## Campaign (${c.policy}${c.budgetContacts !== null ? `, budget ${integer.format(c.budgetContacts)} contacts` : ''})`, '');
    lines.push(`Selected **${integer.format(c.selection.contacts)}** customers: expected responders ${decimal.format(c.selection.expectedResponders)}, ROI **${percent(c.selection.roi)}**.`, '');
    lines.push('| campaign | contacts | expected responders | cost | gain | profit | ROI |', '|---|---:|---:|---:|---:|---:|---:|');
    lines.push(campaignRow('selection', c.selection, cur), campaignRow('best this extract allows', c.best, cur));
    lines.push(campaignRow('everyone', c.everyone, cur), campaignRow('no one', c.noOne, cur), '');
  }
  const policy = summary.policy;
  if (policy) {
    lines.push('## Contact policy (score → suppress → cap → economics/budget → control split)', '');
    if (policy.suppression) {
      const reasons = Object.entries(policy.suppression.byReason).map(([r, n]) => `${r} ${integer.format(n)}`).join(', ');
      lines.push(`Suppressed: ${integer.format(policy.suppression.customers)} scored customers never considered${reasons ? ` (${reasons})` : ''}.`);
    }
    if (policy.overCap !== null) lines.push(`Over the frequency cap: ${integer.format(policy.overCap)} scored customers never considered (contact-cap).`);
    if (policy.control && policy.selectedBeforeControl !== null) {
      lines.push(`Control group: ${integer.format(policy.control.contacts)} of ${integer.format(policy.selectedBeforeControl)} selected held out (control.csv, ${percent(policy.control.fraction)} asked); contacted ${integer.format(summary.selected)}.`);
    }
    lines.push('');
  }
  if (summary.deciles) {
    lines.push('## Gains by decile (1 = highest scores)', '');
    lines.push('| decile | customers | mean p | expected responders | cumulative gain | lift | profit down to here | ROI |', '|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const d of summary.deciles) {
      lines.push(
        `| ${d.decile} | ${integer.format(d.customers)} | ${d.meanProbability.toFixed(3)} | ${decimal.format(d.expectedResponders)} | ${decimal.format(d.cumulativeGainPct)} % | ${d.lift === null ? '–' : d.lift.toFixed(2)} | ${integer.format(d.profit)} | ${percent(d.roi)} |`,
      );
    }
    lines.push('');
  }
  if (summary.labels) lines.push(...labelsSection(summary.labels, summary.campaign?.currency ?? summary.economics.currency));
  if (summary.segments) {
    lines.push(`## Segments (${integer.format(summary.selected)} customers on the list)`, '');
    lines.push('| segment | customers | mean confidence | on the list | recommended action |', '|---|---:|---:|---:|---|');
    for (const s of summary.segments) {
      lines.push(`| ${s.segment} | ${integer.format(s.customers)} | ${s.meanConfidence === null ? '–' : s.meanConfidence.toFixed(3)} | ${integer.format(s.selected)} | ${s.action ?? ''} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

const fixed3 = (x: number | null) => (x === null || Number.isNaN(x) ? '–' : x.toFixed(3));

function realizedRow(label: string, f: RealizedFigures, currency: string): string {
  return `| ${label} | ${integer.format(f.contacted)} | ${integer.format(f.responders)} | ${money(f.cost, currency)} | ${money(f.gain, currency)} | ${money(f.profit, currency)} | ${percent(f.roi)} |`;
}

/**
 * The one line the CLI prints for a run whose extract carried labels, e.g.
 * `Labels found in column "y": 45,211 rows, realized AUC 0.829, selection ROI 218.9 % (everyone 75.5 %)`.
 */
export function labelsLine(labels: LabelledEvaluation): string {
  const roi = labels.realized ? `, selection ROI ${percent(labels.realized.selection.roi)} (everyone ${percent(labels.realized.everyone.roi)})` : `, accuracy ${percent(labels.accuracy)}`;
  const unlabelled = labels.unlabelled > 0 ? ` (${integer.format(labels.unlabelled)} unlabelled left out)` : '';
  return `Labels found in column "${labels.column}": ${integer.format(labels.rows)} rows${unlabelled}, realized AUC ${fixed3(labels.rocAuc)}${roi}`;
}

/** report.md's section on the extract's own labels: the figures, the realized campaign, the lift by decile. */
function labelsSection(labels: LabelledEvaluation, currency: string): string[] {
  const lines = [`## Labels found in column "${labels.column}" (realized)`, ''];
  const positives = labels.positives === null ? '' : `, ${integer.format(labels.positives)} positive`;
  lines.push(
    `${integer.format(labels.rows)} labelled rows${positives}; ${integer.format(labels.unlabelled)} without a known label left out. ` +
      `ROC AUC **${fixed3(labels.rocAuc)}**${labels.task === 'multiclass' ? ' (macro one-vs-rest)' : ''}, PR-AUC ${fixed3(labels.prAuc)}, log loss ${fixed3(labels.logLoss)}, accuracy ${percent(labels.accuracy)}, calibration error (ECE) ${fixed3(labels.calibration.ece)}.`,
    '',
  );
  if (labels.realized) {
    lines.push('| campaign (labelled rows) | contacted | responders | cost | gain | profit | ROI |', '|---|---:|---:|---:|---:|---:|---:|');
    lines.push(realizedRow('selection', labels.realized.selection, currency));
    if (labels.realized.best) lines.push(realizedRow('best this extract allows', labels.realized.best, currency));
    lines.push(realizedRow('everyone', labels.realized.everyone, currency), '');
  }
  if (labels.liftByDecile) {
    lines.push('| decile | rows | responders | response rate | lift | cumulative gain |', '|---:|---:|---:|---:|---:|---:|');
    for (const d of labels.liftByDecile) {
      lines.push(`| ${d.decile} | ${integer.format(d.rows)} | ${integer.format(d.positives)} | ${percent(d.responseRate)} | ${fixed3(d.lift)} | ${percent(d.cumulativeGain)} |`);
    }
    lines.push('');
  }
  return lines;
}
