import { describe, expect, it } from 'vitest';
import { resolveEconomics } from '../../../functions/core/economics/campaignEconomics.js';
import { ConfigError } from '../../../functions/core/errors.js';

const bundleDefaults = { costPerContact: 8, valuePerResponse: 120 };
const refusal = (overrides: unknown) => {
  try {
    resolveEconomics(bundleDefaults, overrides, 'run.economics.json');
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('resolveEconomics', () => {
  it('lays a per-run object over the bundle defaults, key by key', () => {
    expect(resolveEconomics(bundleDefaults, { costPerContact: 3 })).toMatchObject({ costPerContact: 3, valuePerResponse: 120, currency: 'EUR', fixedCost: 0 });
    expect(resolveEconomics(bundleDefaults)).toMatchObject({ costPerContact: 8, valuePerResponse: 120 });
  });

  it.each([42, null, 'x', [1, 2], true])('refuses overrides that are not a JSON object (%j) instead of ignoring them', (overrides) => {
    const error = refusal(overrides);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({
      code: 'ECONOMICS_INVALID',
      key: '(root)',
      source: 'run.economics.json',
      message: 'run.economics.json: (root): must be a JSON object like {"costPerContact": 8, "valuePerResponse": 120}',
    });
  });

  it.each([
    [{ valuePerResponse: 1e308 }, 'valuePerResponse'],
    [{ costPerContact: 2e9 }, 'costPerContact'],
    [{ fixedCost: 1e13 }, 'fixedCost'],
    [{ budget: { maxSpend: 1e300 } }, 'budget.maxSpend'],
    [{ budget: { maxContacts: 1e10 } }, 'budget.maxContacts'],
  ])('bounds every amount: %j is refused naming %s', (overrides, key) => {
    expect(refusal(overrides)).toMatchObject({ code: 'ECONOMICS_INVALID', key, source: 'run.economics.json' });
  });

  it('accepts the largest value per response a row may carry', () => {
    expect(resolveEconomics(bundleDefaults, { valuePerResponse: 1e9 }).valuePerResponse).toBe(1e9);
  });
});
