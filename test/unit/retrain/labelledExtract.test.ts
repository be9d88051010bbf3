import { readFileSync } from 'node:fs';
import { dataset } from '../../helpers/datasets.js';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { readOutcomeLabels } from '../../../functions/core/drift/realizedPerformance.js';
import { ExtractError } from '../../../functions/core/errors.js';
import { labelExtract, selectNewLabelFiles } from '../../../functions/core/retrain/labelledExtract.js';

const CHURN_FILE = dataset('ecommerce-churn/E_Commerce_Dataset.csv');

describe('labelExtract on ecommerce-churn', () => {
  const [header, ...rows] = parse(readFileSync(CHURN_FILE));
  const churn = header!.indexOf('Churn');
  // The scored extract: the same customers without the outcome column.
  const extractHeader = header!.filter((_, i) => i !== churn);
  const extractRows = rows.map((r) => r.filter((_, i) => i !== churn));
  // Outcomes arrive later for every other customer, as labels/<model>/*.csv (id + outcome).
  const labelRows = rows.filter((_, i) => i % 2 === 0).map((r) => [r[0]!, r[churn] === '1' ? 'churned' : 'stayed']);

  it('restores exactly the labelled customers\' rows with their outcome', () => {
    const labels = readOutcomeLabels(['customer', 'outcome'], labelRows, {
      source: 'labels/ecommerce-churn/2026-11.csv',
      idColumn: 'customer',
      outcomeColumn: 'outcome',
      positiveClass: 'churned',
    });

    const joined = labelExtract({ source: 'extract.csv', header: extractHeader, records: extractRows }, labels.outcomes, {
      idColumn: 'CustomerID',
      targetColumn: 'Churn',
      positiveClass: '1',
      negativeClass: '0',
    });

    expect(joined.labelled).toBe(Math.ceil(rows.length / 2));
    expect(joined.unlabelled).toBe(Math.floor(rows.length / 2));
    expect(joined.table.header).toEqual([...extractHeader, 'Churn']);
    const expected = rows.filter((_, i) => i % 2 === 0).map((r) => [...r.filter((_, i) => i !== churn), r[churn]]);
    expect(joined.table.records).toEqual(expected);
  });

  it('overwrites a target column the extract already has, and names a missing id column', () => {
    const outcomes = new Map([[rows[0]![0]!, true]]);
    const joined = labelExtract({ source: 'x.csv', header: header!, records: rows.slice(0, 3) }, outcomes, {
      idColumn: 'customerid',
      targetColumn: 'Churn',
      positiveClass: 'yes',
      negativeClass: 'no',
    });
    expect(joined.table.header).toEqual(header);
    expect(joined.table.records).toEqual([rows[0]!.map((cell, i) => (i === churn ? 'yes' : cell))]);

    let error: ExtractError | undefined;
    try {
      labelExtract({ source: 'x.csv', header: ['a'], records: [] }, outcomes, { idColumn: 'CustomerID', targetColumn: 'Churn', positiveClass: '1', negativeClass: '0' });
    } catch (e) {
      error = e as ExtractError;
    }
    expect(error).toMatchObject({ code: 'EXTRACT_MISSING_COLUMN', location: { file: 'x.csv', line: 1, column: 'CustomerID' } });
    expect(error?.message).toBe('x.csv:1 (column "CustomerID"): the extract has no "CustomerID" column to join outcomes on');
  });
});

describe('selectNewLabelFiles', () => {
  it('keeps the model\'s label files that arrived after the cut-off, oldest first', () => {
    const at = (day: number) => new Date(Date.UTC(2026, 10, day));
    const objects = [
      { key: 'labels/churn/b.csv', lastModified: at(20) },
      { key: 'labels/churn/a.csv.gz', lastModified: at(18) },
      { key: 'labels/churn/old.csv', lastModified: at(2) },
      { key: 'labels/churn/notes.txt', lastModified: at(20) },
      { key: 'labels/churn-eu/c.csv', lastModified: at(20) },
      { key: 'labels/churn/sub/d.csv', lastModified: at(20) },
    ];
    expect(selectNewLabelFiles(objects, { model: 'churn', since: at(10) })).toEqual(['labels/churn/a.csv.gz', 'labels/churn/b.csv']);
  });
});
