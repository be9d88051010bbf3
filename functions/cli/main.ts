import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { exitCodeFor, PropensityError } from '../core/errors.js';
import { inspectCommand } from './commands/inspect.js';
import { scoreCommand } from './commands/score.js';

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/** The `propensity` command line. Exit codes: 0 ok, 2 bad input or usage, 1 internal error, 3 drift alert. */
export function buildProgram(): Command {
  const program = new Command('propensity')
    .description('Batch scoring for customer marketing: extract in, target list and ROI out')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('score')
    .description('score an extract with a model bundle and write scores, targets, summary, rejects and report')
    .requiredOption('--model <bundle>', 'bundle folder, registry model folder, or bundled model name')
    .requiredOption('--input <file>', 'extract (.csv or .csv.gz)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--economics <file>', 'JSON overriding the bundle\'s campaign economics')
    .option('--batch-size <rows>', 'rows per model call', positiveInteger)
    .option('--quiet', 'print nothing but errors')
    .action(async (options) => {
      await scoreCommand(options);
    });

  program
    .command('inspect')
    .description('describe a model bundle: spec, economics, metrics; verifies its hashes')
    .argument('<bundle>', 'bundle folder, registry model folder, or bundled model name')
    .action(async (bundle: string) => {
      process.stdout.write(await inspectCommand(bundle));
    });

  program
    .command('infer-spec')
    .description('draft a feature spec from a sample of an extract, for a person to edit')
    .argument('<file>', 'extract (.csv or .csv.gz)')
    .option('--out <file>', 'write the spec here instead of printing it')
    .option('--sample-rows <rows>', 'rows to look at', positiveInteger)
    .action(async (file: string, options: { out?: string; sampleRows?: number }) => {
      const { inferSpecCommand } = await import('./commands/inferSpec.js');
      await inferSpecCommand(file, options);
    });

  return program;
}

/** Runs the CLI and returns the exit code; errors are printed as one line naming file, line and column. */
export async function runCli(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof PropensityError) {
      process.stderr.write(`propensity: ${error.code}: ${error.message}\n`);
      return exitCodeFor(error);
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
      process.stderr.write(`propensity: ${(error as Error).message}\n`);
      return 2;
    }
    process.stderr.write(`propensity: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}
