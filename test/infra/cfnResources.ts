import type { Template } from 'aws-cdk-lib/assertions';

/** An IAM policy statement as CloudFormation renders it. */
export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

/** The properties the infra tests read, per resource type (the tests' assertions check the values). */
export interface ResourceProperties {
  'AWS::Lambda::Function': {
    Runtime: string;
    Role: { 'Fn::GetAtt': [string, string] };
    Environment: { Variables: Record<string, unknown> };
    LoggingConfig: { LogGroup: { Ref: string } };
  };
  'AWS::IAM::Policy': { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
  'AWS::IAM::Role': { ManagedPolicyArns?: unknown };
  'AWS::S3::Bucket': { LifecycleConfiguration: { Rules: Record<string, unknown>[] } };
  'AWS::CloudWatch::Alarm': {
    Dimensions: [{ Name: string; Value: string }, ...unknown[]];
    MetricName: string;
    Threshold: number;
    Namespace: string;
    Statistic: string;
    AlarmActions: unknown[];
  };
  'AWS::Events::Rule': { Targets: { Arn: unknown }[] };
}

/**
 * The properties of every resource of `type` in a template, by logical id. `Template.findResources`
 * returns `any`; this names the shape the tests rely on.
 */
export function resourceProperties<T extends keyof ResourceProperties>(
  template: Template,
  type: T,
  props?: object,
): Record<string, ResourceProperties[T]> {
  const found = template.findResources(type, props) as Record<string, { Properties: ResourceProperties[T] }>;
  return Object.fromEntries(Object.entries(found).map(([id, resource]) => [id, resource.Properties]));
}

/** The properties of one resource; throws naming the logical id when the template has none. */
export function propertiesOf<T extends keyof ResourceProperties>(template: Template, type: T, logicalId: string): ResourceProperties[T] {
  const properties = resourceProperties(template, type)[logicalId];
  if (properties === undefined) throw new Error(`no ${type} ${logicalId} in the template`);
  return properties;
}

/** Every statement of the policies attached to a function's role (the function's logical id). */
export function roleStatementsOf(template: Template, functionId: string): Statement[] {
  const roleId = propertiesOf(template, 'AWS::Lambda::Function', functionId).Role['Fn::GetAtt'][0];
  return Object.values(resourceProperties(template, 'AWS::IAM::Policy'))
    .filter((policy) => policy.Roles.some((role) => role.Ref === roleId))
    .flatMap((policy) => policy.PolicyDocument.Statement);
}
