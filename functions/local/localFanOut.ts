import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AbortTask, FanOutRun, PartResult, PartTask, RunPlan } from '../fanout/fanOutRun.js';
import type { FinishTask } from '../fanout/handlers.js';

/** The fan-out's Lambda handlers, exactly as the state machine invokes them (`functions/fanout/handlers.ts`). */
export interface FanOutHandlers {
  plan(run: FanOutRun): Promise<RunPlan>;
  part(task: PartTask): Promise<PartResult>;
  finish(task: FinishTask): Promise<unknown>;
}

export type LocalExecutionResult =
  | { readonly status: 'succeeded'; readonly parts: number }
  | { readonly status: 'failed'; readonly step: 'plan' | 'part' | 'merge'; readonly error: unknown };

/**
 * Plays the state machine on this machine: plan → every part (at most `concurrency` at once, as
 * the Distributed Map's MaxConcurrency) → merge; on the first failure it lets the running parts
 * finish, starts no more (toleratedFailurePercentage 0), calls the abort step and reports the failure.
 * No retries: a local failure is shown at once.
 */
export async function runFanOutLocally(handlers: FanOutHandlers, run: FanOutRun, options: { readonly concurrency?: number } = {}): Promise<LocalExecutionResult> {
  const abort = (task: AbortTask) => handlers.finish({ action: 'abort', ...task });
  let plan: RunPlan;
  try {
    plan = await handlers.plan(run);
  } catch (error) {
    await abort({ run, error: { Error: errorName(error) } });
    return { status: 'failed', step: 'plan', error };
  }
  const concurrency = Math.max(1, options.concurrency ?? 4);
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < plan.parts.length) {
      const part = plan.parts[next++]!;
      await handlers.part({ run: plan.run, part }).catch((error: unknown) => {
        failure ??= error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, plan.parts.length) }, worker));
  if (failure !== undefined) {
    await abort({ run: plan.run, error: { Error: errorName(failure) } });
    return { status: 'failed', step: 'part', error: failure };
  }
  try {
    await handlers.finish({ action: 'merge', run: plan.run });
  } catch (error) {
    await abort({ run: plan.run, error: { Error: errorName(error) } });
    return { status: 'failed', step: 'merge', error };
  }
  return { status: 'succeeded', parts: plan.parts.length };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

/** One execution the local stand-in started. */
export interface LocalExecution {
  readonly name: string;
  readonly input: FanOutRun;
  readonly done: Promise<LocalExecutionResult>;
}

export interface LocalStepFunctions {
  /** `http://127.0.0.1:<port>`: the score function's `AWS_ENDPOINT_URL_SFN`. */
  readonly endpoint: string;
  /** Every execution by name, in the order they were started. */
  readonly executions: ReadonlyMap<string, LocalExecution>;
  /** StartExecution calls received, names included, refused ones too. */
  readonly calls: readonly string[];
  close(): Promise<void>;
}

/**
 * A stand-in for the Step Functions endpoint on 127.0.0.1 that answers StartExecution (AWS JSON
 * 1.0, as the score function sends it) by running {@link runFanOutLocally} in the background, and
 * refuses a name it has seen with `ExecutionAlreadyExists`, as Step Functions does. Signatures are
 * not checked. For `npm start -- --fan-out` and the tests.
 */
export async function startLocalStepFunctions(handlers: FanOutHandlers, options: { readonly concurrency?: number } = {}): Promise<LocalStepFunctions> {
  const executions = new Map<string, LocalExecution>();
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify(body));
      };
      if (req.headers['x-amz-target'] !== 'AWSStepFunctions.StartExecution') return reply(400, { __type: 'UnknownOperationException', message: 'only StartExecution' });
      const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { stateMachineArn: string; name: string; input: string };
      calls.push(request.name);
      if (executions.has(request.name)) return reply(400, { __type: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${request.name}'` });
      const input = JSON.parse(request.input) as FanOutRun;
      const done = runFanOutLocally(handlers, input, options);
      executions.set(request.name, { name: request.name, input, done });
      reply(200, { executionArn: `${request.stateMachineArn.replace(':stateMachine:', ':execution:')}:${request.name}`, startDate: Date.now() / 1000 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    executions,
    calls,
    async close() {
      await Promise.allSettled([...executions.values()].map((e) => e.done));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
