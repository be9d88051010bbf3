import { open, stat } from 'node:fs/promises';
import type { ByteRangeReader } from '../../core/extract/planParts.js';

/**
 * A local file as the core's {@link ByteRangeReader} (for `planParts`). Each read opens the file,
 * so there is no handle to close; the size is taken once, when the reader is made.
 * @example const parts = await planParts(await localByteRanges('/tmp/customers.csv'), 4);
 */
export async function localByteRanges(file: string): Promise<ByteRangeReader> {
  const { size } = await stat(file);
  return {
    size,
    async read(start, end) {
      const handle = await open(file, 'r');
      try {
        const buffer = Buffer.alloc(Math.max(0, end - start));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, start);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}
