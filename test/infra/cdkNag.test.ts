import { Validations } from 'aws-cdk-lib';
import { PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPropensityApp, NAG_PACKS, readCdkJsonContext } from '../../infra/propensityApp.js';
import { COMPLIANCE_PACKS } from '../../infra/stacks/propensityStackConfig.js';
import { FAST_SYNTH_CONTEXT } from './synthPropensity.js';

type App = ReturnType<typeof buildPropensityApp>['app'];

interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** The rule-id prefix of every pack, e.g. `PCI.DSS.321-S3DefaultEncryptionKMS`. */
const packOf = (ruleId: string) => COMPLIANCE_PACKS.find((pack) => ruleId.startsWith(`${pack}-`));

/**
 * Every `Validations.of(x).acknowledge(...)` of a cdk-nag rule in the tree, read back from construct
 * metadata (CDK acknowledges some of its own CloudFormation default rules too; those are not ours).
 */
function acknowledgments(root: IConstruct): Acknowledgment[] {
  return root.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((entry) =>
          Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
            path: construct.node.path,
            id: id.replace(/^annotation::/i, ''),
            reason,
          })),
        ),
    )
    .filter((ack) => packOf(ack.id) !== undefined);
}

/** Findings of a pack as `<rule> @ <construct path>`, with acknowledgements ignored: what they hide. */
function unacknowledgedFindings(pack: (typeof COMPLIANCE_PACKS)[number], app: App): string[] {
  const checks = new NAG_PACKS[pack]();
  Object.defineProperty(checks, 'isAcknowledged', { value: () => false });
  return checks.validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));
}

/** Builds the app as `cdk synth` does from cdk.json, with overrides; only esbuild bundling is skipped. */
function buildApp(overrides: Record<string, unknown> = {}): App {
  return buildPropensityApp({ context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...overrides }, nag: true }).app;
}

let app: App;

// The full synth with CloudFormation's rules and four packs: a minute or more on a busy 2-core machine.
const FULL_SYNTH_TIMEOUT_MS = 240_000;

beforeAll(() => {
  // As `cdk synth` builds it (cdk.json context, all four packs, CloudFormation default rules on);
  // only esbuild bundling is skipped, which changes the code asset and nothing cdk-nag looks at.
  // synth() throws on any unacknowledged error of any pack.
  app = buildApp();
  app.synth();
}, FULL_SYNTH_TIMEOUT_MS);

describe('cdk-nag, all four packs', () => {
  it('runs AwsSolutions, Serverless, NIST 800-53 R5 and PCI DSS 3.2.1 by default', () => {
    expect(readCdkJsonContext()['compliancePacks']).toEqual(['AwsSolutions', 'Serverless', 'NIST.800.53.R5', 'PCI.DSS.321']);
  });

  it.each(COMPLIANCE_PACKS)('%s reports no unacknowledged error or warning', (pack) => {
    const report = new NAG_PACKS[pack]().validateScope(app);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledgement a reason, and each one still matches a finding of its pack', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);
    const raw = new Map(COMPLIANCE_PACKS.map((pack) => [pack, unacknowledgedFindings(pack, app)]));
    for (const ack of acks) {
      const hidden = raw.get(packOf(ack.id)!)!.filter((finding) => finding.startsWith(`${ack.id} @ ${ack.path}`));
      expect(hidden, `stale acknowledgement ${ack.id} at ${ack.path}`).not.toEqual([]);
    }
  });

  it('acknowledges only the expected rules (each is in the README\'s compliance table)', () => {
    const ids = [...new Set(acknowledgments(app).map((ack) => ack.id.replace(/\[.*$/, '')))].sort();
    expect(ids).toEqual([
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-SQS3',
      'NIST.800.53.R5-IAMNoInlinePolicy',
      'NIST.800.53.R5-LambdaDLQ',
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
      'PCI.DSS.321-IAMNoInlinePolicy',
      'PCI.DSS.321-S3BucketReplicationEnabled',
      'PCI.DSS.321-S3DefaultEncryptionKMS',
      'Serverless-LambdaDLQ',
      'Serverless-SQSRedrivePolicy',
    ]);
  });

  it('acknowledges the KMS rule on the access-log bucket only, never on the data bucket', () => {
    const kmsAcks = acknowledgments(app).filter((ack) => ack.id.endsWith('-S3DefaultEncryptionKMS'));
    expect(new Set(kmsAcks.map((ack) => ack.path))).toEqual(new Set(['Propensity/DataBucket/AccessLogs']));
  });
});

describe('the sandbox opt-outs', () => {
  it('fail the synth on the PCI DSS pack when the data bucket loses its customer-managed key', () => {
    // Prepare: the key opted out, the PCI pack alone (CloudFormation's own rules off: not what this is about).
    const sandbox = buildApp({ customerManagedKey: false, compliancePacks: 'PCI.DSS.321', '@aws-cdk/core:validateAgainstDefaultRules': false });
    // Act / Assess: synth fails naming the PCI rule and the bucket; the pack's report says the same, and the log groups too.
    expect(() => sandbox.synth()).toThrow(/\(PCI\.DSS\.321\)\s+Propensity\/DataBucket\/Data\/Resource .*\s+Acknowledge with '[^']*PCI\.DSS\.321-S3DefaultEncryptionKMS'/);
    const errors = new PCIDSS321Checks().validateScope(sandbox).violations.filter((v) => v.severity === 'error');
    const kms = errors.find((v) => v.ruleName === 'PCI.DSS.321-S3DefaultEncryptionKMS');
    expect(kms?.violatingResources.map((r) => r.constructPath)).toEqual(['Propensity/DataBucket/Data/Resource']);
    expect(errors.map((v) => v.ruleName)).toContain('PCI.DSS.321-CloudWatchLogGroupEncrypted');
  });

  it('synthesize a sandbox without key or VPC when only the AwsSolutions and Serverless packs run', () => {
    const sandbox = buildApp({ ...FAST_SYNTH_CONTEXT, customerManagedKey: 'false', isolatedNetwork: 'false', compliancePacks: 'AwsSolutions,Serverless' });
    expect(() => sandbox.synth()).not.toThrow();
    expect(unacknowledgedFindings('PCI.DSS.321', sandbox)).toEqual(expect.arrayContaining([expect.stringMatching(/^PCI\.DSS\.321-LambdaInsideVPC @ /)]));
  });
});
