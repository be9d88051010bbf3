import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBundleDir } from '../../functions/adapters/fs/bundleDir.js';
import { listKeys, putObject } from '../../functions/adapters/s3/s3Objects.js';
import { S3Registry } from '../../functions/adapters/s3/S3Registry.js';
import { runCli } from '../../functions/cli/main.js';
import type { BundleFiles } from '../../functions/core/bundle/registry.js';
import type { ScoreS3ObjectResult } from '../../functions/score/scoreS3Object.js';
import { startEmbeddedS3, type EmbeddedS3 } from '../helpers/embeddedS3.js';
import { tinyBinaryBundle } from '../helpers/tinyBundle.js';
import { captureOutput } from '../helpers/captureOutput.js';
import { dropObject, objectText } from './support/s3Drops.js';

/**
 * Canaries: a customer id, a customer value and a numeric value planted in extracts (and an
 * economics sidecar) that drive every error path. Logs, metrics, stdout/stderr, exception messages,
 * error.json, summary.json, report.md, report.html, profile.json and _SUCCESS must carry none of them; only
 * rejects.csv, scores.csv and targets.csv may hold customer data.
 */
const CANARY_ID = 'CANARY-ID-7f3a';
const CANARY_VAL = 'CANARY-VAL-91b2';
const CANARY_NUM = '987654321.123';
const CANARIES = [CANARY_ID, CANARY_VAL, CANARY_NUM, 'CANARY'] as const;
/** Files that may hold customer data by design. */
const DATA_FILES = new Set(['rejects.csv', 'scores.csv', 'targets.csv']);

const HEADER = 'customer_id,age,member,value';
/** 40 good rows, so one or two rejects stay under the default 5 % reject rate. */
const GOOD_ROWS = Array.from({ length: 40 }, (_, i) => `c${i},${20 + i},${i % 2 ? 'yes' : 'no'},${10 + i}`);
const extract = (...rows: string[]): string => `${HEADER}\n${[...GOOD_ROWS.slice(0, 20), ...rows, ...GOOD_ROWS.slice(20)].join('\n')}\n`;

interface Case {
  readonly name: string;
  readonly body: string | Uint8Array;
  /** The per-run economics (a sidecar in S3, `--economics` in the CLI). */
  readonly economics?: string;
  /** A model whose bundle is broken. */
  readonly model?: 'tiny' | 'broken' | 'comma';
  /** The error code, or `scored` with the reject reason the summary must count. */
  readonly expect: { readonly code: string; readonly message?: string } | { readonly rejected: string };
}

const truncatedGzip = (() => {
  const gz = gzipSync(Buffer.from(extract(`${CANARY_ID},${CANARY_NUM},yes,${CANARY_VAL}`).repeat(50)));
  return gz.subarray(0, Math.floor(gz.length / 2));
})();

