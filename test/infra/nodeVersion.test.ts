import { readFileSync } from 'node:fs';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { ESBUILD_TARGET, NODE_MAJOR, PROPENSITY_RUNTIME, propensityBundling } from '../../infra/constructs/propensityFunction.js';
import { resourceProperties } from './cfnResources.js';
import { logicalIdOf, synthPropensity } from './synthPropensity.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string } };

describe('one Node.js version', () => {
  let runtimes: string[];

  beforeAll(() => {
    const { stack, template } = synthPropensity();
    // Score, drift, retrain, predict and the fan-out's plan, part and finish; not CDK's own deploy-time
    // handlers (the bucket-notifications one runs Python, the default-security-group one CDK's Node.js).
    const { scoreFunction, driftFunction, retrainFunction, predict, fanOut } = stack;
    const ours = [scoreFunction, driftFunction, retrainFunction, predict.fn, fanOut.planFunction, fanOut.partFunction, fanOut.finishFunction].map((fn) => logicalIdOf(stack, fn));
    const functions = resourceProperties(template, 'AWS::Lambda::Function');
    runtimes = ours.map((id) => functions[id]!.Runtime);
  });

  it('is the Lambda runtime of every function', () => {
    expect(PROPENSITY_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
    expect(runtimes).toEqual(Array.from({ length: 7 }, () => PROPENSITY_RUNTIME.name));
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
