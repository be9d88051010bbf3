import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * X-Ray annotations (indexed, searchable): model names, run ids, statuses and counts only. Never a
 * row, a customer id or an error message (messages can quote a line of an extract).
 */
export type TraceAnnotations = Readonly<Record<string, string | number | boolean | undefined>>;

/** The part of the Powertools Tracer that {@link traced} uses (a test passes a recording fake). */
export type HandlerTracer = Pick<Tracer, 'isTracingEnabled' | 'getSegment' | 'setSegment' | 'putAnnotation' | 'annotateColdStart' | 'addServiceNameAnnotation'>;

/**
 * The process's tracer (service name from `POWERTOOLS_SERVICE_NAME`). Outside Lambda, and with
 * `POWERTOOLS_TRACE_ENABLED=false`, it is off: `npm start`, the CLI and the tests run without X-Ray.
 */
export const tracer = new Tracer();

/** A short, data-free name for an error: its `code` (the Propensity error tree) or its class name. */
function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}

/**
 * Runs `work` in its own X-Ray subsegment, annotated with what `annotate` picks from the input and,
 * once it succeeded, the result. A failure flags the subsegment and annotates its error code; the
 * error's message, like the response, is not recorded. With tracing off it is `work` itself.
 *
 * @example
 * export const plan = traced('plan', (run: FanOutRun) => planRun(runtime, run), (run) => ({ model: run.model, runId: run.runId }));
 */
export function traced<E, R>(
  name: string,
  work: (event: E) => Promise<R>,
  annotate: (event: E, result?: R) => TraceAnnotations,
  using: HandlerTracer = tracer,
): (event: E) => Promise<R> {
  if (!using.isTracingEnabled()) return work;
  const put = (annotations: TraceAnnotations) => {
    for (const [key, value] of Object.entries(annotations)) if (value !== undefined) using.putAnnotation(key, value);
  };
  return async (event) => {
    const parent = using.getSegment();
    const subsegment = parent?.addNewSubsegment(`## ${name}`);
    if (subsegment) using.setSegment(subsegment);
    using.annotateColdStart();
    using.addServiceNameAnnotation();
    put(annotate(event));
    try {
      const result = await work(event);
      put(annotate(event, result));
      return result;
    } catch (error) {
      subsegment?.addErrorFlag();
      using.putAnnotation('errorCode', errorCodeOf(error));
      throw error;
    } finally {
      subsegment?.close();
      if (parent) using.setSegment(parent);
    }
  };
}
