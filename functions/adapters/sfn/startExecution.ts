import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';

/** The outcome of a StartExecution: a new execution, or one of that name that already exists. */
export type StartExecutionResult =
  | { readonly status: 'started'; readonly executionArn: string }
  | { readonly status: 'already-exists' };

/** Starts a state machine execution by name (the port the score function's fan-out uses). */
export type StartExecution = (request: { readonly name: string; readonly input: unknown }) => Promise<StartExecutionResult>;

/**
 * StartExecution through `@aws-sdk/client-sfn`, with the function's role (the SDK's default
 * credential chain). `ExecutionAlreadyExists` is an answer, not an error: the name is the run id,
 * so it means this run was started before (a redelivered event).
 *
 * @param options.endpoint another endpoint (the local stand-in of `npm start` and the tests)
 * @param options.instrument wraps the client, e.g. X-Ray capture: the execution joins the caller's trace
 * @example const start = stepFunctionsStarter({ stateMachineArn, region: 'eu-west-1' });
 * await start({ name: 'bank-full-3f2a9c0d1e2b', input: run });
 */
export function stepFunctionsStarter(options: {
  readonly stateMachineArn: string;
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly instrument?: (client: SFNClient) => SFNClient;
}): StartExecution {
  const created = new SFNClient({
    region: options.region ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const client = options.instrument ? options.instrument(created) : created;
  return async ({ name, input }) => {
    try {
      const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: options.stateMachineArn, name, input: JSON.stringify(input) }));
      return { status: 'started', executionArn: executionArn ?? '' };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return { status: 'already-exists' };
      throw error;
    }
  };
}
