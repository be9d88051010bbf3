import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { tinyBinaryBundle } from '../helpers/tinyBundle.js';
import { runCliCaptured } from '../helpers/runCliCaptured.js';

let work: string;
let bundle: string;
let extract: string;
/** An existing file where a folder is expected. */
let file: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-usage-'));
  bundle = path.join(work, 'bundle');
  await writeBundleDir(bundle, await tinyBinaryBundle());
  extract = path.join(work, 'extract.csv');
  await writeFile(extract, 'customer_id,age,member\na,30,yes\nb,40,no\n');
  file = path.join(work, 'a-file');
  await writeFile(file, 'not a folder');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCliCaptured(args);

describe('CLI numeric options are bounded: a usage error naming the option, exit 2', () => {
  const cases: Array<{ name: string; args: () => string[]; option: string; bound: string }> = [
    { name: 'score --batch-size above the bound', args: () => ['score', '--model', bundle, '--input', extract, '--out', path.join(work, 'o1'), '--batch-size', '1000000000'], option: "--batch-size <rows>' argument '1000000000'", bound: 'must be a whole number from 1 to 1048576' },
    { name: 'score --batch-size 0', args: () => ['score', '--model', bundle, '--input', extract, '--out', path.join(work, 'o1'), '--batch-size', '0'], option: "--batch-size <rows>' argument '0'", bound: 'must be a whole number from 1 to 1048576' },
    { name: 'score --batch-size not decimal', args: () => ['score', '--model', bundle, '--input', extract, '--out', path.join(work, 'o1'), '--batch-size', '0x10'], option: "--batch-size <rows>' argument '0x10'", bound: 'must be a whole number from 1 to 1048576' },
    { name: 'score --max-reject-rate above 1', args: () => ['score', '--model', bundle, '--input', extract, '--out', path.join(work, 'o1'), '--max-reject-rate', '1e400'], option: "--max-reject-rate <rate>' argument '1e400'", bound: 'must be a number from 0 to 1' },
    { name: 'infer-spec --sample-rows above the bound', args: () => ['infer-spec', extract, '--sample-rows', '1000001'], option: "--sample-rows <rows>' argument '1000001'", bound: 'must be a whole number from 1 to 1000000' },
    { name: 'train --seed above 2^32 − 1', args: () => ['train', '--spec', 'x.json', '--data', extract, '--out', path.join(work, 'o2'), '--seed', '99999999999999999999'], option: "--seed <n>' argument '99999999999999999999'", bound: 'must be a whole number from 0 to 4294967295' },
    { name: 'train --seed empty', args: () => ['train', '--spec', 'x.json', '--data', extract, '--out', path.join(work, 'o2'), '--seed', ''], option: "--seed <n>' argument ''", bound: 'must be a whole number from 0 to 4294967295' },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { code, printed } = await cli(...c.args());
      expect(code).toBe(2);
      expect(printed).toContain(`error: option '${c.option} is invalid. ${c.bound}`);
      expect(printed).not.toContain('internal error');
    });
  }

  it('scores with the largest batch size', async () => {
    const out = path.join(work, 'largest-batch');
    const { code } = await cli('score', '--model', bundle, '--input', extract, '--out', out, '--batch-size', '1048576', '--quiet');
    expect(code).toBe(0);
    expect(await readdir(out)).toContain('_SUCCESS');
  });
});

