import { DEFAULT_MISSING_MARKERS, parseFeatureSpec, type FeatureSpecInput } from '../spec/featureSpec.js';
import { cleanHeaderName } from './extractParser.js';
import { openExtract } from './readExtract.js';
import { mulberry32 } from '../training/seededRandom.js';

export interface InferSpecOptions {
  /** File name or S3 key, used in messages. */
  source: string;
  /** Data rows to look at: a uniform random sample (fixed seed) of the rows read. @default 10000 */
  sampleRows?: number;
  /** Rows read at most, from the start of the file, to draw the sample from. @default 1000000 */
  maxScanRows?: number;
}

export interface InferredSpec {
  /** A draft feature spec; it passes `parseFeatureSpec`. */
  spec: FeatureSpecInput;
  /** What was decided and why, and what a person may want to change. */
  notes: string[];
}

type ColumnInput = FeatureSpecInput['columns'][number];
type ColumnType = 'numeric' | 'categorical' | 'boolean' | 'date';

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const DATE = /^(\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?|\d{1,2}[/.]\d{1,2}[/.]\d{4})$/;
const DEFAULT_MARKERS: ReadonlySet<string> = new Set(DEFAULT_MISSING_MARKERS);
/** Words that often stand for "not known" but are kept as a category unless a person says otherwise. */
const SOFT_MISSING = new Set(['unknown', '?', '-', 'missing', 'n.a.', 'not available', 'undefined']);
const BOOLEAN_PAIRS: ReadonlyArray<readonly [string, string]> = [
  ['yes', 'no'],
  ['true', 'false'],
  ['y', 'n'],
  ['t', 'f'],
];
const POSITIVE_LABELS = ['1', 'yes', 'true', 'y', 't', '1.0'];
const TARGET_NAME_EXACT = /^(y|target|label|class|outcome|response|churn(ed)?|segment(ation)?|converted|purchased|subscribed|bought|responded)$/i;
const TARGET_NAME_PART = /churn|target|label|segment|convert|purchas|subscri|respon/i;
const MAX_TARGET_CLASSES = 10;

interface ColumnProfile {
  readonly index: number;
  readonly name: string;
  rows: number;
  /** Cells that are empty or a default missing marker, by marker. */
  readonly missing: Map<string, number>;
  /** Non-missing values and their counts. */
  readonly counts: Map<string, number>;
  numeric: number;
  integers: number;
  /** Whole numbers written with a decimal point (`4.0`), as pandas exports integer columns with gaps. */
  decimalIntegers: number;
  dates: number;
  readonly soft: Map<string, number>;
}

const isNumber = (value: string): boolean => NUMBER.test(value.trim());

function profileColumn(index: number, name: string, rows: readonly string[][]): ColumnProfile {
  const profile: ColumnProfile = {
    index,
    name,
    rows: rows.length,
    missing: new Map(),
    counts: new Map(),
    numeric: 0,
    integers: 0,
    decimalIntegers: 0,
    dates: 0,
    soft: new Map(),
  };
  for (const row of rows) {
    const value = (row[index] ?? '').trim();
    if (DEFAULT_MARKERS.has(value)) {
      profile.missing.set(value, (profile.missing.get(value) ?? 0) + 1);
      continue;
    }
    profile.counts.set(value, (profile.counts.get(value) ?? 0) + 1);
    if (SOFT_MISSING.has(value.toLowerCase())) profile.soft.set(value, (profile.soft.get(value) ?? 0) + 1);
    if (NUMBER.test(value)) {
      profile.numeric++;
      if (Number.isInteger(Number(value))) {
        profile.integers++;
        if (value.includes('.')) profile.decimalIntegers++;
      }
    } else if (DATE.test(value) && !Number.isNaN(Date.parse(value.includes('/') || /^\d{1,2}\./.test(value) ? value.replace(/^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/, '$3-$2-$1') : value))) {
      profile.dates++;
    }
  }
  return profile;
}

const missingCount = (p: ColumnProfile): number => [...p.missing.values()].reduce((a, b) => a + b, 0);
const present = (p: ColumnProfile): number => p.rows - missingCount(p);
const percent = (part: number, whole: number): string => `${((100 * part) / Math.max(whole, 1)).toFixed(1)} %`;

