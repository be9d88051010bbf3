import { describe, expect, it } from 'vitest';
import { ExtractError } from '../../../functions/core/errors.js';
import { chooseDelimiter } from '../../../functions/core/extract/chooseDelimiter.js';
import { assertRejectRate } from '../../../functions/core/engine/rejectRateGuard.js';
import type { ScoredPart } from '../../../functions/core/engine/scoredPart.js';
import { layoutColumns, layoutExpectation } from '../../../functions/core/spec/columnLayout.js';
import { parseFeatureSpec } from '../../../functions/core/spec/featureSpec.js';
import { readAll } from './readExtractHelpers.js';

async function refusal(promise: Promise<unknown>): Promise<ExtractError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExtractError);
  return error as ExtractError;
}

describe('chooseDelimiter: the spec delimiter is a hint', () => {
  it('keeps the hint when the header has the required names', () => {
    expect(chooseDelimiter('"age";"job"\n58;"admin"\n', ';', true, { names: ['age', 'job'] })).toEqual({ delimiter: ';' });
  });

  it('uses the delimiter that makes the header fit (names trimmed, case-insensitive)', () => {
    expect(chooseDelimiter('"Age", "JOB",y\n58,"admin",no\n', ';', true, { names: ['age', 'job'] })).toEqual({ delimiter: ',' });
  });

  it('header-less: uses the delimiter that gives the spec field count', () => {
    expect(chooseDelimiter('1;2;3\n4;5;6\n', ',', false, { fieldCount: 3 })).toEqual({ delimiter: ';' });
    expect(chooseDelimiter('1,2,3\n4,5,6\n', ',', false, { fieldCount: 3 })).toEqual({ delimiter: ',' });
  });

  it('keeps the hint when the file looks separated by it, so the layout checks say what is wrong', () => {
    expect(chooseDelimiter('1,2\n4,5\n', ',', false, { fieldCount: 3 })).toEqual({ delimiter: ',' });
    expect(chooseDelimiter('age,other\n1,2\n', ',', true, { names: ['age', 'job'] })).toEqual({ delimiter: ',' });
  });

  it('refuses with both delimiters named when another delimiter is found and nothing fits', () => {
    expect(chooseDelimiter('1;2\n4;5\n', ',', false, { fieldCount: 3 }).refusal).toBe(
      'delimiter ";" found (2 fields per record), "," expected (1 field per record); the model\'s spec expects 3 fields',
    );
    expect(chooseDelimiter('age,job,x\n1,2,3\n', ';', true, { names: ['age', 'job', 'balance'] }).refusal).toBe(
      'delimiter "," found, ";" expected; the header has 3 fields with "," and 1 field with ";", and with neither are all 3 required columns present (2 with ",")',
    );
  });
});

describe('openExtract with an expected layout', () => {
  it('reads a comma copy of a `;` file with the comma, and says so', async () => {
    const result = await readAll('"age","job"\n58,"secret-job"\n', { delimiter: ';', expect: { names: ['age', 'job'] } });
    expect(result.delimiter).toBe(',');
    expect(result.records.map((r) => r.fields)).toEqual([['58', 'secret-job']]);
  });

  it('refuses a file split by another delimiter that does not fit either: EXTRACT_DELIMITER at line 1, no values quoted', async () => {
    const error = await refusal(readAll('7;secret-value\n8;other-secret\n', { header: false, delimiter: ',', expect: { fieldCount: 3 } }));
    expect(error.code).toBe('EXTRACT_DELIMITER');
    expect(error.location).toEqual({ file: 'test.csv', line: 1 });
    expect(error.message).toBe('test.csv:1: delimiter ";" found (2 fields per record), "," expected (1 field per record); the model\'s spec expects 3 fields');
    expect(error.message).not.toMatch(/secret/);
  });

  it('header-less: the field count comes from the spec, not the first row (11 or 13 fields in row 1: only it is rejected)', async () => {
    for (const first of ['1,2', '1,2,3,4']) {
      const result = await readAll(`${first}\n4,5,6\n7,8,9\n`, { header: false, delimiter: ',', expect: { fieldCount: 3 } });
      expect(result.records.map((r) => r.line)).toEqual([2, 3]);
      expect(result.rejects).toEqual([
        { line: 1, column: '', reason: 'FIELD_COUNT', detail: `expected 3 fields, found ${first.split(',').length}`, raw: first },
      ]);
    }
  });
});

