import { vi } from 'vitest';
import { runCli } from '../../functions/cli/main.js';

/** What one in-process CLI run printed, and its exit code. */
export interface CapturedCliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout and stderr interleaved, as a terminal shows them. */
  readonly printed: string;
}

/**
 * Runs `propensity <args>` in-process (the same `runCli` as the binary) with stdout and stderr captured.
 * @example const { code, stderr } = await runCliCaptured(['score', '--model', 'bank-marketing', '--input', file, '--out', dir]);
 */
export async function runCliCaptured(args: readonly string[]): Promise<CapturedCliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const all: string[] = [];
  const capture = (into: string[]) => (chunk: string | Uint8Array) => (into.push(String(chunk)), all.push(String(chunk)), true);
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture(out)), vi.spyOn(process.stderr, 'write').mockImplementation(capture(err))];
  try {
    const code = await runCli([...args]);
    return { code, stdout: out.join(''), stderr: err.join(''), printed: all.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