/**
 * Pairs of categories that look like two names for one thing: initials (`CC` / `Credit Card`,
 * `COD` / `Cash on Delivery`) or a shorter name that starts or ends the longer one (`Phone` / `Mobile Phone`).
 */
function possibleAliases(values: string[]): Array<[string, string]> {
  if (values.length > 50) return [];
  const pairs: Array<[string, string]> = [];
  for (const short of values) {
    for (const long of values) {
      if (short === long || !long.includes(' ')) continue;
      const words = long.split(/\s+/);
      const initials = words.map((w) => w[0] ?? '').join('');
      if (short.toUpperCase() === initials.toUpperCase() || (short.length > 2 && (long.toLowerCase().endsWith(` ${short.toLowerCase()}`) || long.toLowerCase().startsWith(`${short.toLowerCase()} `)))) {
        pairs.push([short, long]);
      }
    }
  }
  return pairs;
}

function booleanPair(p: ColumnProfile): readonly [string, string] | undefined {
  if (p.counts.size === 0 || p.counts.size > 2) return undefined;
  const values = new Set([...p.counts.keys()].map((v) => v.toLowerCase()));
  return BOOLEAN_PAIRS.find(([yes, no]) => [...values].every((v) => v === yes || v === no));
}

/** Numeric when (nearly) every present value is a number; the few odd tokens become missing markers. */
function numericOddTokens(p: ColumnProfile): string[] | undefined {
  const total = present(p);
  if (total === 0 || p.numeric / total < 0.95) return undefined;
  const odd = [...p.counts.keys()].filter((v) => !NUMBER.test(v));
  return odd.length <= 5 ? odd : undefined;
}

function columnType(p: ColumnProfile): ColumnType {
  if (booleanPair(p)) return 'boolean';
  if (numericOddTokens(p)) return 'numeric';
  if (present(p) > 0 && p.dates === present(p)) return 'date';
  return 'categorical';
}

/** `ID`, `CustomerID`, `customer_id`, `userId`, `id`: not `Paid` or `Valid`. */
function isIdName(name: string): boolean {
  return /^id$/i.test(name) || /(^|[_\s.-])id$/i.test(name) || /(^|[a-z0-9_.\s-])(ID|Id)$/.test(name) || /^id[_\s-]/i.test(name);
}

const isUnique = (p: ColumnProfile): boolean => missingCount(p) === 0 && p.counts.size === p.rows && p.rows > 0;

function looksLikeHeader(first: readonly string[], rows: readonly string[][]): boolean {
  // Header names are text (a name may be missing); a first line with a number is data.
  if (first.some((v) => isNumber(v)) || first.every((v) => v.trim() === '')) return false;
  if (rows.length === 0) return true;
  // A column that holds numbers below the first line gives them away.
  for (let c = 0; c < first.length; c++) {
    const values = rows.map((r) => (r[c] ?? '').trim()).filter((v) => !DEFAULT_MARKERS.has(v));
    if (values.length > 0 && values.filter((v) => NUMBER.test(v)).length / values.length >= 0.9) return true;
  }
  // An all-text table: a header value does not come back in its own column.
  return first.every((v, c) => !rows.some((r) => r[c] === v));
}

function uniqueNames(names: string[], notes: string[]): string[] {
  const used = new Set<string>();
  return names.map((raw, i) => {
    let name = raw === '' ? `col${i + 1}` : raw;
    if (raw === '') notes.push(`column ${i + 1} has no header name: called it "${name}"`);
    if (used.has(name)) {
      let k = 2;
      while (used.has(`${name}_${k}`)) k++;
      notes.push(`column ${i + 1} repeats the header name "${name}": called it "${name}_${k}"`);
      name = `${name}_${k}`;
    }
    used.add(name);
    return name;
  });
}

function positiveClassOf(p: ColumnProfile): { value: string; guessed: boolean } | undefined {
  if (p.counts.size !== 2) return undefined;
  const values = [...p.counts.keys()];
  const known = values.find((v) => POSITIVE_LABELS.includes(v.toLowerCase()));
  if (known !== undefined) return { value: known, guessed: false };
  const [a, b] = values as [string, string];
  return { value: p.counts.get(a)! <= p.counts.get(b)! ? a : b, guessed: true };
}

function describeClasses(p: ColumnProfile): string {
  return [...p.counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([value, count]) => `${value} ${percent(count, present(p))}`)
    .join(', ');
}