describe('CLI output paths are checked before any work: a usage error naming the option, exit 2', () => {
  const cases: Array<{ name: string; args: () => string[]; message: () => string }> = [
    { name: 'score --out is a file', args: () => ['score', '--model', bundle, '--input', extract, '--out', file], message: () => `error: option '--out <dir>' argument '${file}' is invalid. is a file, not a folder` },
    {
      name: 'score --out under a file',
      args: () => ['score', '--model', bundle, '--input', extract, '--out', path.join(file, 'run', 'deeper')],
      message: () => `error: option '--out <dir>' argument '${path.join(file, 'run', 'deeper')}' is invalid. cannot be made: ${file} is a file, not a folder`,
    },
    { name: 'train --out is a file', args: () => ['train', '--spec', 'x.json', '--data', extract, '--out', file], message: () => `error: option '--out <dir>' argument '${file}' is invalid. is a file, not a folder` },
    { name: 'train --registry is a file', args: () => ['train', '--spec', 'x.json', '--data', extract, '--registry', file], message: () => `error: option '--registry <dir|s3-url>' argument '${file}' is invalid. is a file, not a folder` },
    { name: 'promote --registry is a file', args: () => ['promote', 'tiny', 'v1', '--reason', 'r', '--registry', file], message: () => `error: option '--registry <dir|s3-url>' argument '${file}' is invalid. is a file, not a folder` },
    { name: 'rollback --registry is a file', args: () => ['rollback', 'tiny', '--reason', 'r', '--registry', file], message: () => `error: option '--registry <dir|s3-url>' argument '${file}' is invalid. is a file, not a folder` },
    { name: 'infer-spec --out is a folder', args: () => ['infer-spec', extract, '--out', work], message: () => `error: option '--out <file>' argument '${work}' is invalid. is a folder, not a file` },
    {
      name: 'infer-spec --out under a file',
      args: () => ['infer-spec', extract, '--out', path.join(file, 'spec.json')],
      message: () => `error: option '--out <file>' argument '${path.join(file, 'spec.json')}' is invalid. cannot be written: ${file} is a file, not a folder`,
    },
    { name: 'drift --report is a folder', args: () => ['drift', '--model', bundle, work, '--report', work], message: () => `error: option '--report <file>' argument '${work}' is invalid. is a folder, not a file` },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { code, printed } = await cli(...c.args());
      expect(code).toBe(2);
      expect(printed).toContain(c.message());
      expect(printed).not.toContain('internal error');
    });
  }

  it('inspect of a file (not a bundle folder) is BUNDLE_NOT_FOUND, not an internal ENOTDIR', async () => {
    const { code, printed } = await cli('inspect', file);
    expect(code).toBe(2);
    expect(printed).toBe(`propensity: BUNDLE_NOT_FOUND: ${file}: not a bundle folder, a registry model folder, or a bundled model name (hint: give a bundle folder, a registry model folder, or one of the names in model-store/)\n`);
  });

  it('score into a new folder under an existing one still works', async () => {
    const parent = path.join(work, 'runs');
    await mkdir(parent);
    const { code } = await cli('score', '--model', bundle, '--input', extract, '--out', path.join(parent, 'a', 'b'), '--quiet');
    expect(code).toBe(0);
  });
});

describe('propensity help, errors and inspect', () => {
  const commands = ['score', 'inspect', 'infer-spec', 'train', 'drift', 'promote', 'rollback'];

  it.each(commands)('%s --help ends with an example of the command', async (command) => {
    const { code, stdout } = await cli(command, '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`\\nExamples?:\\n(  \\$ propensity ${command} .+\\n)+\\n*$`));
  });

  it('an error is one line with a hint; --verbose (after the command too) adds the stack', async () => {
    const plain = await cli('score', '--model', file, '--input', extract, '--out', path.join(work, 'err'));
    expect(plain.code).toBe(2);
    expect(plain.stderr.split('\n')).toEqual([expect.stringMatching(/^propensity: BUNDLE_NOT_FOUND: .* \(hint: .+\)$/) as unknown, '']);
    const verbose = await cli('score', '--model', file, '--input', extract, '--out', path.join(work, 'err'), '--verbose');
    expect(verbose.code).toBe(2);
    const [first, ...stack] = verbose.stderr.trimEnd().split('\n');
    expect(first).toBe(plain.stderr.trimEnd());
    expect(stack[0]).toMatch(/^BundleError: /);
    expect(stack.some((line) => /^\s+at /.test(line))).toBe(true);
  });

  it('inspect fits on one screen and --json prints the whole manifest', async () => {
    const { code, stdout } = await cli('inspect', 'bank-marketing');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(40);
    expect(lines[0]).toMatch(/^bank-marketing \S+ \(binary, onnx\) at /);
    expect(stdout).toMatch(/^ {2}ROC AUC +0\.\d{3} +0\.\d{3}$/m);
    expect(stdout).toMatch(/^ {2}categorical features \(10\): job \(\d+\), /m);
    expect(stdout).toContain('economics: EUR 8 per contact, 120 per response; policy max-expected-profit; no budget');
    // model.onnx, tfjs/model.json, tfjs/weights.bin and the training report.
    expect(stdout).toMatch(/^lineage: created .+; 4 files, sha256 verified$/m);
    const json = JSON.parse((await cli('inspect', 'bank-marketing', '--json')).stdout) as { location: string; manifest: { name: string; metrics: { evaluation: unknown } } };
    expect(json.manifest.name).toBe('bank-marketing');
    expect(json.manifest.metrics.evaluation).toBeDefined();
  });
});
