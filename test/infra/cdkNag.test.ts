import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPropensityApp, readCdkJsonContext } from '../../infra/propensityApp.js';

type App = ReturnType<typeof buildPropensityApp>['app'];

interface Acknowledgment {
  readonly path: string;
  readonly id: string;
  readonly reason: string;
}

/** Every `Validations.of(x).acknowledge(...)` in the tree, read back from construct metadata. */
function acknowledgments(root: IConstruct): Acknowledgment[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

let app: App;

beforeAll(() => {
  // As `cdk synth` builds it (cdk.json context, cdk-nag plugin, CloudFormation default rules on);
  // only esbuild bundling is skipped, which changes the code asset and nothing cdk-nag looks at.
  ({ app } = buildPropensityApp({ context: { ...readCdkJsonContext(), 'aws:cdk:bundling-stacks': [] }, nag: true }));
  app.synth();
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('gives every acknowledgement a reason, and each one still matches a finding', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(40);

    // The same checks with acknowledgements ignored: what the acknowledgements are hiding.
    const unfiltered = new AwsSolutionsChecks();
    Object.defineProperty(unfiltered, 'isAcknowledged', { value: () => false });
    const raw = unfiltered.validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath}`));
    expect(raw.length).toBeGreaterThan(0);
    for (const ack of acks) {
      const hidden = raw.filter((finding) => finding.startsWith(`${ack.id} @ ${ack.path}`));
      expect(hidden, `stale acknowledgement ${ack.id} at ${ack.path}`).not.toEqual([]);
    }
  });

  it('acknowledges only the expected rules', () => {
    const ids = [...new Set(acknowledgments(app).map((ack) => ack.id.replace(/\[.*$/, '')))].sort();
    expect(ids).toEqual(['AwsSolutions-IAM4', 'AwsSolutions-IAM5', 'AwsSolutions-SQS3']);
  });
});
