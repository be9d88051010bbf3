import type { CampaignFigures } from '../economics/campaignRoi.js';
import type { RunSummary } from './runSummary.js';

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1, minimumFractionDigits: 1 });

function money(amount: number, currency: string): string {
  return `${integer.format(amount)} ${currency}`;
}

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
