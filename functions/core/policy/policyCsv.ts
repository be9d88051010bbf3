import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { SuppressionError } from '../errors.js';

/**
 * The records of a policy CSV file (a suppression list, a contact history entry) with their line.
 * An unreadable source or bad CSV is a SuppressionError naming the file and line: csv-parse's own
 * message may quote the file's text, so only its code is kept.
 */
export async function* csvRecords(bytes: AsyncIterable<Uint8Array>, file: string): AsyncGenerator<{ record: string[]; line: number }> {
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true });
  const source = Readable.from(bytes);
  let sourceError: unknown = null;
  source.on('error', (error) => {
    sourceError = error;
    parser.destroy();
  });
  source.pipe(parser);
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { record, line: info.lines };
  } catch (error) {
    if (sourceError) throw new SuppressionError('cannot be read', { file }, { cause: sourceError });
    const csvError = error as { code?: string; lines?: number };
    throw new SuppressionError(`is not CSV (${csvError.code ?? 'unreadable'})`, { file, ...(csvError.lines ? { line: csvError.lines } : {}) });
  }
  if (sourceError) throw new SuppressionError('cannot be read', { file }, { cause: sourceError });
}

