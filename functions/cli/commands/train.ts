import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../core/errors.js';
import { formatEvaluation } from '../../core/evaluation/formatEvaluation.js';
import { placeholderNotice } from '../../core/economics/campaignEconomics.js';
import { train, type TrainResult } from '../../core/training/train.js';
import { openRegistry } from '../openRegistry.js';
import { writeBundleDir } from '../../adapters/fs/bundleDir.js';
import { localExtract } from '../../adapters/fs/localExtract.js';
import { tfjsTrainingRuntime } from '../../adapters/model/tfjsTrainingRuntime.js';

export interface TrainCommandOptions {
  /** Training spec JSON (`model-store/<name>/spec.json`). */
  readonly spec: string;
  /** Labelled extract (.csv or .csv.gz) laid out as the spec's `file` section says. */
  readonly data: string;
  /** Bundle folder to write. */
  readonly out?: string;
  /** Registry to add the bundle to as a new version (folder or `s3://…`). */
  readonly registry?: string;
  /** Make the new version the champion (with `--registry`). */
  readonly promote?: boolean;
  readonly seed?: number;
  readonly quiet?: boolean;
}

export interface TrainCommandOutcome {
  readonly result: TrainResult;
  /** Where the bundle went: its folder, or `registry/name@version`. */
  readonly written: string;
  readonly text: string;
}

/**
 * `propensity train`: fits the spec, trains and calibrates the model, exports it to ONNX and
 * writes the bundle to a folder or into a registry (optionally as the new champion).
 * @throws ConfigError for a spec that is not JSON or a missing destination.
 */
export async function trainCommand(options: TrainCommandOptions): Promise<TrainCommandOutcome> {
  if (!options.out && !options.registry) throw new ConfigError('USAGE', 'give --out DIR or --registry DIR|s3://…', { key: '--out' });
  if (options.promote && !options.registry) throw new ConfigError('USAGE', '--promote needs --registry', { key: '--promote' });
  let spec: unknown;
  try {
    spec = JSON.parse(await readFile(options.spec, 'utf8'));
  } catch (cause) {
    throw new ConfigError('CONFIG_INVALID', `cannot read JSON: ${(cause as Error).message}`, { key: '(file)', source: options.spec, cause });
  }
  const log = options.quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
  const result = await train({
    runtime: tfjsTrainingRuntime,
    data: localExtract(options.data),
    spec,
    specSource: options.spec,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(log ? { log } : {}),
  });
  const { manifest } = result.bundle;
  const written: string[] = [];
  if (options.out) {
    await writeBundleDir(options.out, result.bundle);
    written.push(options.out);
  }
  if (options.registry) {
    const { registry, location } = openRegistry(options.registry);
    const entry = await registry.write(result.bundle);
    if (options.promote) await registry.promote(entry.name, entry.version, `manual: trained by propensity train from ${options.data}`);
    written.push(`${location} ${entry.name}@${entry.version}${options.promote ? ' (champion)' : ''}`);
  }
  const text = [
    `${manifest.name} ${manifest.version}: ${manifest.task}, ${manifest.featureSpec.featureNames.length} encoded features, backend ${result.backend}`,
    ...result.warnings.map((w) => `warning: ${w}`),
    formatEvaluation(result.evaluation).trimEnd(),
    `ONNX parity: max |ONNX − tfjs| ${result.parity.maxAbsDiff.toExponential(2)} on ${result.parity.rows} rows`,
    `trained in ${result.timings.total.toFixed(1)} s; bundle written to ${written.join(' and ')}`,
    ...(placeholderNotice(manifest.economics) ? [placeholderNotice(manifest.economics)!] : []),
  ].join('\n');
  return { result, written: written.join(' and '), text: `${text}\n` };
}
