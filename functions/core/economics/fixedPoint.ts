/**
 * Exact, order-independent sums for campaign economics.
 *
 * Parts of one extract are scored separately and merged, and the merged figures must equal the
 * one-shot figures bit for bit. Float addition is not associative (and Kahan summation only makes
 * the error smaller, not order-free), so every per-row quantity is first rounded to an integer
 * number of fixed units — probabilities in 1e-12, money in 1e-6 (micro-units) — and integers are
 * summed exactly. The rounding happens once per row and depends only on that row, so any split and
 * any merge order give the same integers. The rounding error is ≤ 0.5 unit per row: 5e-7 currency
 * units per customer, far below anything a campaign report shows.
 *
 * Why not BigInt per row: `offer()` runs once per scored row (millions), and a BigInt add
 * allocates. Instead each sum is two float64 "limbs" holding integers: `lo` in [0, 2^52) and
 * `hi` = number of 2^52 carries. Adding an integer x < 2^52 to lo stays below 2^53 (exact), and
 * one compare-and-subtract keeps the pair canonical, so equal totals always have equal limbs.
 * Capacity is 2^105 units; BigInt is used only when reading totals out.
 */

/** Probabilities are summed in units of 1e-12. */
export const PROBABILITY_SCALE = 1e12;
/** Money (values, gains, costs) is summed in micro-units (1e-6 of the currency). */
export const MONEY_SCALE = 1e6;
/**
 * Largest value per response a row may carry. Keeps one row's p·v in micro-units below 2^52,
 * which the exact sums rely on. Rows above it must be rejected before they reach the economics.
 */
export const MAX_VALUE_PER_RESPONSE = 1e9;

const LIMB = 2 ** 52;
const LIMB_BIG = 2n ** 52n;

/** A probability in [0, 1] as an integer number of 1e-12 units. */
export function probabilityUnits(p: number): number {
  return Math.round(p * PROBABILITY_SCALE);
}

/** An amount of money as an integer number of micro-units. */
export function moneyUnits(amount: number): number {
  return Math.round(amount * MONEY_SCALE);
}

/** Converts an exact unit total back to a plain number (correctly rounded once, at the end). */
export function fromUnits(units: bigint, scale: number): number {
  return Number(units) / scale;
}

/**
 * numerator / denominator of two exact integer totals, rounded once while both are below 2^53
 * (so 2.4 responders over 3 contacts gives 0.8, not the 0.7999999999999999 of dividing already
 * rounded floats). Deterministic either way. Null when the denominator is 0.
 */
export function ratio(numerator: bigint, denominator: bigint): number | null {
  return denominator === 0n ? null : Number(numerator) / Number(denominator);
}

/**
 * `n` exact non-negative integer sums, stored as limb pairs in typed arrays (no allocation on add).
 * Every input to {@link add} must be a non-negative integer below 2^52.
 */
export class LimbSums {
  readonly length: number;
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;

  constructor(length: number) {
    this.length = length;
    this.lo = new Float64Array(length);
    this.hi = new Float64Array(length);
  }

  /** Adds a non-negative integer `units` (< 2^52) to sum `i`. */
  add(i: number, units: number): void {
    const lo = this.lo[i]! + units;
    if (lo >= LIMB) {
      this.lo[i] = lo - LIMB;
      this.hi[i]! += 1;
    } else {
      this.lo[i] = lo;
    }
  }

  /** Adds every sum of `other` (same length) into this one. */
  addAll(other: LimbSums): void {
    for (let i = 0; i < this.length; i++) {
      this.add(i, other.lo[i]!);
      this.hi[i]! += other.hi[i]!;
    }
  }

  /** The exact total of sum `i`. */
  total(i: number): bigint {
    const hi = this.hi[i]!;
    const lo = BigInt(this.lo[i]!);
    return hi === 0 ? lo : BigInt(hi) * LIMB_BIG + lo;
  }

  /** Sets sum `i` to an exact total (used when reading JSON). */
  set(i: number, total: bigint): void {
    this.hi[i] = Number(total / LIMB_BIG);
    this.lo[i] = Number(total % LIMB_BIG);
  }

  isZero(i: number): boolean {
    return this.lo[i] === 0 && this.hi[i] === 0;
  }
}

/** Parses a non-negative decimal integer string written by `toJSON` (exact totals are strings in JSON). */
export function parseUnits(text: string): bigint | undefined {
  return /^(0|[1-9][0-9]*)$/.test(text) ? BigInt(text) : undefined;
}
