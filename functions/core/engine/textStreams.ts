import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/**
 * Writes text to a stream, waiting when the stream asks to (bounded memory). Rejects instead of
 * waiting forever when the stream fails or is destroyed meanwhile.
 */
export async function writeText(stream: Writable, text: string): Promise<void> {
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
