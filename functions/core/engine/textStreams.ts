import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Writes text (or bytes) to a stream, waiting when the stream asks to (bounded memory). Rejects instead of
 * waiting forever when the stream fails or is destroyed meanwhile.
 */
export async function writeText(stream: Writable, text: string | Uint8Array): Promise<void> {
  if (stream.destroyed) throw stream.errored ?? new Error('cannot write: the stream was destroyed');
  if (stream.write(text)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: Error | null) => {
      stream.off('drain', onDrain).off('error', settle).off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    const onClose = () => settle(stream.errored ?? new Error('the stream closed before it drained'));
    stream.on('drain', onDrain).on('error', settle).on('close', onClose);
  });
}

/** Ends a stream and waits until it has finished writing. */
export async function endStream(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream, { readable: false });
}

/**
 * The lines of a spool channel, a chunk's worth at a time (quicker than one line per await).
 * Lines are written with `\n` and never hold one (spool-escaped), so a plain split is exact.
 */
export async function* lineBatches(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<string[]> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of bytes) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
    rest = lines.pop()!;
    if (lines.length > 0) yield lines;
  }
  const tail = rest + decoder.decode();
  if (tail) yield [tail];
}
