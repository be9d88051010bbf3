import { describe, expect, it } from 'vitest';
import { applyCalibration, calibrationSchema, P_EPSILON } from '../../../functions/core/model/calibration.js';

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

function expectClose(actual: Float32Array, expected: number[], tolerance = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => expect(Math.abs(actual[i]! - e)).toBeLessThan(tolerance));
}

describe('applyCalibration', () => {
  it('platt: sigmoid(a·logit(p) + b)', () => {
    const out = applyCalibration(Float32Array.of(0.8, 0.5, 0.25), { kind: 'platt', a: 2, b: -1 });
    expectClose(out, [sigmoid(2 * Math.log(0.8 / 0.2) - 1), sigmoid(-1), sigmoid(2 * Math.log(0.25 / 0.75) - 1)]);
  });

  it('platt: p of exactly 0 or 1 stays finite (clamped to 2⁻²⁴ from the ends)', () => {
    const out = applyCalibration(Float32Array.of(0, 1), { kind: 'platt', a: 0, b: 0.3 });
    // a = 0 would turn an unclamped ±∞ logit into NaN
    expectClose(out, [sigmoid(0.3), sigmoid(0.3)]);
    const steep = applyCalibration(Float32Array.of(0, 1), { kind: 'platt', a: 1, b: 0 });
    expectClose(steep, [P_EPSILON, 1 - P_EPSILON], 1e-9);
  });

  it('isotonic: interpolates between knots and clamps outside them', () => {
    const calibration = { kind: 'isotonic' as const, x: [0.2, 0.4, 0.8], y: [0.1, 0.3, 0.9] };
    const out = applyCalibration(Float32Array.of(0.05, 0.2, 0.3, 0.4, 0.6, 0.8, 0.95), calibration);
    // by hand: 0.3 is halfway from (0.2, 0.1) to (0.4, 0.3); 0.6 is halfway from (0.4, 0.3) to (0.8, 0.9)
    expectClose(out, [0.1, 0.1, 0.2, 0.3, 0.6, 0.9, 0.9]);
  });

  it('isotonic: one knot is a constant', () => {
    expectClose(applyCalibration(Float32Array.of(0, 0.5, 1), { kind: 'isotonic', x: [0.5], y: [0.42] }), [0.42, 0.42, 0.42]);
  });

  it('temperature: softmax(log(p) / t) per row over the classes', () => {
    // t = 2: softmax(log(p) / 2) = √p / Σ√p
    const rows = [
      [0.7, 0.2, 0.1],
      [0.25, 0.25, 0.5],
    ];
    const out = applyCalibration(Float32Array.from(rows.flat()), { kind: 'temperature', t: 2 }, 3);
    const expected = rows.flatMap((r) => {
      const s = r.map(Math.sqrt);
      const sum = s[0]! + s[1]! + s[2]!;
      return s.map((v) => v / sum);
    });
    expectClose(out, expected);
  });

  it('temperature on one column: sigmoid(logit(p) / t)', () => {
    // t = 2: √p / (√p + √(1 − p))
    const out = applyCalibration(Float32Array.of(0.9, 0.3), { kind: 'temperature', t: 2 });
    expectClose(out, [Math.sqrt(0.9) / (Math.sqrt(0.9) + Math.sqrt(0.1)), Math.sqrt(0.3) / (Math.sqrt(0.3) + Math.sqrt(0.7))]);
  });

  it('refuses platt and isotonic on several columns', () => {
    expect(() => applyCalibration(new Float32Array(6), { kind: 'platt', a: 1, b: 0 }, 3)).toThrow(
      'platt calibration applies to one positive-probability column; the model outputs 3',
    );
    expect(() => applyCalibration(new Float32Array(4), { kind: 'isotonic', x: [0, 1], y: [0, 1] }, 2)).toThrow('isotonic calibration applies');
  });
});

describe('calibrationSchema', () => {
  it('accepts each kind', () => {
    expect(calibrationSchema.parse({ kind: 'platt', a: 1.5, b: -0.2 })).toEqual({ kind: 'platt', a: 1.5, b: -0.2 });
    expect(calibrationSchema.parse({ kind: 'temperature', t: 1.3 })).toEqual({ kind: 'temperature', t: 1.3 });
  });

  it.each([
    [{ kind: 'isotonic', x: [0.1, 0.5], y: [0.2] }, ['y'], 'x and y must have the same length'],
    [{ kind: 'isotonic', x: [0.1, 0.1], y: [0.2, 0.3] }, ['x'], 'x must be strictly increasing'],
    [{ kind: 'temperature', t: 0 }, ['t'], 'Too small'],
  ])('rejects %j at its path', (input, path, message) => {
    const result = calibrationSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(path);
    expect(result.error?.issues[0]?.message).toContain(message);
  });
});
