import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAN_OUT_RETRY_ERRORS } from '../../infra/constructs/scoringFanOut.js';
import type { PropensityStack } from '../../infra/stacks/propensityStack.js';
import { functionRoleStatements, propertiesOf, type Statement } from './cfnResources.js';
import { logicalIdOf, synthPropensity } from './synthPropensity.js';

interface State {
  Type: string;
  Next?: string;
  Resource?: string;
  Parameters?: Record<string, unknown>;
  Retry?: Array<{ ErrorEquals: string[]; IntervalSeconds: number; MaxAttempts: number; BackoffRate: number }>;
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath: string }>;
  ItemProcessor?: { ProcessorConfig: { Mode: string; ExecutionType: string }; StartAt: string; States: Record<string, State> };
  ItemsPath?: string;
  ItemSelector?: Record<string, unknown>;
  MaxConcurrency?: number;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
}

let stack: PropensityStack;
let template: Template;
let bucketId: string;
let states: Record<string, State>;
let startAt: string;

/** The state machine's definition: its Fn::Join with every token replaced by a placeholder, parsed. */
function definitionOf(t: Template): { StartAt: string; States: Record<string, State>; TimeoutSeconds: number } {
  const [machine] = Object.values(t.findResources('AWS::StepFunctions::StateMachine')) as Array<{ Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } } }>;
  const parts = machine!.Properties.DefinitionString['Fn::Join'][1];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as never;
}

const roleStatements = (functionId: string): Statement[] => functionRoleStatements(template, functionId);

