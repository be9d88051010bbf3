import { Template } from 'aws-cdk-lib/assertions';
import { buildPropensityApp, readCdkJsonContext } from '../../infra/propensityApp.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';

/**
 * Context that keeps test synths fast and offline: no esbuild bundling (CDK's own
 * `aws:cdk:bundling-stacks` switch: the functions keep their real runtime, handler and settings,
 * only the code asset is not built), and no CloudFormation default-rule validation (its wasm
 * engine costs seconds per synth; the cdk-nag test and `cdk synth` keep it on).
 */
export const FAST_SYNTH_CONTEXT = {
  'aws:cdk:bundling-stacks': [],
  '@aws-cdk/core:validateAgainstDefaultRules': false,
} as const;

export interface SynthResult {
  readonly stack: PropensityStack;
  readonly template: Template;
}

/** Builds the app as the CLI would (cdk.json context + overrides), without cdk-nag, and returns the template. */
export function synthPropensity(overrides: Record<string, unknown> = {}): SynthResult {
  const { stack } = buildPropensityApp({
    context: { ...readCdkJsonContext(), ...FAST_SYNTH_CONTEXT, ...overrides },
    nag: false,
  });
  return { stack, template: Template.fromStack(stack) };
}

/** Logical id of a construct's CloudFormation resource, e.g. to follow a `Fn::GetAtt`. */
export function logicalIdOf(stack: PropensityStack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}
