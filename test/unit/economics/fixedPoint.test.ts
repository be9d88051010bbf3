import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimbSums, moneyUnits, parseUnits, probabilityUnits, ratio } from '../../../functions/core/economics/fixedPoint.js';

const TWO_52 = 2 ** 52;

describe('fixed units', () => {
  it('rounds each row once: p in 1e-12, money in micro-units', () => {
    expect(probabilityUnits(0.1)).toBe(100_000_000_000);
    expect(probabilityUnits(1)).toBe(1e12);
    expect(moneyUnits(0.1 * 100)).toBe(10_000_000); // 10.000000000000002 in floats
    expect(moneyUnits(0.05 * 100)).toBe(5_000_000);
  });

  it('ratio divides exact totals once and is null for a zero denominator', () => {
    expect(ratio(2_400_000_000_000n, 3_000_000_000_000n)).toBe(0.8); // 2.4 / 3 in floats is 0.7999999999999999
    expect(ratio(-40n, 480n)).toBe(-1 / 12);
    expect(ratio(1n, 0n)).toBeNull();
  });

  it('parseUnits accepts only non-negative decimal integers', () => {
    expect(parseUnits('0')).toBe(0n);
    expect(parseUnits('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    for (const bad of ['', '-1', '01', '1.5', '1e3', ' 1']) expect(parseUnits(bad)).toBeUndefined();
  });
});

describe('LimbSums', () => {
  it('carries past 2^52 and keeps the exact total', () => {
    const s = new LimbSums(1);
    s.add(0, TWO_52 - 1);
    s.add(0, TWO_52 - 1);
    s.add(0, 3);
    expect(s.total(0)).toBe(2n * (2n ** 52n - 1n) + 3n);
  });

  it('holds totals far beyond 2^53 (a billion rows of p = 1)', () => {
    const s = new LimbSums(1);
    const big = new LimbSums(1);
    big.set(0, 10n ** 21n);
    s.add(0, 1e12);
    s.addAll(big);
    expect(s.total(0)).toBe(10n ** 21n + 10n ** 12n);
  });

  it('gives identical limbs for any order and grouping of the same integers (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: TWO_52 - 1 }), { maxLength: 40 }), fc.nat(), (values, cut) => {
        const forward = new LimbSums(1);
        for (const v of values) forward.add(0, v);
        const backward = new LimbSums(1);
        for (const v of [...values].reverse()) backward.add(0, v);
        const at = cut % (values.length + 1);
        const left = new LimbSums(1);
        const right = new LimbSums(1);
        values.slice(0, at).forEach((v) => left.add(0, v));
        values.slice(at).forEach((v) => right.add(0, v));
        right.addAll(left);
        const exact = values.reduce((a, v) => a + BigInt(v), 0n);
        expect(forward.total(0)).toBe(exact);
        expect(backward.total(0)).toBe(exact);
        expect(right.total(0)).toBe(exact);
      }),
    );
  });
});
