import { statSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { exitCodeFor, PropensityError, type PropensityErrorCode } from '../core/errors.js';
import { inspectCommand } from './commands/inspect.js';
import { scoreCommand, type ScoreCommandOptions } from './commands/score.js';
import { MAX_PARTS, MAX_WORKERS, defaultWorkers } from '../adapters/workers/workerLimits.js';
import type { TrainCommandOptions } from './commands/train.js';
import type { ImportCommandOptions } from './commands/import.js';

/** Largest `--batch-size`: the same bound as the score function's BATCH_SIZE (a batch is rows × features floats). */
export const MAX_BATCH_SIZE = 1 << 20;
/** Largest `--sample-rows`: infer-spec keeps its sample in memory. */
export const MAX_SAMPLE_ROWS = 1_000_000;
/** Largest `--seed`: a 32-bit unsigned integer, what the random generators take. */
export const MAX_SEED = 2 ** 32 - 1;

/** A parser for a whole-number option in [min, max]; commander names the option in its usage error (exit 2). */
function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value.trim());
    if (!/^\s*\d+\s*$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    return n;
  };
}

/** The first part of `target` that exists, with its kind; undefined when none does (a relative path always has `.`). */
function nearestExisting(target: string): { path: string; isDirectory: boolean } | undefined {
  for (let at = path.resolve(target); ; at = path.dirname(at)) {
    let found;
    try {
      found = statSync(at, { throwIfNoEntry: false });
    } catch (error) {
      // ENOTDIR: a file sits somewhere above; the walk up finds it.
      if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    }
    if (found) return { path: at, isDirectory: found.isDirectory() };
    if (path.dirname(at) === at) return undefined;
  }
}

/** An output folder: refused up front when it, or a folder it would be made in, is a file. */
function outputFolder(value: string): string {
  const found = nearestExisting(value);
  if (found && !found.isDirectory) {
    throw new InvalidArgumentError(found.path === path.resolve(value) ? 'is a file, not a folder' : `cannot be made: ${found.path} is a file, not a folder`);
  }
  return value;
}

/** An output file: refused up front when it is a folder, or when a folder it would be written in is a file. */
function outputFile(value: string): string {
  const found = nearestExisting(value);
  if (found?.isDirectory && found.path === path.resolve(value)) throw new InvalidArgumentError('is a folder, not a file');
  if (found && !found.isDirectory && found.path !== path.resolve(value)) throw new InvalidArgumentError(`cannot be written: ${found.path} is a file, not a folder`);
  return value;
}

/** A registry: `s3://bucket/prefix/`, or a folder (that may not exist yet, but is not a file). */
function registryLocation(value: string): string {
  return value.startsWith('s3://') ? value : outputFolder(value);
}

function rate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a number from 0 to 1 (0.05 = 5 %)');
  return n;
}

/** Set by a command whose success still has news for a script (`drift`: 3 on an alert). */
export interface CommandOutcome {
  exitCode: number;
}

