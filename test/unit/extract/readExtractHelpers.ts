import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { RowReject } from '../../../functions/core/errors.js';
import { openExtract, type ExtractReadOptions, type ExtractRecord } from '../../../functions/core/extract/readExtract.js';

export const fixturePath = (name: string): string => fileURLToPath(new URL(`../../fixtures/extracts/${name}`, import.meta.url));
export const fixture = (name: string): Buffer => readFileSync(fixturePath(name));
export { dataset as datasetPath } from '../../helpers/datasets.js';

/** The bytes as an async iterable of `size`-byte chunks, to put chunk boundaries everywhere. */
// eslint-disable-next-line @typescript-eslint/require-await -- an async generator is the simplest AsyncIterable over bytes in memory; it has nothing to await
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export interface ReadResult {
  header: string[] | null;
  delimiter: string;
  records: ExtractRecord[];
  rejects: RowReject[];
  stats: { records: number; rejects: number; bytes: number };
}

/** Reads a whole extract; a bad file rejects with the ExtractError. */
export async function readAll(
  input: Uint8Array | string | AsyncIterable<Uint8Array>,
  options: Partial<ExtractReadOptions> = {},
  chunkSize = 64 * 1024,
): Promise<ReadResult> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const source = bytes instanceof Uint8Array ? chunked(bytes, chunkSize) : bytes;
  const extract = await openExtract(source, { source: 'test.csv', header: true, delimiter: 'auto', ...options });
  const records: ExtractRecord[] = [];
  const rejects: RowReject[] = [];
  for await (const item of extract.items) {
    if (item.kind === 'record') records.push(item.record);
    else rejects.push(item.reject);
  }
  return { header: extract.header, delimiter: extract.delimiter, records, rejects, stats: extract.stats() };
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
