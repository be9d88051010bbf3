import { describe, expect, it } from 'vitest';
import { PartOutcomes } from '../../../functions/core/engine/partOutcomes.js';

describe('PartOutcomes: the run is decided by the first failing part in file order', () => {
  it('succeeds with every value in file order once every part has succeeded', () => {
    const outcomes = new PartOutcomes<string>(3);
    outcomes.succeed(2, 'c');
    outcomes.succeed(0, 'a');
    expect(outcomes.decision()).toEqual({ done: false });
    outcomes.succeed(1, 'b');
    expect(outcomes.decision()).toEqual({ done: true, values: ['a', 'b', 'c'] });
  });

  it('waits for the parts before a failure, which may fail first in file order', () => {
    // Prepare: part 3 fails first in time.
    const outcomes = new PartOutcomes<string>(4);
    const late = new Error('part 3');
    const early = new Error('part 1');
    outcomes.fail(3, late);
    // Assess: parts after it no longer matter; parts before it still do.
    expect([0, 1, 2, 3].map((i) => outcomes.needed(i))).toEqual([true, true, true, false]);
    expect(outcomes.decision()).toEqual({ done: false });
    outcomes.succeed(0, 'a');
    outcomes.fail(1, early);
    expect(outcomes.firstFailure).toBe(1);
    // Part 2 cannot change the outcome now: the run fails with part 1's error, what one pass meets first.
    expect(outcomes.decision()).toEqual({ done: true, error: early });
  });

  it('fails once every part before the failure has succeeded', () => {
    const outcomes = new PartOutcomes<string>(3);
    const error = new Error('part 1');
    outcomes.fail(1, error);
    outcomes.succeed(0, 'a');
    expect(outcomes.decision()).toEqual({ done: true, error });
  });
});
