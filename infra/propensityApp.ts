import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { PROJECT_ROOT } from './constructs/propensityFunction.js';
import { PropensityStack } from './stacks/propensityStack.js';
import { type CompliancePack, readPropensityStackConfig } from './stacks/propensityStackConfig.js';

/** The stack's construct id (and CloudFormation stack name). */
export const PROPENSITY_STACK_ID = 'Propensity';

/**
 * The `context` block of cdk.json (settings and feature flags). The CLI passes it to the app itself;
 * code that builds the app without the CLI (tests, the asset-size script) passes it explicitly.
 */
export function readCdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface BuildPropensityAppOptions {
  /** Extra context, as `-c key=value` would give (tests use it for overrides and to skip bundling). */
  readonly context?: Record<string, unknown>;
  /** Cloud assembly directory. @default - the CLI's choice, or a temp dir outside the CLI */
  readonly outdir?: string;
  /** Register the cdk-nag packs of `compliancePacks` so synth fails on unacknowledged findings. @default true */
  readonly nag?: boolean;
}

/** The cdk-nag pack behind each name of the `compliancePacks` context key. */
export const NAG_PACKS: Readonly<Record<CompliancePack, new (scope?: IConstruct) => NagPack>> = {
  AwsSolutions: AwsSolutionsChecks,
  Serverless: ServerlessChecks,
  'NIST.800.53.R5': NIST80053R5Checks,
  'PCI.DSS.321': PCIDSS321Checks,
};

/**
 * Builds the CDK app: reads context, creates the Propensity stack, and plugs in the cdk-nag packs
 * (all four unless `compliancePacks` says otherwise).
 *
 * @example
 * const { app } = buildPropensityApp();
 * app.synth();
 */
export function buildPropensityApp(options: BuildPropensityAppOptions = {}): { app: App; stack: PropensityStack } {
  const app = new App({ context: options.context, outdir: options.outdir });
  const config = readPropensityStackConfig(app);
  const stack = new PropensityStack(app, PROPENSITY_STACK_ID, {
    config,
    description: 'Propensity: serverless batch scoring for customer marketing',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  if (options.nag ?? true) Validations.of(app).addPlugins(...config.compliancePacks.map((name) => new NAG_PACKS[name](app)));
  return { app, stack };
}
