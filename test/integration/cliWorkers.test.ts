import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dataset } from '../helpers/datasets.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

const REPO = path.resolve(import.meta.dirname, '..', '..');
const run = promisify(execFile);

let work: string;
/** The temp folder every spool of a run goes to (TMPDIR, which workers see too): it must end empty. */
let scratch: string;
let savedTmpdir: string | undefined;
let bankLines: string[];
let withBadRows: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-cli-workers-'));
  // The real file (which must be there: dataset() throws when ../shared is missing) with bad rows spread through it.
  bankLines = (await readFile(dataset('bank-marketing/bank-full.csv'), 'utf8')).split('\n');
  const lines = [...bankLines];
  for (const at of [40_000, 20_000, 5]) lines.splice(at, 0, `58;"management";"married";"tertiary";"no";not-a-number;"yes";"no";"unknown";5;"may";261;1;-1;0;"unknown";"no"`, '1;2;3');
  withBadRows = path.join(work, 'bank-with-bad-rows.csv');
  await writeFile(withBadRows, lines.join('\n'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  scratch = await mkdtemp(path.join(work, 'tmp-'));
  savedTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = scratch;
});

afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

/** What Propensity left in the temp folder (tsx and native libraries keep their own caches there too). */
const spoolsLeft = async () => (await readdir(scratch)).filter((name) => name.startsWith('propensity-'));
const score = (input: string, out: string, ...more: string[]) => runCliCaptured(['score', '--model', 'bank-marketing', '--input', input, '--out', out, '--quiet', ...more]);
const text = (dir: string, name: string) => readFile(path.join(dir, name), 'utf8');
const summaryOf = async (dir: string): Promise<Record<string, unknown>> => {
  const summary = JSON.parse(await text(dir, 'summary.json')) as Record<string, unknown>;
  return { ...summary, startedAt: 0, finishedAt: 0, durationMs: 0 };
};

/** An unquoted copy of bank-full (so a stray quote is never closed) with one opened at `line` (1-based). */
async function unquotedWithOpenQuote(name: string, line: number): Promise<string> {
  const lines = bankLines.map((l) => l.replaceAll('"', ''));
  lines[line - 1] = lines[line - 1]!.replace(';', ';"');
  const file = path.join(work, name);
  await writeFile(file, lines.join('\n'));
  return file;
}