const CASES: readonly Case[] = [
  { name: 'missing-column', body: `customer_id,member,value\n${CANARY_ID},yes,${CANARY_VAL}\nb,no,3\n`, expect: { code: 'EXTRACT_MISSING_COLUMN' } },
  {
    name: 'no-header',
    body: `${CANARY_ID},${CANARY_NUM},yes,${CANARY_VAL}\n${GOOD_ROWS.join('\n')}\n`,
    expect: {
      code: 'EXTRACT_MISSING_COLUMN',
      message: `required columns "customer_id", "age", "member" missing; the first line does not look like a header (4 fields; matches none of the spec's columns; field 2 is a number): is the header line missing?`,
    },
  },
  {
    name: 'no-header-text-only',
    body: `${CANARY_ID},${CANARY_VAL},${CANARY_VAL},${CANARY_ID}\n${GOOD_ROWS.join('\n')}\n`,
    expect: { code: 'EXTRACT_MISSING_COLUMN', message: `missing; the header line has 4 fields; matches none of the spec's columns` },
  },
  { name: 'not-a-number', body: extract(`${CANARY_ID},${CANARY_VAL},yes,1`), expect: { rejected: 'NOT_A_NUMBER' } },
  { name: 'field-count', body: extract(`${CANARY_ID},${CANARY_NUM},yes,1,${CANARY_VAL}`), expect: { rejected: 'FIELD_COUNT' } },
  { name: 'malformed-quotes', body: extract(`${CANARY_ID},"${CANARY_VAL}"${CANARY_NUM},yes,1`), expect: { rejected: 'MALFORMED_QUOTES' } },
  { name: 'wrong-delimiter', body: `customer_id;age;value\n${CANARY_ID};${CANARY_NUM};${CANARY_VAL}\nb;3;4\n`, model: 'comma', expect: { code: 'EXTRACT_DELIMITER' } },
  { name: 'header-with-other-delimiter', body: `customer_id|age|value\n${CANARY_ID}|${CANARY_NUM}|${CANARY_VAL}\nb|3|4\n`, expect: { code: 'EXTRACT_MISSING_COLUMN' } },
  { name: 'duplicate-header', body: `customer_id,age,member,age\n${CANARY_ID},${CANARY_NUM},yes,${CANARY_VAL}\n`, expect: { code: 'EXTRACT_DUPLICATE_COLUMN' } },
  {
    name: 'value-out-of-range',
    body: extract(`${CANARY_ID},30,yes,${CANARY_VAL}`, `${CANARY_ID}2,31,no,-${CANARY_NUM}`),
    economics: '{"valuePerResponse":{"column":"value"}}',
    expect: { rejected: 'MISSING_VALUE_COLUMN' },
  },
  { name: 'truncated-gzip', body: truncatedGzip, expect: { code: 'EXTRACT_COMPRESSION' } },
  {
    name: 'not-utf8',
    body: Buffer.concat([Buffer.from(`${HEADER}\n${CANARY_ID},30,yes,${CANARY_NUM}\n${CANARY_VAL}`), Buffer.from([0xff, 0xfe]), Buffer.from(',31,no,2\n')]),
    expect: { code: 'EXTRACT_ENCODING' },
  },
  { name: 'empty', body: '', expect: { code: 'EXTRACT_EMPTY' } },
  { name: 'no-rows', body: `${HEADER}\n`, expect: { code: 'EXTRACT_NO_ROWS' } },
  {
    name: 'too-many-rejects',
    body: `${HEADER}\n${Array.from({ length: 10 }, (_, i) => `${CANARY_ID}${i},${CANARY_VAL},yes,${CANARY_NUM}`).join('\n')}\n`,
    expect: { code: 'EXTRACT_TOO_MANY_REJECTS' },
  },
  { name: 'economics-not-json', body: extract(), economics: `{"costPerContact": ${CANARY_VAL}, "id": "${CANARY_ID}"}`, expect: { code: 'ECONOMICS_INVALID', message: ': not valid JSON' } },
  { name: 'economics-not-json-number', body: extract(), economics: `{"costPerContact": ${CANARY_NUM}}x`, expect: { code: 'ECONOMICS_INVALID', message: ': not valid JSON (at character 34)' } },
  { name: 'economics-unknown-key', body: extract(), economics: `{"${CANARY_ID}": 1}`, expect: { code: 'ECONOMICS_INVALID', message: '(root): has a key that is not an economics setting (not quoted); the settings here are currency, costPerContact' } },
  { name: 'economics-bad-value', body: extract(), economics: `{"policy": "${CANARY_VAL}", "costPerContact": ${CANARY_NUM}}`, expect: { code: 'ECONOMICS_INVALID' } },
  { name: 'bundle-error', body: extract(`${CANARY_ID},${CANARY_NUM},yes,${CANARY_VAL}`), model: 'broken', expect: { code: 'BUNDLE_HASH_MISMATCH' } },
];

function expectNoCanary(where: string, text: string): void {
  for (const canary of CANARIES) expect(text.includes(canary), `${where} carries ${canary}:\n${text}`).toBe(false);
}

/** What an error shows anyone: its message, stack and toJSON (what the Lambda runtime and error.json carry). */
function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return `${error.stack ?? ''}\n${JSON.stringify(error)}`;
}

