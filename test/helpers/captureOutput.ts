/**
 * Runs `act` while collecting everything written to stdout and stderr (Powertools logs, EMF, CLI
 * output), for the tests that check what a run prints, e.g. that no customer value reaches a log line.
 */
export async function captureOutput<T>(act: () => Promise<T>): Promise<{ value: T | undefined; error: unknown; printed: string }> {
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write.bind(stream));
  let printed = '';
  for (const stream of streams) {
    stream.write = (chunk: string | Uint8Array) => {
      printed += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    };
  }
  try {
    return { value: await act(), error: undefined, printed };
  } catch (error) {
    return { value: undefined, error, printed };
  } finally {
    streams.forEach((stream, i) => {
      stream.write = originals[i]!;
    });
  }
}
