import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { PropensityErrorCode, RejectReason } from '../../functions/core/errors.js';

/**
 * The bad-input corpus: one JSON file per case under `test/corpus/cases/<bundle>/`, its bytes spelled
 * out and its expected outcome written from the documented rules (README "Scoring a file by hand",
 * `functions/core/errors.ts`), not from what the code happens to do.
 */
export const CASES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'cases');

/** The bundled models the corpus runs against (`model-store/<name>`, its champion). */
export const CORPUS_BUNDLES = ['ecommerce-churn', 'segmentation', 'audiobooks', 'bank-marketing'] as const;
export type CorpusBundle = (typeof CORPUS_BUNDLES)[number];

export interface ExpectedReject {
  /** 1-based physical line where the record starts. */
  readonly line: number;
  readonly reason: RejectReason;
  /** Checked only when given. */
  readonly column?: string;
}

export type ExpectedOutcome =
  | { readonly refused: PropensityErrorCode }
  | {
      readonly read: number;
      readonly scored: number;
      readonly rejected: number;
      /** Every reject, in file order. */
      readonly rejects: readonly ExpectedReject[];
      /** `summary.json`'s `delimiter`, when the case is about it. */
      readonly delimiter?: string;
      /** The ids of `scores.csv` in file order, as a CSV parser reads them (neutralised cells included). */
      readonly ids?: readonly string[];
    };

export interface CorpusCaseFile {
  readonly about: string;
  readonly bundle: CorpusBundle;
  /** Joined as they are: each line carries its own line ending (or none). */
  readonly lines?: readonly string[];
  /** Raw bytes instead of `lines`. */
  readonly hex?: string;
  /** Placeholders in `lines` replaced by a repeated string: `{"@LONG@": ["x", 200000]}`. */
  readonly expand?: Readonly<Record<string, readonly [string, number]>>;
  /** How `lines` become bytes. @default "utf8" */
  readonly encoding?: 'utf8' | 'latin1';
  /** `gzip`: compressed; `truncated`: compressed, then its 8-byte trailer (CRC, size) cut off. */
  readonly gzip?: 'gzip' | 'truncated';
  /** The source name given to the run. @default "extract.csv" */
  readonly source?: string;
  readonly run?: { readonly maxRejectRate?: number; readonly economics?: Record<string, unknown> };
  readonly expect: ExpectedOutcome;
}

export interface CorpusCase extends CorpusCaseFile {
  /** `<bundle>/<name>.json`, relative to {@link CASES_DIR}. */
  readonly file: string;
  readonly name: string;
  readonly bytes: () => Buffer;
}

function bytesOf(c: CorpusCaseFile): Buffer {
  let plain: Buffer;
  if (c.hex !== undefined) plain = Buffer.from(c.hex, 'hex');
  else {
    let text = (c.lines ?? []).join('');
    for (const [marker, [unit, times]] of Object.entries(c.expand ?? {})) text = text.replaceAll(marker, unit.repeat(times));
    plain = Buffer.from(text, c.encoding ?? 'utf8');
  }
  if (c.gzip === undefined) return plain;
  const zipped = gzipSync(plain);
  return c.gzip === 'truncated' ? zipped.subarray(0, zipped.length - 8) : zipped;
}

/** Every case, sorted by bundle then name. */
export function loadCorpus(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  for (const bundle of CORPUS_BUNDLES) {
    for (const entry of readdirSync(path.join(CASES_DIR, bundle)).filter((f) => f.endsWith('.json')).sort()) {
      const file = `${bundle}/${entry}`;
      const parsed = JSON.parse(readFileSync(path.join(CASES_DIR, file), 'utf8')) as CorpusCaseFile;
      if (parsed.bundle !== bundle) throw new Error(`${file}: bundle "${parsed.bundle}" does not match its folder`);
      cases.push({ ...parsed, file, name: entry.replace(/\.json$/, ''), bytes: () => bytesOf(parsed) });
    }
  }
  return cases;
}

/** One line of text for the README table. */
export function describeOutcome(expect: ExpectedOutcome): string {
  if ('refused' in expect) return `refused: \`${expect.refused}\``;
  let text = `${expect.read} read, ${expect.scored} scored, ${expect.rejected} rejected`;
  if (expect.rejects.length > 0) text += ` (${expect.rejects.map((r) => `line ${r.line} ${r.reason}${r.column ? ` ${r.column}` : ''}`).join('; ')})`;
  if (expect.delimiter !== undefined) text += `; delimiter \`${expect.delimiter === '\t' ? 'tab' : expect.delimiter}\``;
  return text;
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** The README table: one row per case (`scripts/corpus-table.ts` writes it into README.md). */
export function corpusTable(cases: readonly CorpusCase[] = loadCorpus()): string {
  const rows = cases.map((c) => `| \`${c.file}\` | ${c.bundle} | ${cell(c.about)} | ${cell(describeOutcome(c.expect))} |`);
  return [`${cases.length} cases.`, '', '| case | bundle | input | expected outcome |', '|---|---|---|---|', ...rows].join('\n');
}