let work: string;
let tiny: BundleFiles;
let broken: BundleFiles;
/** The tiny model with `,` as its spec's delimiter (not `auto`): a file separated otherwise is refused. */
let comma: BundleFiles;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'propensity-canary-'));
  tiny = await tinyBinaryBundle();
  broken = await tinyBinaryBundle({ name: 'broken' });
  const { featureSpec } = tiny.manifest;
  comma = await tinyBinaryBundle({ name: 'comma', featureSpec: { ...featureSpec, spec: { ...featureSpec.spec, file: { ...featureSpec.spec.file, delimiter: ',' } } } });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('canaries never leave the data files: CLI', () => {
  let tinyDir: string;
  let brokenDir: string;
  let commaDir: string;

  beforeAll(async () => {
    tinyDir = path.join(work, 'bundle-tiny');
    brokenDir = path.join(work, 'bundle-broken');
    await writeBundleDir(tinyDir, tiny);
    await writeBundleDir(brokenDir, broken);
    commaDir = path.join(work, 'bundle-comma');
    await writeBundleDir(commaDir, comma);
    await writeFile(path.join(brokenDir, 'model.onnx'), 'not the model the manifest hashed');
  });

  for (const c of CASES) {
    it(`${c.name}: ${'code' in c.expect ? c.expect.code : c.expect.rejected}, and no canary in stdout, stderr or the run's files`, async () => {
      // Prepare
      const input = path.join(work, `${c.name}.csv${c.name.includes('gzip') ? '.gz' : ''}`);
      const out = path.join(work, `out-${c.name}`);
      await writeFile(input, c.body);
      const economics = c.economics === undefined ? [] : ['--economics', path.join(work, `${c.name}.economics.json`)];
      if (c.economics !== undefined) await writeFile(economics[1]!, c.economics);
      // Act
      const { value: exitCode, printed } = await captureOutput(() =>
        runCli(['score', '--model', { tiny: tinyDir, broken: brokenDir, comma: commaDir }[c.model ?? 'tiny'], '--input', input, '--out', out, ...economics]),
      );
      // Assess: the expected code, and no canary anywhere but the data files.
      if ('code' in c.expect) {
        expect(exitCode).toBe(2);
        expect(printed).toContain(`propensity: ${c.expect.code}: `);
        if (c.expect.message) expect(printed).toContain(c.expect.message);
      } else {
        expect(exitCode).toBe(0);
        const summary = JSON.parse(await readFile(path.join(out, 'summary.json'), 'utf8')) as { rows: { rejectReasons: Record<string, number> } };
        expect(summary.rows.rejectReasons[c.expect.rejected]).toBeGreaterThan(0);
        expect(await readFile(path.join(out, 'rejects.csv'), 'utf8')).toContain('CANARY');
      }
      expectNoCanary('stdout/stderr', printed);
      const files = await readdir(out).catch(() => [] as string[]);
      for (const file of files.filter((f) => !DATA_FILES.has(f))) expectNoCanary(file, await readFile(path.join(out, file), 'utf8'));
      if ('code' in c.expect && c.expect.code.startsWith('EXTRACT_')) {
        const errorJson = JSON.parse(await readFile(path.join(out, 'error.json'), 'utf8')) as { error: { code: string } };
        expect(errorJson.error.code).toBe(c.expect.code);
      }
    });
  }
});

type Handler = (event: S3Event) => Promise<ScoreS3ObjectResult[]>;

describe('canaries never leave the data files: score function on the embedded S3', () => {
  let s3: EmbeddedS3;
  let handler: Handler;

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ bucket: 'canary-it' });
    const registry = new S3Registry(s3.client, s3.bucket);
    for (const bundle of [tiny, broken, comma]) {
      await registry.write(bundle);
      await registry.promote(bundle.manifest.name, bundle.manifest.version, 'test');
    }
    // The broken model's file no longer matches the hash its manifest records.
    const modelKey = (await listKeys(s3.client, s3.bucket, 'models/broken/')).find((key) => key.endsWith('/model.onnx'))!;
    await putObject(s3.client, s3.bucket, modelKey, 'not the model the manifest hashed');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: s3.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      LOG_LEVEL: 'DEBUG',
      POWERTOOLS_SERVICE_NAME: 'propensity-score',
    });
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_DEV;
    ({ handler } = await import('../../functions/score/handler.js'));
  });

  afterAll(async () => {
    await s3?.stop();
  });

  for (const c of CASES) {
    it(`${c.name}: ${'code' in c.expect ? c.expect.code : c.expect.rejected}, and no canary in logs, metrics, the error or outputs/`, async () => {
      // Prepare
      const model = c.model ?? 'tiny';
      const key = `incoming/${model}/${c.name}.csv${c.name.includes('gzip') ? '.gz' : ''}`;
      if (c.economics !== undefined) await putObject(s3.client, s3.bucket, `${key}.economics.json`, c.economics);
      const event = await dropObject(s3, key, c.body);
      // Act
      const { value, error, printed } = await captureOutput(() => handler(event));
      // Assess
      expect(printed).toContain('"level":');
      expectNoCanary('stdout/stderr', printed);
      expectNoCanary('the thrown error', errorText(error));
      if ('code' in c.expect) {
        expect(error).toMatchObject({ code: c.expect.code });
        if (c.expect.message) expect((error as Error).message).toContain(c.expect.message);
      } else expect(value?.[0]?.status).toBe('scored');
      const keys = (await listKeys(s3.client, s3.bucket, `outputs/${model}/`)).filter((k) => k.includes(`/${c.name}-`));
      expect(keys.length).toBeGreaterThan(0);
      for (const k of keys.filter((k) => !DATA_FILES.has(k.split('/').at(-1)!))) expectNoCanary(k, (await objectText(s3, k)) ?? '');
      const errorKey = keys.find((k) => k.endsWith('/error.json'));
      if ('code' in c.expect) expect(JSON.parse((await objectText(s3, errorKey!))!)).toMatchObject({ error: { code: c.expect.code } });
      else {
        const summaryKey = keys.find((k) => k.endsWith('/summary.json'))!;
        const summary = JSON.parse((await objectText(s3, summaryKey))!) as { rows: { rejectReasons: Record<string, number> } };
        expect(summary.rows.rejectReasons[c.expect.rejected]).toBeGreaterThan(0);
      }
    });
  }
});
