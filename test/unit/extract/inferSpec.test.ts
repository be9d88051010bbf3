import { createReadStream, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseFeatureSpec, type FeatureSpecInput } from '../../../functions/core/spec/featureSpec.js';
import { inferSpec } from '../../../functions/core/extract/inferSpec.js';
import { chunked, datasetPath } from './readExtractHelpers.js';

type ColumnInput = FeatureSpecInput['columns'][number];

function column(spec: FeatureSpecInput, name: string): ColumnInput {
  const found = spec.columns.find((c) => c.name === name);
  if (!found) throw new Error(`no column ${name}`);
  return found;
}

const roles = (spec: FeatureSpecInput, role: string): string[] => spec.columns.filter((c) => c.role === role).map((c) => c.name);

describe('inferSpec on the real datasets', () => {
  it('bank-marketing: ";" with a header, y is the target (positive "yes"), yes/no columns are boolean, "unknown" is noted', async () => {
    const path = datasetPath('bank-marketing/bank-full.csv');

    const { spec, notes } = await inferSpec(createReadStream(path), { source: path });

    expect(() => parseFeatureSpec(spec)).not.toThrow();
    expect(spec.file).toEqual({ header: true, delimiter: ';' });
    expect(roles(spec, 'id')).toEqual([]);
    expect(roles(spec, 'target')).toEqual(['y']);
    expect(spec.positiveClass).toBe('yes');
    expect(spec.columns).toHaveLength(17);
    expect(column(spec, 'age')).toMatchObject({ role: 'feature', type: 'numeric', scale: 'standard' });
    expect(column(spec, 'balance')).toMatchObject({ role: 'feature', type: 'numeric' });
    expect(column(spec, 'job')).toMatchObject({ role: 'feature', type: 'categorical', scale: 'none' });
    expect(column(spec, 'housing')).toMatchObject({ role: 'feature', type: 'boolean', trueValues: ['yes'], falseValues: ['no'] });
    // The file is sorted by date: a sample drawn from the whole file still sees contacts and outcomes vary.
    expect(column(spec, 'poutcome')).toMatchObject({ role: 'feature', type: 'categorical' });
    expect(column(spec, 'pdays')).toMatchObject({ role: 'feature', type: 'numeric' });
    expect(column(spec, 'job').missing).toBeUndefined();
    expect(notes.some((n) => n.startsWith('job: "unknown" in ') && n.includes('kept as a category'))).toBe(true);
    expect(notes.some((n) => n.startsWith('poutcome: "unknown"'))).toBe(true);
    expect(notes).toContain('no id column found (none is unique and named like an id): add one so target lists can name customers');
  });

  it('audiobooks: no header, col1…col12 with positions, col1 the id, col12 the target, col6 another candidate', async () => {
    const path = datasetPath('audiobooks/Audiobooks_data.csv');

    const { spec, notes } = await inferSpec(createReadStream(path), { source: path });

    expect(() => parseFeatureSpec(spec)).not.toThrow();
    expect(spec.file).toEqual({ header: false, delimiter: ',' });
    expect(spec.columns.map((c) => [c.name, c.position])).toEqual(Array.from({ length: 12 }, (_, i) => [`col${i + 1}`, i + 1]));
    expect(roles(spec, 'id')).toEqual(['col1']);
    expect(roles(spec, 'target')).toEqual(['col12']);
    expect(spec.positiveClass).toBe('1');
    expect(column(spec, 'col2')).toMatchObject({ role: 'feature', type: 'numeric' });
    expect(column(spec, 'col8')).toMatchObject({ role: 'feature', type: 'numeric' });
    expect(notes).toContain('other columns that could be the target: col6');
    expect(notes[0]).toMatch(/no header line/);
  });

  it('segmentation: empty cells are missing (imputed), ID is the id, Segmentation a 4-class target', async () => {
    const path = datasetPath('segmentation/Train.csv');

    const { spec, notes } = await inferSpec(createReadStream(path), { source: path });

    expect(() => parseFeatureSpec(spec)).not.toThrow();
    expect(spec.file).toEqual({ header: true, delimiter: ',' });
    expect(roles(spec, 'id')).toEqual(['ID']);
    expect(roles(spec, 'target')).toEqual(['Segmentation']);
    expect(spec.positiveClass).toBeUndefined();
    expect(column(spec, 'Work_Experience')).toMatchObject({ type: 'numeric', impute: { strategy: 'median', indicator: true } });
    expect(column(spec, 'Ever_Married')).toMatchObject({ type: 'boolean', trueValues: ['yes'], falseValues: ['no'], impute: { strategy: 'most-frequent' } });
    expect(column(spec, 'Profession')).toMatchObject({ type: 'categorical', impute: { strategy: 'missing-category' } });
    expect(column(spec, 'Spending_Score')).toMatchObject({ type: 'categorical' });
    expect(column(spec, 'Spending_Score').impute).toBeUndefined();
    expect(notes.some((n) => /^target: Segmentation \(4 classes: D 28\.1 %, A 24\.4 %, C 24\.4 %, B 23\.0 %\)$/.test(n))).toBe(true);
    expect(notes).toContain('Work_Experience: 829 missing (10.3 %)');
  });

  it('segmentation test file: the odd header "Test_LqhgPWU.csvID" is still the id; no target', async () => {
    const path = datasetPath('segmentation/Test_LqhgPWU.csv');

    const { spec } = await inferSpec(createReadStream(path), { source: path });

    expect(roles(spec, 'id')).toEqual(['Test_LqhgPWU.csvID']);
    expect(roles(spec, 'target')).toEqual([]);
    expect(spec.columns).toHaveLength(10);
  });

  it('ecommerce-churn: floats like 4.0 are numeric, CustomerID the id, Churn the target, aliases noted', async () => {
    const path = datasetPath('ecommerce-churn/E_Commerce_Dataset.csv');

    const { spec, notes } = await inferSpec(createReadStream(path), { source: path });

    expect(() => parseFeatureSpec(spec)).not.toThrow();
    expect(spec.file).toEqual({ header: true, delimiter: ',' });
    expect(roles(spec, 'id')).toEqual(['CustomerID']);
    expect(roles(spec, 'target')).toEqual(['Churn']);
    expect(spec.positiveClass).toBe('1');
    expect(column(spec, 'Tenure')).toMatchObject({ type: 'numeric', impute: { strategy: 'median', indicator: true } });
    expect(column(spec, 'CashbackAmount')).toMatchObject({ type: 'numeric' });
    expect(column(spec, 'CashbackAmount').impute).toBeUndefined();
    expect(column(spec, 'PreferredPaymentMode')).toMatchObject({ type: 'categorical' });
    expect(notes).toContain('Tenure: whole numbers written as decimals (e.g. "4.0")');
    expect(notes).toContain('PreferredPaymentMode: "CC" and "Credit Card" may be the same category (consider "aliases": {"CC": "Credit Card"})');
  });
});