/**
 * Drafts a feature spec from the first rows of an extract: delimiter, whether there is a header,
 * each column's type (numeric, categorical, boolean, date), missing values, the id column, and the
 * target. The draft is a starting point for a person: every decision and doubt is in `notes`
 * (for instance `unknown` values kept as a category, other target candidates).
 *
 * Header-less files get columns `col1…colN` with their `position`; the last column is the
 * target candidate when it has few distinct values.
 *
 * @example const { spec, notes } = await inferSpec(createReadStream('bank-full.csv'), { source: 'bank-full.csv' });
 */
export async function inferSpec(
  input: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  options: InferSpecOptions,
): Promise<InferredSpec> {
  const sampleRows = Math.max(1, options.sampleRows ?? 10_000);
  const maxScanRows = Math.max(sampleRows, options.maxScanRows ?? 1_000_000);
  const extract = await openExtract(input, { source: options.source, header: false, delimiter: 'auto' });
  // Extracts are often sorted (by date, by region): a reservoir sample sees the whole file.
  // Seeded, so the same file always gives the same draft.
  const random = mulberry32(0x5eed);
  let first: string[] | undefined;
  const sample: string[][] = [];
  let seen = 0;
  let rejected = 0;
  for await (const item of extract.items) {
    if (item.kind === 'reject') {
      // A header line with odd quoting (` "Name" `) is rejected as data: split it by hand.
      if (first === undefined) first = item.reject.raw.split(extract.delimiter);
      else rejected++;
      continue;
    }
    if (first === undefined) {
      first = item.record.fields;
      continue;
    }
    seen++;
    if (sample.length < sampleRows) sample.push(item.record.fields);
    else {
      const slot = Math.floor(random() * seen);
      if (slot < sampleRows) sample[slot] = item.record.fields;
    }
    if (seen >= maxScanRows) break;
  }
  const notes: string[] = [];
  first ??= [];
  const header = looksLikeHeader(first, sample);
  // Without a header the first line is data: it joins the sample (replacing a random row if full).
  const rows = header ? sample : sample.length < sampleRows ? [first, ...sample] : [first, ...sample.slice(1)];
  const delimiterName = extract.delimiter === '\t' ? 'tab' : `"${extract.delimiter}"`;
  notes.push(
    `sampled ${rows.length} of the first ${seen + (header ? 0 : 1)} data rows${seen >= maxScanRows ? ' (file not read to the end)' : ''}; delimiter ${delimiterName}; ` +
      (header ? 'the first line is a header' : `no header line (the first line holds numbers): columns are called col1…col${first.length}`),
  );
  if (rejected > 0) notes.push(`${rejected} sampled lines had the wrong number of fields or bad quoting and were left out`);

  const names = header ? uniqueNames(first.map(cleanHeaderName), notes) : first.map((_, i) => `col${i + 1}`);
  const profiles = names.map((name, i) => profileColumn(i, name, rows));
  const types = profiles.map(columnType);

  // The id: unique and named like one; else (no header) a first column of unique whole numbers.
  const idProfile =
    profiles.find((p) => isIdName(p.name) && isUnique(p)) ??
    [profiles[0]].find((p) => p !== undefined && !header && isUnique(p) && p.integers === p.rows && p.rows >= 20);
  if (idProfile) notes.push(`id column: ${idProfile.name} (unique in the sample)`);
  else notes.push('no id column found (none is unique and named like an id): add one so target lists can name customers');

  // Target candidates: few distinct values and a telling name, or the last column of a header-less file.
  const fewValued = (p: ColumnProfile): boolean => p !== idProfile && p.counts.size >= 2 && p.counts.size <= MAX_TARGET_CLASSES;
  const rank = (p: ColumnProfile): number =>
    (TARGET_NAME_EXACT.test(p.name) ? 4 : TARGET_NAME_PART.test(p.name) ? 2 : 0) +
    (!header && p.index === profiles.length - 1 ? 3 : 0) +
    (p.counts.size === 2 ? 1 : 0);
  const candidates = profiles
    .filter((p) => fewValued(p) && (TARGET_NAME_PART.test(p.name) || TARGET_NAME_EXACT.test(p.name) || (!header && p.index === profiles.length - 1)))
    .sort((a, b) => rank(b) - rank(a) || b.index - a.index);
  const targetProfile = candidates[0];
  let positiveClass: string | undefined;
  if (targetProfile) {
    const positive = positiveClassOf(targetProfile);
    positiveClass = positive?.value;
    notes.push(
      `target: ${targetProfile.name} (${targetProfile.counts.size} classes: ${describeClasses(targetProfile)})` +
        (positive ? `; positive class "${positive.value}"${positive.guessed ? ' (the rarer one: check it)' : ''}` : ''),
    );
    const others = candidates.slice(1).map((p) => p.name);
    if (!header) {
      for (const p of profiles) if (p !== targetProfile && fewValued(p) && p.counts.size === 2 && !others.includes(p.name)) others.push(p.name);
    }
    if (others.length > 0) notes.push(`other columns that could be the target: ${others.join(', ')}`);
  } else {
    notes.push('no target column found (few distinct values and a name like y, target, churn, label): fine for scoring, needed for training');
  }

  const columns: ColumnInput[] = profiles.map((p, i): ColumnInput => {
    const base = { name: p.name, ...(header ? {} : { position: i + 1 }) };
    if (p === idProfile) return { ...base, role: 'id', type: 'categorical', scale: 'none' };
    if (p === targetProfile) return { ...base, role: 'target', type: 'categorical', scale: 'none' };
    const missing = missingCount(p);
    const type = types[i]!;
    if (present(p) === 0 || p.counts.size === 1) {
      notes.push(`${p.name}: ignored, ${present(p) === 0 ? 'always empty' : `always "${[...p.counts.keys()][0]}"`} in the sample`);
      return { ...base, role: 'ignore', type, scale: 'none' };
    }
    if (type === 'categorical' && p.counts.size > 100 && p.counts.size > present(p) / 2) {
      notes.push(`${p.name}: ignored, ${p.counts.size} distinct text values in ${present(p)} rows look like free text or another identifier`);
      return { ...base, role: 'ignore', type, scale: 'none' };
    }
    if (missing > 0) notes.push(`${p.name}: ${missing} missing (${percent(missing, p.rows)})`);
    for (const [value, count] of p.soft) {
      notes.push(
        `${p.name}: "${value}" in ${count} rows (${percent(count, p.rows)}) is kept as a category; ` +
          `to treat it as missing, set "missing": [${[...DEFAULT_MISSING_MARKERS, value].map((m) => JSON.stringify(m)).join(', ')}]`,
      );
    }
    const column: ColumnInput = { ...base, role: 'feature', type };
    switch (type) {
      case 'numeric': {
        const odd = numericOddTokens(p) ?? [];
        if (odd.length > 0) {
          column.missing = [...DEFAULT_MISSING_MARKERS, ...odd];
          notes.push(`${p.name}: numeric; the text values ${odd.map((v) => `"${v}"`).join(', ')} are treated as missing`);
        }
        if (p.decimalIntegers > 0 && p.integers === p.numeric) notes.push(`${p.name}: whole numbers written as decimals (e.g. "4.0")`);
        column.scale = 'standard';
        if (missing > 0 || odd.length > 0) column.impute = { strategy: 'median', indicator: true };
        break;
      }
      case 'date':
        column.scale = 'standard';
        if (missing > 0) column.impute = { strategy: 'median', indicator: true };
        break;
      case 'boolean': {
        const [yes, no] = booleanPair(p)!;
        column.trueValues = [yes];
        column.falseValues = [no];
        column.scale = 'none';
        if (missing > 0) column.impute = { strategy: 'most-frequent' };
        break;
      }
      case 'categorical':
        column.scale = 'none';
        if (missing > 0) column.impute = { strategy: 'missing-category' };
        for (const [short, long] of possibleAliases([...p.counts.keys()])) {
          notes.push(`${p.name}: "${short}" and "${long}" may be the same category (consider "aliases": {"${short}": "${long}"})`);
        }
        if (p.counts.size > 50) notes.push(`${p.name}: ${p.counts.size} categories; only the 50 most frequent get their own slot (maxCategories)`);
        break;
    }
    return column;
  });

  const spec: FeatureSpecInput = {
    schemaVersion: 1,
    file: { header, delimiter: extract.delimiter as ',' | ';' | '\t' | '|' },
    ...(positiveClass !== undefined ? { positiveClass } : {}),
    columns,
  };
  parseFeatureSpec(spec, `${options.source} (inferred spec)`);
  return { spec, notes };
}
