// aws-local-stepfunctions needs Promise.withResolvers, which Node 20 lacks.
import '../polyfills';
import { StepFunctionsEngine } from './engine';
import { listen, stopListening } from './server';
import type { ExecutionClosedEvent, LocalTaskHandler } from './types';

export type { ExecutionClosedEvent, LocalTaskHandler } from './types';

/**
 * A local Step Functions endpoint: speaks the AWS JSON 1.0 protocol so `@aws-sdk/client-sfn` and
 * the AWS CLI work against it, runs Standard executions of the same ASL with aws-local-stepfunctions,
 * and calls Task handlers in-process with Lambda's semantics (JSON in and out; a thrown error
 * fails the Task with Error = its name and Cause = the Lambda error payload).
 */

/** A state machine to serve. */
export interface LocalStateMachine {
  name: string;
  /** ASL JSON text, substitutions already applied. */
  definition: string;
}



/** How to start the endpoint. */
export interface LocalStepFunctionsOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  stateMachines: LocalStateMachine[];
  /** Handlers by Task `Resource`, as written in the substituted ASL. */
  taskHandlers: Record<string, LocalTaskHandler>;
  /** Called once per closed execution; a throw is logged and ignored. */
  onExecutionClosed?: (event: ExecutionClosedEvent) => void | Promise<void>;
  /** Scale for Retry pauses (1 = as written; 0.01 in tests so retries take milliseconds). */
  retryDelayScale?: number;
}

/** A running local endpoint. */
export interface LocalStepFunctions {
  /** `http://<host>:<port>`, for the SDK's `endpoint` option. */
  endpoint: string;
  region: string;
  /** The ARN of a served state machine. */
  stateMachineArn(name: string): string;
  /** Resolves when the execution closes (or at once if closed), after onExecutionClosed has run. */
  waitForExecution(executionArn: string): Promise<ExecutionClosedEvent>;
  /** Resolves when no execution is running. */
  idle(): Promise<void>;
  /** Aborts running executions, closes the server. */
  close(): Promise<void>;
  /** Dies as a crashed host: executions stop where they are, no Catch, no events; the server closes. */
  crash(): Promise<void>;
}

/** Start the endpoint; rejects when a definition is invalid or the port is taken. */
export async function startLocalStepFunctions(options: LocalStepFunctionsOptions): Promise<LocalStepFunctions> {
  const host = options.host ?? '127.0.0.1';
  const region = options.region ?? 'us-east-1';
  const retryDelayScale = options.retryDelayScale ?? 1;
  if (!(retryDelayScale >= 0)) throw new Error('retryDelayScale must be a number >= 0');
  const engine = new StepFunctionsEngine({
    region,
    accountId: options.accountId ?? '000000000000',
    stateMachines: options.stateMachines,
    taskHandlers: options.taskHandlers,
    onExecutionClosed: options.onExecutionClosed,
    retryDelayScale,
  });
  const { server, port } = await listen(engine, host, options.port ?? 0);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${urlHost}:${port}`,
    region,
    stateMachineArn: (name) => engine.stateMachineArn(name),
    waitForExecution: (executionArn) => engine.waitForExecution(executionArn),
    idle: () => engine.idle(),
    close: () => {
      closing ??= (async () => {
        await engine.shutdown();
        await stopListening(server);
      })();
      return closing;
    },
    crash: () => {
      engine.crash();
      closing ??= stopListening(server);
      return closing;
    },
  };
}