describe('inferSpec rules', () => {
  const infer = (text: string, sampleRows?: number) =>
    inferSpec(chunked(Buffer.from(text), 1024), { source: 'inline.csv', ...(sampleRows ? { sampleRows } : {}) });

  it('treats a few text tokens in a numeric column as missing markers', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => `${i},${i % 20 === 0 ? '?' : i * 1.5},${i % 2 ? 'a' : 'b'}`);
    const { spec, notes } = await infer(['customer_id,spend,kind', ...rows].join('\n'));

    expect(column(spec, 'spend')).toMatchObject({ type: 'numeric', impute: { strategy: 'median', indicator: true } });
    expect(column(spec, 'spend').missing).toEqual(['', 'NA', 'N/A', 'na', 'n/a', 'NaN', 'nan', 'null', 'NULL', 'None', '?']);
    expect(notes).toContain('spend: numeric; the text values "?" are treated as missing');
    expect(roles(spec, 'id')).toEqual(['customer_id']);
  });

  it('recognises dates, ignores constant and free-text columns, and renames empty and repeated header names', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `${i};2024-0${(i % 9) + 1}-1${i % 10};same;note number ${i};${i % 3};${i % 2}`);
    const { spec, notes } = await infer(['id;signup;flag;;score;score', ...rows].join('\n'));

    expect(spec.file).toEqual({ header: true, delimiter: ';' });
    expect(spec.columns.map((c) => c.name)).toEqual(['id', 'signup', 'flag', 'col4', 'score', 'score_2']);
    expect(column(spec, 'signup')).toMatchObject({ role: 'feature', type: 'date' });
    expect(column(spec, 'flag')).toMatchObject({ role: 'ignore' });
    expect(column(spec, 'col4')).toMatchObject({ role: 'ignore' });
    expect(notes).toContain('flag: ignored, always "same" in the sample');
    expect(notes).toContain('col4: ignored, 300 distinct text values in 300 rows look like free text or another identifier');
    expect(notes).toContain('column 4 has no header name: called it "col4"');
    expect(notes).toContain('column 6 repeats the header name "score": called it "score_2"');
  });

  it('detects a header in an all-text table when its names do not come back in their columns', async () => {
    const { spec } = await infer('name,city,y\nann,paris,yes\nbob,rome,no\ncid,oslo,no\n');

    expect(spec.file?.header).toBe(true);
    expect(roles(spec, 'target')).toEqual(['y']);
  });

  it('reads header names with odd quoting and a BOM', async () => {
    const { spec } = await inferSpec(chunked(Buffer.from('\uFEFFcustomer_id, "Spend (EUR)" ,churn\n1,10.5,0\n2,20,1\n3,7,0\n'), 7), { source: 'odd.csv' });

    expect(spec.columns.map((c) => [c.name, c.role, c.type])).toEqual([
      ['customer_id', 'id', 'categorical'],
      ['Spend (EUR)', 'feature', 'numeric'],
      ['churn', 'target', 'categorical'],
    ]);
  });

  it('reads a gzipped extract like the plain one', async () => {
    const bytes = readFileSync(datasetPath('ecommerce-churn/E_Commerce_Dataset.csv'));
    const plain = await inferSpec(chunked(bytes, 4096), { source: 'churn.csv' });
    const zipped = await inferSpec(chunked(gzipSync(bytes), 4096), { source: 'churn.csv' });

    expect(zipped).toEqual(plain);
    expect(roles(zipped.spec, 'target')).toEqual(['Churn']);
  });

  it('samples at most sampleRows rows, the same ones on every run', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => `${i},${i % 7},${i % 2 ? 'yes' : 'no'}`);
    const text = ['id,v,target', ...rows].join('\n');

    const first = await infer(text, 50);
    const second = await infer(text, 50);

    expect(first.notes[0]).toBe('sampled 50 of the first 500 data rows; delimiter ","; the first line is a header');
    expect(second).toEqual(first);
  });
});
