import { describe, expect, it } from 'vitest';
import { readOutcomeLabels } from '../../../functions/core/drift/realizedPerformance.js';
import { ExtractError } from '../../../functions/core/errors.js';
import { OutcomeClaims } from '../../../functions/core/runIndex/outcomeClaims.js';

describe('OutcomeClaims', () => {
  const outcomes = new Map([
    ['a', true],
    ['b', false],
    ['c', true],
  ]);

  it('gives an undated outcome to the first run that offers the customer, once', () => {
    // Prepare
    const claims = new OutcomeClaims({ outcomes });
    // Act
    const first = claims.claim('a', '2026-11-30');
    const again = claims.claim('a', '2026-11-29');
    // Assess
    expect(first).toBe(true);
    expect(again).toBeUndefined();
    expect(claims.remaining).toBe(2);
  });

  it('gives a dated outcome only to a run of its contact day, and wants only runs that can still claim', () => {
    // Prepare: b and c dated, a not.
    const claims = new OutcomeClaims({ outcomes, contactDay: new Map([['b', '2026-11-28'], ['c', '2026-11-29']]) });
    // Act + Assess
    expect(claims.claim('b', '2026-11-30')).toBeUndefined();
    expect(claims.claim('b', '2026-11-28')).toBe(false);
    expect(claims.claim('a', '2026-11-30', false)).toBeUndefined();
    expect(claims.wants('2026-11-27', false)).toBe(false);
    expect(claims.wants('2026-11-29', false)).toBe(true);
    expect(claims.claim('c', '2026-11-29', false)).toBe(true);
    expect(claims.wants('2026-11-29', false)).toBe(false);
    expect(claims.wants('2026-11-27')).toBe(true);
    expect(claims.claim('a', '2026-11-27')).toBe(true);
    expect(claims.remaining).toBe(0);
    expect(claims.wants('2026-11-27')).toBe(false);
  });
});

describe('label files with a contact_date column', () => {
  const options = { source: 's3://b/labels/m/x.csv', idColumn: 'id', outcomeColumn: 'outcome', positiveClass: 'yes' };

  it('read each outcome\'s contact day, an empty cell leaving it undated', () => {
    // Act
    const labels = readOutcomeLabels(['id', 'outcome', 'Contact_Date'], [['a', 'yes', '2026-11-28'], ['b', 'no', ''], ['c', 'no', ' 2026-11-29 ']], options);
    // Assess
    expect(labels.outcomes).toEqual(new Map([['a', true], ['b', false], ['c', false]]));
    expect(labels.contactDay).toEqual(new Map([['a', '2026-11-28'], ['c', '2026-11-29']]));
  });

  it('have no contact days without the column', () => {
    expect(readOutcomeLabels(['id', 'outcome'], [['a', 'yes']], options).contactDay).toBeUndefined();
  });

  it('refuse a date that is not yyyy-mm-dd, naming the file, line and column but not the value', () => {
    // Act
    let error: unknown;
    try {
      readOutcomeLabels(['id', 'outcome', 'contact_date'], [['a', 'yes', '2026-11-28'], ['b', 'no', '28/11/2026']], options);
    } catch (e) {
      error = e;
    }
    // Assess
    expect(error).toBeInstanceOf(ExtractError);
    expect((error as ExtractError).location).toEqual({ file: 's3://b/labels/m/x.csv', line: 3, column: 'contact_date' });
    expect((error as Error).message).not.toContain('28/11/2026');
  });
});
