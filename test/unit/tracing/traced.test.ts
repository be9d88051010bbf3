import { describe, expect, it } from 'vitest';
import { type HandlerTracer, traced, tracer } from '../../../functions/adapters/tracing/traced.js';
import { ExtractError } from '../../../functions/core/errors.js';

/** A tracer that records what a handler's subsegment received, as X-Ray would index it. */
function recordingTracer() {
  const calls: string[] = [];
  const annotations: Record<string, unknown> = {};
  const subsegment = { close: () => calls.push('close'), addErrorFlag: () => calls.push('error flag') };
  const facade = { name: 'facade', addNewSubsegment: (name: string) => (calls.push(`open ${name}`), subsegment) };
  let active: unknown = facade;
  const fake = {
    isTracingEnabled: () => true,
    getSegment: () => active,
    setSegment: (segment: unknown) => {
      active = segment;
    },
    putAnnotation: (key: string, value: unknown) => {
      annotations[key] = value;
    },
    annotateColdStart: () => calls.push('cold start'),
    addServiceNameAnnotation: () => calls.push('service'),
  };
  return { fake: fake as unknown as HandlerTracer, calls, annotations, active: () => active, facade };
}

describe('traced', () => {
  it('is the work itself when tracing is off (outside Lambda: the demo, the CLI, the tests)', async () => {
    // Prepare
    const work = (event: { rows: number }) => Promise.resolve(event.rows * 2);
    // Act
    const wrapped = traced('double', work, () => ({}));
    // Assess
    expect(tracer.isTracingEnabled()).toBe(false);
    expect(wrapped).toBe(work);
    await expect(wrapped({ rows: 21 })).resolves.toBe(42);
  });

  it('runs the work in its own subsegment, annotated from the input and the result, then restores the parent', async () => {
    // Prepare
    const { fake, calls, annotations, active, facade } = recordingTracer();
    const handler = traced(
      'scoreObject',
      (event: { key: string; size: number }) => Promise.resolve({ model: 'bank-marketing', runId: 'bank-full-3f2a9c0d1e2b', rows: event.size > 0 ? 45_211 : 0 }),
      (event, result) => ({ extractBytes: event.size, model: result?.model, runId: result?.runId }),
      fake,
    );
    // Act
    const result = await handler({ key: 'incoming/bank-marketing/bank-full.csv', size: 4_610_348 });
    // Assess
    expect(result.rows).toBe(45_211);
    expect(calls).toEqual(['open ## scoreObject', 'cold start', 'service', 'close']);
    expect(annotations).toEqual({ extractBytes: 4_610_348, model: 'bank-marketing', runId: 'bank-full-3f2a9c0d1e2b' });
    expect(active()).toBe(facade);
  });

  it('flags a failure and annotates its code only, never its message, and rethrows it', async () => {
    // Prepare: an error whose message quotes a customer's line.
    const { fake, calls, annotations, active, facade } = recordingTracer();
    const failure = new ExtractError('EXTRACT_EMPTY', 'no rows after the header: "42,jane.doe@example.com,..."', { file: 'incoming/m/x.csv' });
    const handler = traced('scoreObject', (event: { size: number }) => Promise.reject(event.size > 0 ? failure : new Error('empty')), (event) => ({ extractBytes: event.size }), fake);
    // Act / Assess
    await expect(handler({ size: 10 })).rejects.toBe(failure);
    expect(calls).toEqual(['open ## scoreObject', 'cold start', 'service', 'error flag', 'close']);
    expect(annotations).toEqual({ extractBytes: 10, errorCode: 'EXTRACT_EMPTY' });
    expect(JSON.stringify(annotations)).not.toContain('jane.doe');
    expect(active()).toBe(facade);
  });
});