/** The `propensity` command line. Exit codes: 0 ok, 2 bad input or usage, 1 internal error, 3 drift alert. */
export function buildProgram(outcome: CommandOutcome = { exitCode: 0 }): Command {
  const program = new Command('propensity')
    .description('Batch scoring for customer marketing: extract in, target list and ROI out')
    .option('--verbose', 'on an error, print its stack (and causes) after the one-line message')
    .exitOverride()
    .showHelpAfterError();
  program.addHelpText('after', example('propensity score --model bank-marketing --input bank-full.csv --out runs/today'));

  program
    .command('score')
    .description('score an extract with a model bundle and write scores, targets, summary, rejects and report')
    .requiredOption('--model <bundle>', 'bundle folder, registry model folder, or bundled model name')
    .requiredOption('--input <file>', 'extract (.csv or .csv.gz)')
    .requiredOption('--out <dir>', 'output folder', outputFolder)
    .option('--economics <file>', 'JSON overriding the bundle\'s campaign economics')
    .option('--history <dir>', 'contact history folder for the frequency cap: read from <dir>/<model>/, this run\'s contacts written there once it commits')
    .option('--suppress <file>', 'suppression list (CSV: id, optional reason and until YYYY-MM-DD): scored, never on the target list; repeatable', (file: string, files: string[] = []) => [...files, file])
    .option('--batch-size <rows>', `rows per model call (1 to ${MAX_BATCH_SIZE})`, integerIn(1, MAX_BATCH_SIZE))
    .option('--max-reject-rate <rate>', 'fail the run when more than this share of rows is rejected (default: the spec\'s, else 0.05)', rate)
    .option('--quiet', 'print nothing but errors')
    .option('--max-bytes <bytes>', 'refuse the extract (EXTRACT_TOO_LARGE) past this many decompressed bytes (default: 20 GiB)', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('--max-rows <lines>', 'refuse the extract past this many lines, blank ones included (default: 200000000)', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('--max-record-bytes <bytes>', 'refuse the extract when one record is longer than this (default: 1048576, 1 MiB)', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('--skip-layout-check', 'score even when the first rows look nothing like the training data (EXTRACT_LAYOUT_SUSPECT), e.g. after a real population shift')
    .option('--workers <n>', `parts scored at once: this thread and workers − 1 worker threads (1 to ${MAX_WORKERS}; default: the cores this process may use, here ${defaultWorkers()})`, integerIn(1, MAX_WORKERS))
    .option(
      '--parts <n>',
      `line-aligned byte ranges to split the extract into (1 to ${MAX_PARTS}; default: --workers). A gzip extract cannot be split by bytes: it is scored whole, in one thread, as is a file under 512 KiB. --workers 1 --parts 1 scores in this thread, without workers`,
      integerIn(1, MAX_PARTS),
    )
    .option('--no-csv-protection', 'write CSV cells as they are: no leading \' on cells a spreadsheet would run as a formula (=, +, -, @, tab, CR)')
    .addHelpText('after', example('propensity score --model bank-marketing --input bank-full.csv --out runs/today --economics campaign.json'))
    .action(async (options: ScoreCommandOptions) => {
      await scoreCommand(options);
    });

  program
    .command('inspect')
    .description('describe a model bundle: spec, economics, metrics; verifies its hashes')
    .argument('<bundle>', 'bundle folder, registry model folder, or bundled model name')
    .option('--json', 'print the whole manifest as JSON instead of the one-screen summary')
    .addHelpText('after', example('propensity inspect bank-marketing', 'propensity inspect model-store/bank-marketing --json > manifest.json'))
    .action(async (bundle: string, options: { json?: boolean }) => {
      process.stdout.write(await inspectCommand(bundle, options));
    });

  program
    .command('infer-spec')
    .description('draft a feature spec from a sample of an extract, for a person to edit')
    .argument('<file>', 'extract (.csv or .csv.gz)')
    .option('--out <file>', 'write the spec here instead of printing it', outputFile)
    .option('--sample-rows <rows>', `rows to look at (1 to ${MAX_SAMPLE_ROWS})`, integerIn(1, MAX_SAMPLE_ROWS))
    .addHelpText('after', example('propensity infer-spec churn.csv --out churn.spec.json'))
    .action(async (file: string, options: { out?: string; sampleRows?: number }) => {
      const { inferSpecCommand } = await import('./commands/inferSpec.js');
      await inferSpecCommand(file, options);
    });

  program
    .command('train')
    .description('train a model from a training spec and a labelled extract; export ONNX; write the bundle')
    .requiredOption('--spec <file>', 'training spec JSON (e.g. model-store/bank-marketing/spec.json)')
    .requiredOption('--data <file>', 'labelled extract (.csv or .csv.gz)')
    .option('--out <dir>', 'write the bundle to this folder', outputFolder)
    .option('--registry <dir|s3-url>', 'add the bundle to this registry as a new version', registryLocation)
    .option('--promote', 'make the new version the champion (with --registry)')
    .option('--seed <n>', `random seed (overrides the spec's; 0 to ${MAX_SEED})`, integerIn(0, MAX_SEED))
    .option('--quiet', 'print nothing but the evaluation')
    .addHelpText('after', example('propensity train --spec model-store/bank-marketing/spec.json --data bank-full.csv --out bundles/bank'))
    .action(async (options: TrainCommandOptions) => {
      const { trainCommand } = await import('./commands/train.js');
      process.stdout.write((await trainCommand(options)).text);
    });

  program
    .command('import')
    .description('turn an ONNX model trained elsewhere into a new version in a registry (a scikit-learn pipeline, or a features-only model with --spec)')
    .argument('<model.onnx>', 'the ONNX file')
    .requiredOption('--name <name>', 'model name in the registry (lower-case letters, digits, dashes)')
    .requiredOption('--registry <dir|s3-url>', 'registry to add the model to as a new version', registryLocation)
    .option('--spec <file>', 'features-only model: the fitted feature spec that describes its preprocessing (see README, Bring your own model)')
    .option('--id <column>', 'pipeline: the extract column that holds the customer id (default: the line number)')
    .option('--classes <labels>', 'class labels in output order, comma-separated (default: the graph\'s, the spec\'s, else 0,1,…)')
    .option('--economics <file>', 'campaign economics JSON (default: placeholders, flagged as such in every report)')
    .option('--promote', 'make the new version the champion')
    .addHelpText(
      'after',
      '\nExamples:\n  propensity import churn-pipeline.onnx --name churn --id customer_id --registry models/\n  propensity import mlp.onnx --name churn-mlp --spec preprocessing.json --registry models/\n',
    )
    .action(async (model: string, options: ImportCommandOptions) => {
      const { importCommand } = await import('./commands/import.js');
      process.stdout.write(await importCommand(model, options));
    });

  program
    .command('baseline')
    .description('build the drift baseline of a bundle (an imported model has none) from a sample extract and write it into the bundle')
    .argument('<bundle>', 'bundle folder, or registry model folder (its champion, else its latest version)')
    .requiredOption('--data <file>', 'sample extract (.csv or .csv.gz) the model is known to be right on, e.g. its training data')
    .addHelpText('after', '\nExample:\n  propensity baseline models/churn --data churn-sample.csv\n')
    .action(async (bundle: string, options: { data: string }) => {
      const { baselineCommand } = await import('./commands/baseline.js');
      process.stdout.write(await baselineCommand(bundle, options));
    });

  program
    .command('drift')
    .description('compare the profiles of scoring runs with the bundle\'s training baseline; exit 3 on a drift alert')
    .requiredOption('--model <bundle>', 'bundle folder, registry model folder, or bundled model name')
    .argument('<runs...>', 'output folders of scoring runs (each with profile.json)')
    .option('--report <file>', 'where to write the report JSON', outputFile, 'drift-report.json')
    .option('--options <file>', 'JSON of drift options (thresholds, per-feature overrides, minRows)')
    .addHelpText('after', example('propensity drift --model bank-marketing runs/monday runs/tuesday --report drift.json'))
    .action(async (runs: string[], options: { model: string; report: string; options?: string }) => {
      const { driftCommand } = await import('./commands/drift.js');
      const result = await driftCommand({ model: options.model, runs, report: options.report, ...(options.options ? { options: options.options } : {}) });
      process.stdout.write(`${result.summary.trimEnd()}\nReport: ${result.reportFile}\nHTML report: ${result.htmlFile}\n`);
      outcome.exitCode = result.exitCode;
    });

  program
    .command('report')
    .description('render the HTML report of a scoring run, a model bundle (training report) or a drift report JSON; prints its path')
    .argument('<input>', 'finished run folder, bundle (folder, registry model folder or bundled model name), or drift report .json')
    .option('--out <file>', 'write the HTML here (default: report.html in the run folder, <model>-<version>.report.html here for a bundle, <report>.html beside a drift report)', outputFile)
    .addHelpText('after', '\nExamples:\n  $ propensity report /tmp/run                 # → /tmp/run/report.html\n  $ propensity report bank-marketing --out bank.html\n  $ propensity report drift-report.json        # → drift-report.html\n')
    .action(async (input: string, options: { out?: string }) => {
      const { reportCommand } = await import('./commands/report.js');
      process.stdout.write(`${await reportCommand({ input, ...options })}\n`);
    });

  program
    .command('promote')
    .description('make a version of a model the champion, by hand')
    .argument('<model>', 'model name')
    .argument('<version>', 'version to promote')
    .requiredOption('--reason <text>', 'why, for the registry history')
    .option('--registry <dir|s3-url>', 'registry (default: the bundled model-store/)', registryLocation)
    .addHelpText('after', example('propensity promote bank-marketing 2026-11-23T1032-0f0ed5 --reason "beats the champion on November"'))
    .action(async (model: string, version: string, options: { reason: string; registry?: string }) => {
      const { promoteCommand } = await import('./commands/champion.js');
      process.stdout.write(await promoteCommand({ model, version, ...options }));
    });

  program
    .command('rollback')
    .description('make the champion before the current one champion again')
    .argument('<model>', 'model name')
    .requiredOption('--reason <text>', 'why, for the registry history')
    .option('--registry <dir|s3-url>', 'registry (default: the bundled model-store/)', registryLocation)
    .addHelpText('after', example('propensity rollback bank-marketing --reason "new champion lost money on Monday"'))
    .action(async (model: string, options: { reason: string; registry?: string }) => {
      const { rollbackCommand } = await import('./commands/champion.js');
      process.stdout.write(await rollbackCommand({ model, ...options }));
    });

  return program;
}

/** A command's `--help` example block. */
function example(...commands: string[]): string {
  return `\nExample${commands.length > 1 ? 's' : ''}:\n${commands.map((c) => `  $ ${c}`).join('\n')}\n`;
}

/** What to try next, per error code: the second half of the one-line error. */
const HINTS: Partial<Record<PropensityErrorCode, string>> = {
  BUNDLE_NOT_FOUND: 'give a bundle folder, a registry model folder, or one of the names in model-store/',
  BUNDLE_HASH_MISMATCH: 'the bundle changed after it was written: train or copy it again',
  ECONOMICS_INVALID: 'see "Campaign economics" in the README for every key',
  CONFIG_INVALID: 'check the JSON file named above against the README',
  SPEC_INVALID: 'start from `propensity infer-spec FILE` and compare',
  EXTRACT_MISSING_COLUMN: 'the extract must hold every column of the spec (`propensity inspect MODEL` lists them)',
  EXTRACT_TOO_MANY_REJECTS: 'rejects.csv names each bad row; raise --max-reject-rate only if they are expected',
  EXTRACT_LAYOUT_SUSPECT: 'check the file is the one the model expects; --skip-layout-check if the population really changed',
  EXTRACT_TOO_LARGE: 'raise --max-bytes, --max-rows or --max-record-bytes if the file is expected to be this large',
  EXTRACT_DELIMITER: 'check the spec\'s file.delimiter',
  USAGE: 'see --help',
};

/** The one line an error prints: code, message, and a hint when there is one. */
function errorLine(error: PropensityError): string {
  const hint = HINTS[error.code];
  return `propensity: ${error.code}: ${error.message}${hint ? ` (hint: ${hint})` : ''}`;
}

/** The stack of an error and of each cause, for `--verbose`. */
function stacks(error: unknown): string {
  const out: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) out.push(`${depth > 0 ? 'caused by: ' : ''}${e.stack ?? e.message}`);
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * Runs the CLI and returns the exit code. Errors are one line (file, line and column where known,
 * and a hint); `--verbose` adds the stack.
 */
export async function runCli(argv: readonly string[]): Promise<number> {
  const outcome: CommandOutcome = { exitCode: 0 };
  const program = buildProgram(outcome);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const trace = verbose ? stacks(error) : '';
    if (error instanceof PropensityError) {
      process.stderr.write(`${errorLine(error)}\n${trace}`);
      return exitCodeFor(error);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EACCES') {
      process.stderr.write(`propensity: ${(error as Error).message} (hint: check the path)\n${trace}`);
      return 2;
    }
    // A bug, not bad input: still one line; the stack with --verbose.
    process.stderr.write(`propensity: internal error: ${(error as Error).message ?? String(error)} (hint: rerun with --verbose and report the stack)\n${trace}`);
    return 1;
  }
}