const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const objectArn = (pattern: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${pattern}`]] });

/** Every object key pattern a role may call `action` on. */
function patternsFor(functionId: string, action: string): unknown[] {
  return roleStatements(functionId)
    .filter((s) => asArray(s.Action).includes(action))
    .flatMap((s) => asArray(s.Resource));
}

beforeAll(() => {
  ({ stack, template } = synthPropensity({ fanOutMaxConcurrency: 7, fanOutRetryAttempts: 3, fanOutTimeoutMinutes: 120 }));
  bucketId = logicalIdOf(stack, stack.data.bucket);
  ({ States: states, StartAt: startAt } = definitionOf(template));
});

describe('the fan-out state machine', () => {
  it('runs Start → Plan → a DISTRIBUTED map of parts → Merge, with the configured timeout, logging ALL and X-Ray', () => {
    expect(startAt).toBe('Start');
    expect(states['Start']!.Next).toBe('Plan');
    expect(states['Plan']!.Next).toBe('ScoreParts');
    expect(states['ScoreParts']!.Next).toBe('Merge');
    expect(definitionOf(template).TimeoutSeconds).toBe(120 * 60);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: [Match.objectLike({ CloudWatchLogsLogGroup: Match.anyValue() })] },
    });
  });

  it('maps over the plan\'s parts in DISTRIBUTED mode with MaxConcurrency from context and no tolerated failure', () => {
    const map = states['ScoreParts']!;
    expect(map.Type).toBe('Map');
    expect(map.ItemProcessor?.ProcessorConfig).toEqual({ Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' });
    expect(map.ItemsPath).toBe('$.parts');
    expect(map.ItemSelector).toEqual({ 'run.$': '$.run', 'part.$': '$$.Map.Item.Value' });
    expect(map.MaxConcurrency).toBe(7);
    // toleratedFailurePercentage 0 is the ASL default, so CDK writes neither field: no failed part is tolerated.
    expect(map).not.toHaveProperty('ToleratedFailurePercentage');
    expect(map).not.toHaveProperty('ToleratedFailureCount');
  });

  it('retries every Lambda step on retryable errors only, with exponential backoff', () => {
    const part = states['ScoreParts']!.ItemProcessor!.States['ScorePart']!;
    for (const [name, state] of [['Plan', states['Plan']!], ['ScorePart', part], ['Merge', states['Merge']!], ['Abort', states['Abort']!]] as const) {
      expect(state.Retry, name).toEqual([{ ErrorEquals: [...FAN_OUT_RETRY_ERRORS], IntervalSeconds: 5, MaxAttempts: 3, BackoffRate: 2 }]);
    }
    expect(FAN_OUT_RETRY_ERRORS).not.toContain('States.ALL');
  });

  it('catches a failure of plan, map or merge into Abort, then Fail', () => {
    for (const name of ['Plan', 'ScoreParts', 'Merge']) {
      expect(states[name]!.Catch, name).toEqual([{ ErrorEquals: ['States.ALL'], Next: 'Abort', ResultPath: '$.error' }]);
    }
    // payloadResponseOnly: the Parameters are the Lambda's payload.
    expect(states['Abort']!.Parameters).toEqual({ action: 'abort', 'run.$': '$.run', 'error.$': '$.error' });
    expect(states['Merge']!.Parameters).toEqual({ action: 'merge', 'run.$': '$.run' });
    expect(states['Abort']!.Next).toBe('RunFailed');
    expect(states['RunFailed']!.Type).toBe('Fail');
  });
});

describe('who may do what', () => {
  it('the score function may start this state machine and nothing else, and knows its ARN and threshold', () => {
    const scoreId = logicalIdOf(stack, stack.scoreFunction);
    const machineId = logicalIdOf(stack, stack.fanOut.stateMachine);
    const starts = roleStatements(scoreId).filter((s) => asArray(s.Action).some((a) => a.startsWith('states:')));
    expect(starts).toEqual([{ Effect: 'Allow', Action: 'states:StartExecution', Resource: { Ref: machineId } }]);
    expect(propertiesOf(template, 'AWS::Lambda::Function', scoreId).Environment.Variables).toMatchObject({
      STATE_MACHINE_ARN: { Ref: machineId },
      FAN_OUT_BYTES: String(1024 ** 3),
    });
  });

  it('the part function writes and deletes only under a run\'s _parts/', () => {
    const partId = logicalIdOf(stack, stack.fanOut.partFunction);
    expect(patternsFor(partId, 's3:PutObject')).toEqual([objectArn('outputs/*/_parts/*')]);
    expect(patternsFor(partId, 's3:DeleteObject')).toEqual([objectArn('outputs/*/_parts/*')]);
    // The contact policy: suppression lists, and the history when the model has a frequency cap.
    expect(patternsFor(partId, 's3:GetObject')).toEqual(['history/*', 'incoming/*', 'models/*', 'outputs/*', 'suppression/*'].map(objectArn));
    expect(patternsFor(partId, 's3:GetObjectVersion')).toEqual([objectArn('incoming/*')]);
  });

  it('the plan function reads incoming/ and writes only the run lock and its own failure record', () => {
    const planId = logicalIdOf(stack, stack.fanOut.planFunction);
    expect(patternsFor(planId, 's3:GetObject')).toContainEqual(objectArn('incoming/*'));
    expect(patternsFor(planId, 's3:PutObject')).toEqual([objectArn('outputs/*/_LOCK'), objectArn('outputs/*/_parts/*')]);
    expect(propertiesOf(template, 'AWS::Lambda::Function', planId).Environment.Variables).toMatchObject({ PART_BYTES: String(256 * 1024 ** 2), FAN_OUT_LOCK_TTL_SECONDS: String(120 * 60 + 60) });
  });

  it('the finish function writes the run\'s outputs and its contact history entry, may delete under outputs/, and never reads incoming/', () => {
    const finishId = logicalIdOf(stack, stack.fanOut.finishFunction);
    expect(patternsFor(finishId, 's3:PutObject')).toEqual([objectArn('history/*'), objectArn('outputs/*')]);
    expect(patternsFor(finishId, 's3:DeleteObject')).toEqual([objectArn('outputs/*')]);
    expect(patternsFor(finishId, 's3:GetObject')).not.toContainEqual(objectArn('incoming/*'));
  });
});

describe('alarms', () => {
  it('alarm on any failed, timed-out or aborted execution, to the alarm topic', () => {
    const machineId = logicalIdOf(stack, stack.fanOut.stateMachine);
    const topicId = logicalIdOf(stack, stack.alarmTopic.topic);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId } }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topicId }],
      });
    }
    expect(stack.alarms).toEqual(expect.arrayContaining([...stack.fanOut.alarms]));
  });
});
