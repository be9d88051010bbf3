import cliProgress from 'cli-progress';
import type { ScoreProgress } from '../core/engine/scorePart.js';

/**
 * Progress for a scoring run: a live bar on a terminal, a plain line every few seconds
 * otherwise (CI logs, cron mail) so logs stay readable.
 */
export function progressReporter(label: string): { update: (p: ScoreProgress) => void; stop: () => void } {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} {bar} {rows} rows scored, {rejected} rejected`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { rows: 0, rejected: 0 });
    return {
      update: (p) => bar.update(0, { rows: p.rowsScored, rejected: p.rowsRejected }),
      stop: () => {
        bar.update(1);
        bar.stop();
      },
    };
  }
  let last = Date.now();
  return {
    update: (p) => {
      if (Date.now() - last < 5000) return;
      last = Date.now();
      process.stderr.write(`${label}: ${p.rowsScored} rows scored, ${p.rowsRejected} rejected\n`);
    },
    stop: () => undefined,
  };
}