describe('propensity score --workers --parts', () => {
  it('gives byte-identical outputs and the same summary on 2 workers and 5 parts as in one thread', async () => {
    // Act: both runs write into folders of the same name, so the run id in profile.json is the same too.
    const one = await score(withBadRows, path.join(work, 'one', 'run'), '--workers', '1', '--parts', '1');
    const many = await score(withBadRows, path.join(work, 'many', 'run'), '--workers', '2', '--parts', '5');
    // Assess
    expect(one.code).toBe(0);
    expect(many.code).toBe(0);
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv', 'profile.json']) {
      expect(await text(path.join(work, 'many', 'run'), name), name).toBe(await text(path.join(work, 'one', 'run'), name));
    }
    const summary = await summaryOf(path.join(work, 'many', 'run'));
    expect(summary).toEqual(await summaryOf(path.join(work, 'one', 'run')));
    expect(summary.rows).toEqual({ read: 45_217, scored: 45_211, rejected: 6, rejectReasons: { NOT_A_NUMBER: 3, FIELD_COUNT: 3 } });
    expect((await text(path.join(work, 'many', 'run'), 'rejects.csv')).split('\n').slice(1, 3).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      '6,balance,NOT_A_NUMBER',
      '7,,FIELD_COUNT',
    ]);
    expect(await spoolsLeft()).toEqual([]);
  }, 120_000);

  const failures: Array<{ name: string; file: () => Promise<string>; args: string[]; code: string; line: number; message: RegExp }> = [
    {
      name: 'too many lines (--max-rows) reached in the fourth of five parts',
      file: () => Promise.resolve(withBadRows),
      args: ['--max-rows', '30000'],
      code: 'EXTRACT_TOO_LARGE',
      line: 30_001,
      message: /more than 30,000 lines \(blank lines count\), the limit maxRows/,
    },
    {
      name: 'a quote opened in a late part and never closed',
      file: () => unquotedWithOpenQuote('open-quote.csv', 40_001),
      args: [],
      code: 'EXTRACT_MALFORMED',
      line: 40_001,
      message: /never closed/,
    },
    {
      name: 'a quote that swallows more than 1 MiB of the rest of the file',
      file: () => unquotedWithOpenQuote('long-quote.csv', 30_001),
      args: [],
      code: 'EXTRACT_TOO_LARGE',
      line: 30_001,
      message: /the limit maxRecordBytes/,
    },
  ];

  for (const failure of failures) {
    it(`fails as one thread does on ${failure.name}: same error, error.json, no scores, no spool left`, async () => {
      // Prepare
      const input = await failure.file();
      // Act
      const one = await score(input, path.join(work, `fail-one-${failure.line}-${failure.code}`), '--workers', '1', '--parts', '1', ...failure.args);
      const outOfMany = path.join(work, `fail-many-${failure.line}-${failure.code}`);
      const many = await score(input, outOfMany, '--workers', '2', '--parts', '5', ...failure.args);
      // Assess: exit 2 with the same message, naming file and line.
      expect(many.code).toBe(2);
      expect(many.stderr).toBe(one.stderr);
      expect(many.stderr).toContain(`${failure.code}: ${input}:${failure.line}`);
      expect(many.stderr).toMatch(failure.message);
      const error = JSON.parse(await text(outOfMany, 'error.json')) as { status: string; retryable: boolean; error: Record<string, unknown> };
      expect(error).toMatchObject({ status: 'failed', retryable: false, error: { name: 'ExtractError', code: failure.code, file: input, line: failure.line } });
      expect(await readdir(outOfMany)).toEqual(['error.json']);
      expect(await spoolsLeft()).toEqual([]);
    }, 120_000);
  }

  it('scores a header-less extract in parts exactly as in one thread (later parts know the fields from the spec)', async () => {
    const input = dataset('audiobooks/Audiobooks_data.csv');
    const one = await runCliCaptured(['score', '--model', 'audiobooks', '--input', input, '--out', path.join(work, 'headerless-one', 'run'), '--quiet', '--workers', '1', '--parts', '1']);
    const many = await runCliCaptured(['score', '--model', 'audiobooks', '--input', input, '--out', path.join(work, 'headerless-many', 'run'), '--quiet', '--workers', '2', '--parts', '2']);
    expect([one.code, many.code]).toEqual([0, 0]);
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv', 'profile.json']) {
      expect(await text(path.join(work, 'headerless-many', 'run'), name), name).toBe(await text(path.join(work, 'headerless-one', 'run'), name));
    }
    expect(await summaryOf(path.join(work, 'headerless-many', 'run'))).toEqual(await summaryOf(path.join(work, 'headerless-one', 'run')));
    expect(((await summaryOf(path.join(work, 'headerless-many', 'run'))).rows as { read: number }).read).toBe(14_084);
  }, 120_000);

  it('scores a gzip extract (which cannot be split by bytes) whole with --workers 2', async () => {
    // Prepare
    const gz = path.join(work, 'bank.csv.gz');
    await writeFile(gz, gzipSync(await readFile(withBadRows)));
    // Act
    const plain = await score(withBadRows, path.join(work, 'gz-plain', 'run'), '--workers', '1', '--parts', '1');
    const zipped = await score(gz, path.join(work, 'gz', 'run'), '--workers', '2');
    // Assess
    expect([plain.code, zipped.code]).toEqual([0, 0]);
    for (const name of ['scores.csv', 'targets.csv', 'rejects.csv']) {
      expect(await text(path.join(work, 'gz', 'run'), name), name).toBe(await text(path.join(work, 'gz-plain', 'run'), name));
    }
    expect(await spoolsLeft()).toEqual([]);
  }, 120_000);

  it('refuses --workers and --parts out of their bounds (usage, exit 2)', async () => {
    for (const [flag, value] of [['--workers', '0'], ['--workers', '65'], ['--parts', '1025'], ['--parts', 'two']]) {
      const { code, stderr } = await score(withBadRows, path.join(work, 'never'), flag!, value!);
      expect(code, `${flag} ${value}`).toBe(2);
      expect(stderr).toMatch(new RegExp(`${flag!.slice(2)} <n>' argument '${value}' is invalid. must be a whole number from 1 to (64|1024)`));
    }
    expect(existsSync(path.join(work, 'never'))).toBe(false);
  });

  it('runs its workers from a fresh shell through bin/propensity.mjs (tsx), as `npx propensity` does', async () => {
    // Act: a child process, so the workers load TypeScript through their own tsx registration.
    const out = path.join(work, 'shell', 'run');
    const { stdout } = await run(process.execPath, [path.join(REPO, 'bin', 'propensity.mjs'), 'score', '--model', 'bank-marketing', '--input', withBadRows, '--out', out, '--workers', '2', '--parts', '3'], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: scratch },
      maxBuffer: 16 * 1024 * 1024,
    });
    // Assess
    expect(stdout).toContain(`Outputs: ${out}`);
    expect(await text(out, 'scores.csv')).toBe(await text(path.join(work, 'one', 'run'), 'scores.csv'));
    expect(await spoolsLeft()).toEqual([]);
  }, 120_000);
});
