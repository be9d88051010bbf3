import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PropensityError } from '../../functions/core/errors.js';
import { dataset } from '../helpers/datasets.js';
import { contractProblems, loadBundledModel, runExtract, type LoadedModel, type RunResult } from '../corpus/corpusRun.js';

/**
 * Fuzzing the whole scoring path (reader → encoder → model → writers) with mutated real extracts and
 * arbitrary bytes. Every run must end, within a bound, in either a clean refusal with an `EXTRACT_…`
 * code (error.json, no _SUCCESS, no summary.json) or a committed run with rows read = scored +
 * rejected and a `_SUCCESS` that matches the files. Inputs stay small (a few KB): no size limit is
 * reached. The bound is generous (a run takes milliseconds); it catches a hang, not a slow run.
 */
const PER_RUN_BOUND_MS = 15_000;

const head = (file: string, lines: number, eol: string) => Buffer.from(readFileSync(dataset(file), 'utf8').split(eol).slice(0, lines).join(eol) + eol);
/** 12 real rows of each file, as they are (LF with a header; CRLF header-less). */
const CHURN = head('ecommerce-churn/E_Commerce_Dataset.csv', 13, '\n');
const AUDIOBOOKS = head('audiobooks/Audiobooks_data.csv', 12, '\r\n');

const models = new Map<string, LoadedModel>();
beforeAll(async () => {
  for (const name of ['ecommerce-churn', 'audiobooks']) models.set(name, await loadBundledModel(name));
});
afterAll(async () => {
  for (const m of models.values()) await m.bundle.model.dispose();
});

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const INSERTS = ['"', ',', ';', '\n', '\r', '\r\n', '""', '\t', '\u0000', '\uFEFF', '=', 'é', '\xE9', ' '];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.constantFrom(...INSERTS) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(base: Buffer, mutations: readonly Mutation[]): Buffer {
  let bytes = Buffer.from(base);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    if (m.kind === 'flip' && at < bytes.length) bytes[at] = bytes[at]! ^ (1 << m.bit);
    // '\xE9' is inserted as the single Latin-1 byte, the rest as UTF-8.
    if (m.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(m.text, m.text === '\xE9' ? 'latin1' : 'utf8'), bytes.subarray(at)]);
    if (m.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + m.length)]);
    if (m.kind === 'truncate') bytes = bytes.subarray(0, at);
  }
  return bytes;
}

async function boundedRun(model: LoadedModel, bytes: Buffer, source: string): Promise<RunResult> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`a run of ${bytes.length} bytes did not end within ${PER_RUN_BOUND_MS} ms`)), PER_RUN_BOUND_MS);
  });
  try {
    return await Promise.race([runExtract(model, { bytes, source, batchSize: 3 }), bound]);
  } finally {
    clearTimeout(timer);
  }
}

async function assessRun(model: LoadedModel, bytes: Buffer, source: string): Promise<void> {
  const result = await boundedRun(model, bytes, source);
  if (result.kind === 'refused') {
    expect(result.error).toBeInstanceOf(PropensityError);
    expect(result.error.code).toMatch(/^EXTRACT_/);
    expect(result.error.isInputError).toBe(true);
  }
  expect(await contractProblems(result)).toEqual([]);
}

describe('fuzzing scoreExtract (fast-check)', () => {
  it('mutated real e-commerce extracts (flips, quotes, delimiters, line breaks, truncations; some gzipped) end cleanly', async () => {
    const model = models.get('ecommerce-churn')!;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.boolean(), async (mutations, zipped) => {
        const bytes = mutate(CHURN, mutations);
        await assessRun(model, zipped ? gzipSync(bytes) : bytes, zipped ? 'extract.csv.gz' : 'extract.csv');
      }),
      { numRuns: 100 },
    );
  });

  it('mutated gzip streams (the compressed bytes themselves damaged) end cleanly', async () => {
    const model = models.get('ecommerce-churn')!;
    const zipped = gzipSync(CHURN);
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        await assessRun(model, mutate(zipped, mutations), 'extract.csv.gz');
      }),
      { numRuns: 40 },
    );
  });

  it('mutated header-less audiobooks extracts end cleanly', async () => {
    const model = models.get('audiobooks')!;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 6 }), async (mutations) => {
        await assessRun(model, mutate(AUDIOBOOKS, mutations), 'Audiobooks_data.csv');
      }),
      { numRuns: 50 },
    );
  });

  it('arbitrary bytes and arbitrary CSV-ish text end cleanly', async () => {
    const model = models.get('audiobooks')!;
    const csvish = fc
      .array(fc.constantFrom('1', '2.5', '-3', 'x', '"', ',', ';', '\n', '\r', ' ', '', 'NaN', '1e9', '\u0000'), { maxLength: 400 })
      .map((parts) => Buffer.from(parts.join('')));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)), csvish), async (bytes) => {
        await assessRun(model, bytes, 'extract.csv');
      }),
      { numRuns: 60 },
    );
  });
});
