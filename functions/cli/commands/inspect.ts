import type { BundleFiles } from '../../core/bundle/registry.js';
import { placeholderNotice, type CampaignEconomics } from '../../core/economics/campaignEconomics.js';
import { crossName } from '../../core/spec/featureSpec.js';
import { resolveBundle } from '../resolveBundle.js';

/** Most lines `inspect` prints: one screen. The whole manifest is `inspect --json`. */
export const INSPECT_MAX_LINES = 40;
/** Names listed per column group before "… and N more". */
const NAMES_PER_GROUP = 8;
/** Notes shown before "… N more notes". */
const NOTES_SHOWN = 4;
const LINE_WIDTH = 160;

/** `propensity inspect`: what a bundle is, what it expects, and how good it is; `json` prints the whole manifest. */
export async function inspectCommand(reference: string, options: { json?: boolean } = {}): Promise<string> {
  const bundle = await resolveBundle(reference);
  return options.json ? `${JSON.stringify({ location: bundle.location, manifest: bundle.manifest }, null, 2)}\n` : describeBundle(bundle);
}

type Manifest = BundleFiles['manifest'];

const figure = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(3) : '–');
const rowCount = (x: unknown) => (typeof x === 'number' ? String(x) : '–');
const clip = (line: string) => (line.length > LINE_WIDTH ? `${line.slice(0, LINE_WIDTH - 1)}…` : line);

/** The bundle on one screen (≤ {@link INSPECT_MAX_LINES} lines): identity, metrics table, columns, economics, lineage. */
export function describeBundle(bundle: BundleFiles): string {
  const m = bundle.manifest;
  const spec = m.featureSpec;
  const lines = [
    `${m.name} ${m.version} (${m.task}, ${m.format}) at ${bundle.location}`,
    `classes ${m.classes.join(', ')}${m.positiveClass ? `; positive ${m.positiveClass}` : ''}${m.threshold !== undefined ? `; threshold ${m.threshold.toFixed(4)}` : ''}`,
    ...(m.description ? [m.description] : []),
    '',
    ...metricsTable(m),
    '',
    `input: ${spec.spec.file.header ? 'header' : 'no header'}, delimiter ${JSON.stringify(spec.spec.file.delimiter)}; ${spec.featureNames.length} encoded features from ${Object.keys(spec.columns).length} columns, fitted on ${spec.trainingRows} rows`,
    ...columnGroups(m),
    '',
    `economics: ${describeEconomics(m.economics)}`,
    ...(placeholderNotice(m.economics) ? [placeholderNotice(m.economics)!] : []),
    ...(m.actions ? [`actions: ${Object.entries(m.actions).map(([k, v]) => `${k} → ${v}`).join('; ')}`] : []),
    '',
    `lineage: created ${m.created}; ${Object.keys(m.files).length} files, sha256 verified`,
    ...m.notes.slice(0, NOTES_SHOWN).map((n) => `note: ${n}`),
    ...(m.notes.length > NOTES_SHOWN ? [`… ${m.notes.length - NOTES_SHOWN} more notes (inspect --json)`] : []),
  ];
  return `${lines.map(clip).join('\n')}\n`;
}

/** The headline figures of the held-out evaluation (and validation), as a small table. */
function metricsTable(m: Manifest): string[] {
  const evaluation = (m.metrics['evaluation'] ?? null) as Record<string, unknown> | null;
  if (!evaluation) return ['metrics: none recorded'];
  const validation = (m.metrics['validation'] ?? {}) as Record<string, unknown>;
  const rows: Array<[string, unknown, unknown]> = [
    ['ROC AUC', evaluation['rocAuc'], validation['rocAuc']],
    ['PR-AUC', evaluation['prAuc'], undefined],
    ['log loss', evaluation['logLoss'], validation['logLoss']],
    ['accuracy', evaluation['accuracy'], undefined],
    ['macro F1', evaluation['macroF1'], undefined],
    ['calibration error', evaluation['expectedCalibrationError'], undefined],
  ];
  const shown = rows.filter(([, test]) => typeof test === 'number');
  return [
    `metric               test (${rowCount(evaluation['rows'])} rows)   validation (${rowCount(validation['rows'])} rows)`,
    ...shown.map(([name, test, valid]) => `  ${name.padEnd(18)} ${figure(test).padStart(8)}           ${figure(valid).padStart(8)}`),
  ];
}

/** Columns grouped by role and type, then the crosses, each group's names on one line. */
function columnGroups(m: Manifest): string[] {
  const spec = m.featureSpec;
  const groups = new Map<string, string[]>();
  for (const c of spec.spec.columns) {
    const fit = spec.columns[c.name];
    const key = c.role === 'feature' ? `${c.type} features` : c.role;
    const detail = fit?.kind === 'categorical' ? `${c.name} (${fit.vocabulary.length})` : c.name;
    groups.set(key, [...(groups.get(key) ?? []), detail]);
  }
  // A cross's block: its kept combinations plus `__other__`.
  for (const cross of spec.crosses ?? []) groups.set('crosses', [...(groups.get('crosses') ?? []), `${crossName(cross)} (${cross.combinations.length + 1})`]);
  return [...groups].map(([key, names]) => {
    const more = names.length > NAMES_PER_GROUP ? ` … and ${names.length - NAMES_PER_GROUP} more` : '';
    return `  ${key} (${names.length}): ${names.slice(0, NAMES_PER_GROUP).join(', ')}${more}`;
  });
}

/** Economics in one line: money, policy, budget, cap, control. */
export function describeEconomics(e: CampaignEconomics): string {
  const value = typeof e.valuePerResponse === 'number' ? `${e.valuePerResponse}` : `column "${e.valuePerResponse.column}"`;
  const parts = [`${e.currency} ${e.costPerContact} per contact, ${value} per response`];
  if (e.saveRate !== undefined) parts.push(`save rate ${e.saveRate}`);
  if (e.fixedCost > 0) parts.push(`fixed cost ${e.fixedCost}`);
  parts.push(`policy ${e.policy}${e.policy === 'top-k' ? ` k=${e.k}` : ''}${e.policy === 'threshold' ? ` ≥ ${e.threshold}` : ''}`);
  const budget = [e.budget.maxContacts !== undefined ? `${e.budget.maxContacts} contacts` : '', e.budget.maxSpend !== undefined ? `${e.budget.maxSpend} spend` : ''].filter(Boolean);
  parts.push(budget.length ? `budget ${budget.join(', ')}` : 'no budget');
  if (e.frequencyCap) parts.push(`cap ${e.frequencyCap.maxContacts} per ${e.frequencyCap.days} days`);
  if (e.controlFraction) parts.push(`control ${e.controlFraction}`);
  return parts.join('; ');
}
