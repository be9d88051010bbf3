import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveEconomics } from '../../core/economics/campaignEconomics.js';
import { ConfigError } from '../../core/errors.js';
import { importOnnx } from '../../core/model/importOnnx.js';
import { loadBundle } from '../../core/engine/loadBundle.js';
import { loadModel } from '../../adapters/model/modelLoader.js';
import { openRegistry } from '../openRegistry.js';

export interface ImportCommandOptions {
  /** Model name in the registry. */
  readonly name: string;
  /** Registry folder or `s3://…`. */
  readonly registry: string;
  /** Features-only models: the fitted feature spec (preprocessing description). */
  readonly spec?: string;
  /** Pipelines: the extract column holding the customer id. */
  readonly id?: string;
  /** Class labels in output order, comma-separated. */
  readonly classes?: string;
  /** Campaign economics JSON (default: placeholders). */
  readonly economics?: string;
  readonly promote?: boolean;
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (cause) {
    throw new ConfigError('CONFIG_INVALID', `cannot read JSON: ${(cause as Error).message}`, { key: '(file)', source: file, cause });
  }
}

/**
 * `propensity import MODEL.onnx --name NAME [--spec SPEC.json] --registry DIR`: turns a foreign ONNX
 * model into a new version in a registry, as `train --registry` writes one; the bundle is loaded
 * through onnxruntime once (one row scored) before it is written, so a model that cannot serve is refused here.
 * @returns the lines to print.
 */
export async function importCommand(modelFile: string, options: ImportCommandOptions): Promise<string> {
  const classes = options.classes?.split(',').map((c) => c.trim());
  if (classes && (classes.length < 2 || classes.some((c) => c === ''))) throw new ConfigError('USAGE', 'give at least two non-empty class labels, comma-separated', { key: '--classes' });
  const imported = importOnnx({
    model: await readFile(modelFile),
    source: path.basename(modelFile),
    name: options.name,
    ...(options.spec ? { spec: await readJson(options.spec), specSource: options.spec } : {}),
    ...(options.id ? { idColumn: options.id } : {}),
    ...(classes ? { classes } : {}),
    ...(options.economics ? { economics: resolveEconomics(await readJson(options.economics), undefined, options.economics) } : {}),
  });
  const { manifest, files } = imported.bundle;
  // The same checks a scoring run makes at load (fitted spec, shapes, one row through onnxruntime).
  // importOnnx built it with createBundle: the manifest is validated and every file hashed already.
  const check = await loadBundle({ manifest, files, location: modelFile }, loadModel);
  await check.model.dispose();
  const { registry, location } = openRegistry(options.registry);
  const entry = await registry.write(imported.bundle);
  if (options.promote) await registry.promote(entry.name, entry.version, `manual: imported by propensity import from ${modelFile}`);
  return [
    ...imported.messages,
    `${entry.name}@${entry.version} written to ${location}${options.promote ? ' (champion)' : ''}; economics ${manifest.economics.placeholder ? 'are placeholders (set them with --economics or per run)' : 'from ' + options.economics}`,
    `next: propensity baseline ${path.join(location, entry.name)} --data SAMPLE.csv, then propensity score --model ${path.join(location, entry.name)} --input EXTRACT.csv --out OUT`,
  ].join('\n') + '\n';
}
