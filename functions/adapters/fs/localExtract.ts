import { createReadStream } from 'node:fs';
import type { ExtractBytes } from '../../core/training/trainingTable.js';

/**
 * A local extract file as the core reads it. The file is opened when the core starts reading, not
 * before: a run refused on its spec never touches the file, and a missing file fails as a read error.
 */
export function localExtract(file: string): ExtractBytes {
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield* createReadStream(file);
  }
  return { source: file, input: bytes() };
}
