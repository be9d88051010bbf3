import type { BundleFiles } from '../../core/bundle/registry.js';
import { resolveBundle } from '../resolveBundle.js';

/** `propensity inspect`: what a bundle is, what it expects, and how good it is. */
export async function inspectCommand(reference: string): Promise<string> {
  return describeBundle(await resolveBundle(reference));
}

export function describeBundle(bundle: BundleFiles): string {
  const m = bundle.manifest;
  const spec = m.featureSpec;
  const lines = [
    `${m.name} ${m.version} (${m.task}, ${m.format}) at ${bundle.location}`,
    `created ${m.created}; classes ${m.classes.join(', ')}${m.positiveClass ? `; positive ${m.positiveClass}` : ''}${m.threshold !== undefined ? `; threshold ${m.threshold}` : ''}`,
    m.description ?? '',
    `input: ${spec.spec.file.header ? 'header' : 'no header'}, delimiter ${JSON.stringify(spec.spec.file.delimiter)}; ${spec.featureNames.length} encoded features from ${Object.keys(spec.columns).length} columns, fitted on ${spec.trainingRows} rows`,
    'columns:',
    ...spec.spec.columns.map((c) => {
      const fit = spec.columns[c.name];
      const detail = fit?.kind === 'categorical' ? `${fit.vocabulary.length} categories` : fit ? `fill ${fit.fill.toPrecision(4)}` : '';
      return `  ${c.name.padEnd(28)} ${c.role.padEnd(8)} ${c.type.padEnd(12)} ${detail}`;
    }),
    `economics: ${JSON.stringify(m.economics)}`,
    ...(m.actions ? ['actions:', ...Object.entries(m.actions).map(([k, v]) => `  ${k}: ${v}`)] : []),
    ...(Object.keys(m.metrics).length ? [`metrics: ${JSON.stringify(m.metrics, null, 2)}`] : []),
    ...m.notes.map((n) => `note: ${n}`),
    `files: ${Object.keys(m.files).join(', ')} (sha256 verified)`,
  ];
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}
