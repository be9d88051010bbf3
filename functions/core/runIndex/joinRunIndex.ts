import type { Writable } from 'node:stream';
import type { Spool, SpoolFactory } from '../engine/spool.js';
import { endStream, writeText } from '../engine/textStreams.js';
import { runFileColumns, type RunIndexRow } from './runIndex.js';

/** Target ids held in memory at once while joining (about 10 MB of ids and values). */
export const DEFAULT_MAX_TARGETS_IN_MEMORY = 100_000;

/** A run's CSV output read as records: its header, then its rows (the header not among them). */
export interface RunCsv {
  readonly header: readonly string[];
  readonly records: AsyncIterable<readonly string[]>;
}

export interface JoinRunIndexInput {
  /** `<run folder>/`, for messages. */
  readonly source: string;
  readonly scores: RunCsv;
  readonly targets: RunCsv;
  /** Rows of `targets.csv` (the summary's `selected`): decides whether the targets fit in memory. */
  readonly selected: number;
  /** Temp storage for the partitions when they do not (the run's spool factory: `/tmp` in Lambda). */
  readonly spool: SpoolFactory;
  /** @default DEFAULT_MAX_TARGETS_IN_MEMORY */
  readonly maxTargetsInMemory?: number;
}

/**
 * The run index's rows, one per `scores.csv` row and in its order: each scored customer with its
 * score, whether it is on `targets.csv`, and the value the selection used.
 *
 * Memory is bounded by `maxTargetsInMemory`, not by the run: when the target list is longer, both
 * files are first split by a hash of the id into k = ⌈selected / maxTargetsInMemory⌉ partitions on
 * the spool (plus one partition number per scored row, to restore the order), each partition is
 * joined with only its own targets in memory, and the joined partitions are read back in
 * `scores.csv` order. Ids match as text, as the realized step always matched them.
 *
 * @example
 * for await (const row of joinRunIndex({ source, scores, targets, selected: summary.selected, spool })) out.write(formatRunIndexRow(row));
 */
export async function* joinRunIndex(input: JoinRunIndexInput): AsyncGenerator<RunIndexRow> {
  const columns = runFileColumns(input.scores.header, input.targets.header, input.source);
  const partitions = Math.ceil(input.selected / (input.maxTargetsInMemory ?? DEFAULT_MAX_TARGETS_IN_MEMORY));
  if (partitions <= 1) {
    const targets = new Map<string, string>();
    for await (const record of input.targets.records) targets.set(record[0] ?? '', columns.value >= 0 ? (record[columns.value] ?? '') : '');
    for await (const record of input.scores.records) yield indexRow(record[0] ?? '', record[columns.score] ?? '', targets);
    return;
  }
  yield* joinPartitioned(input, columns, partitions);
}

function indexRow(id: string, score: string, targets: ReadonlyMap<string, string>): RunIndexRow {
  const value = targets.get(id);
  return { id, score, selected: value !== undefined, value: value ?? '' };
}

async function* joinPartitioned(input: JoinRunIndexInput, columns: ReturnType<typeof runFileColumns>, partitions: number): AsyncGenerator<RunIndexRow> {
  const spools: Spool[] = [];
  try {
    // 1. Split: targets and scored rows by hash of the id; the order channel remembers each row's partition.
    const split = await input.spool();
    spools.push(split);
    const targetParts = range(partitions).map((k) => split.open(`targets-${k}`));
    const rowParts = range(partitions).map((k) => split.open(`rows-${k}`));
    const order = split.open('order');
    const batches = new Batches();
    for await (const record of input.targets.records) {
      const id = record[0] ?? '';
      await batches.add(targetParts[partitionOf(id, partitions)]!, `${JSON.stringify([id, columns.value >= 0 ? (record[columns.value] ?? '') : ''])}\n`);
    }
    for await (const record of input.scores.records) {
      const id = record[0] ?? '';
      const k = partitionOf(id, partitions);
      await batches.add(rowParts[k]!, `${JSON.stringify([id, record[columns.score] ?? ''])}\n`);
      await batches.add(order, `${k}\n`);
    }
    await batches.flush();
    await split.close();

    // 2. Join each partition with only its own targets in memory.
    const joined = await input.spool();
    spools.push(joined);
    for (let k = 0; k < partitions; k++) {
      const targets = new Map<string, string>();
      for await (const line of split.lines(`targets-${k}`)) {
        const [id, value] = JSON.parse(line) as [string, string];
        targets.set(id, value);
      }
      const out = joined.open(`joined-${k}`);
      for await (const line of split.lines(`rows-${k}`)) {
        const [id, score] = JSON.parse(line) as [string, string];
        const row = indexRow(id, score, targets);
        await batches.add(out, `${JSON.stringify([row.id, row.score, row.selected ? 1 : 0, row.value])}\n`);
      }
      await batches.flush();
      await endStream(out);
    }
    await joined.close();

    // 3. Back in scores.csv order: the order channel says which partition holds the next row.
    const readers = range(partitions).map((k) => joined.lines(`joined-${k}`)[Symbol.asyncIterator]());
    for await (const line of split.lines('order')) {
      const next = await readers[Number(line)]!.next();
      if (next.done) throw new Error(`${input.source}: index partition ${line} ended early`);
      const [id, score, selected, value] = JSON.parse(next.value) as [string, string, number, string];
      yield { id, score, selected: selected === 1, value };
    }
  } finally {
    for (const spool of spools) await spool.dispose();
  }
}

/** FNV-1a over the id's UTF-16 units: stable across runs and processes. */
function partitionOf(id: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % partitions;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Buffers lines per stream and writes them in 64 KB pieces: one write per line would dominate the time. */
class Batches {
  private readonly pending = new Map<Writable, string>();

  async add(stream: Writable, text: string): Promise<void> {
    const buffered = (this.pending.get(stream) ?? '') + text;
    if (buffered.length < 1 << 16) {
      this.pending.set(stream, buffered);
      return;
    }
    this.pending.delete(stream);
    await writeText(stream, buffered);
  }

  async flush(): Promise<void> {
    for (const [stream, text] of this.pending) await writeText(stream, text);
    this.pending.clear();
  }
}
