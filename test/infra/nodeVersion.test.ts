import { readFileSync } from 'node:fs';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESBUILD_TARGET, NODE_MAJOR, PROPENSITY_RUNTIME, propensityBundling } from '../../infra/constructs/propensityFunction.js';
import { resourceProperties } from './cfnResources.js';
import { synthPropensity } from './synthPropensity.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };

describe('one Node.js version', () => {
  let runtimes: string[];

  beforeAll(() => {
    const { template } = synthPropensity();
    runtimes = Object.values(resourceProperties(template, 'AWS::Lambda::Function')).map((fn) => fn.Runtime);
  });

  it('is the Lambda runtime of every function', () => {
    expect(PROPENSITY_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
    // Score, drift, retrain, predict and the fan-out's plan, part and finish (CDK's own bucket-notifications handler runs Python).
    expect(runtimes.filter((runtime) => runtime.startsWith('nodejs')).length).toBeGreaterThanOrEqual(3);
    expect(new Set(runtimes.filter((runtime) => runtime === PROPENSITY_RUNTIME.name)).size).toBe(1);
    expect(runtimes.filter((runtime) => runtime === PROPENSITY_RUNTIME.name)).toHaveLength(7);
  });

  it('is the esbuild target, for either architecture', () => {
    expect(ESBUILD_TARGET).toBe(`node${NODE_MAJOR}`);
    for (const architecture of [Architecture.X86_64, Architecture.ARM_64]) expect(propensityBundling(architecture).target).toBe(`node${NODE_MAJOR}`);
  });

  it('is the lowest Node package.json engines accepts', () => {
    expect(packageJson.engines?.node).toBe(`>=${NODE_MAJOR}`);
  });
});

describe('PROPENSITY_RUNTIME', () => {
  it('is the pinned runtime, not the variable NODEJS_LATEST of the same name', () => {
    expect(PROPENSITY_RUNTIME.isVariable).toBe(false);
    expect(PROPENSITY_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
  });
});