describe('line endings: LF, CRLF and a lone CR each end a line', () => {
  it('mixed endings keep every record and its 1-based line, whatever the chunking', async () => {
    const text = 'id,a\r1,x\n2,y\r\n3,z\r4\r5,w\n"6\rq",v\r';
    for (const size of [1, 2, 3, 5, 64]) {
      const result = await readAll(text, { delimiter: ',' }, size);
      expect(result.header).toEqual(['id', 'a']);
      expect(result.records.map((r) => [r.line, ...r.fields])).toEqual([
        [2, '1', 'x'],
        [3, '2', 'y'],
        [4, '3', 'z'],
        [6, '5', 'w'],
        [7, '6\rq', 'v'],
      ]);
      expect(result.rejects).toEqual([{ line: 5, column: '', reason: 'FIELD_COUNT', detail: 'expected 2 fields, found 1', raw: '4' }]);
    }
  });
});

describe('layoutColumns: duplicate header names', () => {
  const spec = parseFeatureSpec({ columns: [{ name: 'CustomerID', role: 'id' }, { name: 'Tenure', role: 'feature' }] }, 'spec.json');

  it('refuses a spec column named twice, naming it and both positions', () => {
    for (const header of [['CustomerID', 'Tenure', 'x', 'Tenure'], ['CustomerID', ' tenure', 'x', 'TENURE ']]) {
      let error: unknown;
      try {
        layoutColumns(spec, header, 'churn.csv');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExtractError);
      expect((error as ExtractError).code).toBe('EXTRACT_DUPLICATE_COLUMN');
      expect((error as ExtractError).message).toBe('churn.csv:1:4: column "Tenure" appears twice in the header (fields 2 and 4); rename or drop the extra one');
      expect((error as ExtractError).location).toEqual({ file: 'churn.csv', line: 1, column: 4 });
    }
  });

  it('an exact match wins over a case-insensitive one, and extra columns may repeat', () => {
    expect(layoutColumns(spec, ['CustomerID', 'Tenure', 'tenure', 'x', 'x'], 'churn.csv').indexOf('Tenure')).toBe(1);
  });

  it('layoutExpectation: required names, or the highest position for a header-less file', () => {
    expect(layoutExpectation(spec)).toEqual({ names: ['CustomerID', 'Tenure'] });
    const headerless = parseFeatureSpec(
      { file: { header: false }, columns: [{ name: 'id', position: 1, role: 'id' }, { name: 'a', position: 2, role: 'feature' }, { name: 'y', position: 3, role: 'target' }] },
      'spec.json',
    );
    expect(layoutExpectation(headerless)).toEqual({ fieldCount: 3 });
  });
});

describe('assertRejectRate', () => {
  const part = (read: number, rejectReasons: ScoredPart['rejectReasons']): ScoredPart => {
    const rejected = Object.values(rejectReasons).reduce((n, c) => n + (c ?? 0), 0);
    return { rowsRead: read, rowsRejected: rejected, rowsScored: read - rejected, rejectReasons } as unknown as ScoredPart;
  };

  it('fails above the limit with the rate, the limit and the top 3 reasons (over all parts)', () => {
    let error: unknown;
    try {
      assertRejectRate([part(50, { FIELD_COUNT: 4, NOT_A_NUMBER: 1 }), part(50, { NOT_A_NUMBER: 2, MISSING_REQUIRED: 1, NOT_A_DATE: 1 })], 0.05, 'x.csv');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).code).toBe('EXTRACT_TOO_MANY_REJECTS');
    expect((error as ExtractError).location).toEqual({ file: 'x.csv' });
    expect((error as ExtractError).message).toBe(
      'x.csv: 9 of 100 rows rejected (9 %), more than the limit of 5 %; most common reasons: FIELD_COUNT 4, NOT_A_NUMBER 3, MISSING_REQUIRED 1; ' +
        'to score anyway and see every reject, raise the limit (maxRejectRate; CLI --max-reject-rate)',
    );
  });

  it('passes at or below the limit; under 20 rows fails only when every row was rejected', () => {
    expect(() => assertRejectRate([part(100, { FIELD_COUNT: 5 })], 0.05, 'x.csv')).not.toThrow();
    expect(() => assertRejectRate([part(10, { FIELD_COUNT: 9 })], 0.05, 'x.csv')).not.toThrow();
    expect(() => assertRejectRate([part(10, { FIELD_COUNT: 10 })], 0.05, 'x.csv')).toThrow(/10 of 10 rows rejected \(100 %\)/);
    expect(() => assertRejectRate([part(100, { FIELD_COUNT: 100 })], 1, 'x.csv')).not.toThrow();
  });
});
