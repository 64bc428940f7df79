import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, type RunOptions } from 'aws-local-stepfunctions';
import { prepareDefinition, type AslState, type PreparedDefinition } from './definition';
import { ExecutionJournal, type LibraryEvent } from './history';
import { asLambdaResult, taskFailureFor, UncatchableTaskFailure } from './lambda-semantics';
import type { ExecutionClosedEvent as ClosedExecution, LocalTaskHandler as TaskHandler } from './types';
import { SfnServiceError } from './service-error';

/**
 * The Step Functions service, minus the wire: state machines, executions and their histories, in
 * memory. Executions run on aws-local-stepfunctions; Task states call in-process handlers.
 */

/** Final and running execution statuses, as Step Functions names them. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
/** A closed execution's status. */
export type ClosedStatus = Exclude<ExecutionStatus, 'RUNNING'>;

/** How the engine is set up. */
export interface EngineOptions {
  region: string;
  accountId: string;
  stateMachines: ReadonlyArray<{ name: string; definition: string }>;
  taskHandlers: Readonly<Record<string, TaskHandler>>;
  onExecutionClosed?: (event: ClosedExecution) => void | Promise<void>;
  retryDelayScale: number;
}

/** A registered state machine. */
export interface StateMachineRecord {
  name: string;
  arn: string;
  definition: string;
  roleArn: string;
  creationDate: number;
  prepared: PreparedDefinition;
}

/** One execution, running or closed; dates in epoch milliseconds. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: string;
  startDate: number;
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** Insertion order, to keep "newest first" stable when two executions share a millisecond. */
  sequence: number;
  journal: ExecutionJournal;
  stopRequest?: { error?: string; cause?: string };
  abort: () => void;
  /** Resolves once the status is final (before onExecutionClosed runs). */
  settled: Promise<void>;
  /** Resolves once onExecutionClosed has run. */
  closed: Promise<ClosedExecution>;
}

type LocalHandlerOverrides = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = ReturnType<LocalHandlerOverrides[string]> extends infer R ? Awaited<R> : never;

type Outcome = { status: ClosedStatus; output?: string; error?: string; cause?: string };

const EXECUTION_NAME = /^[0-9A-Za-z_-]{1,80}$/;
/** Step Functions' limit on execution input, in UTF-8 bytes. */
const MAX_INPUT_BYTES = 256 * 1024;
/** aws-local-stepfunctions' Fail state defaults, which Step Functions leaves empty instead. */
const FAIL_STATE_DEFAULT_ERROR = 'FailStateError';
const FAIL_STATE_DEFAULT_CAUSE = 'Execution failed because of a Fail state';

/** The in-memory Step Functions service behind the local endpoint. */
export class StepFunctionsEngine {
  private readonly machines = new Map<string, StateMachineRecord>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly running = new Set<ExecutionRecord>();
  private sequence = 0;
  private shuttingDown = false;
  private crashed = false;

  constructor(private readonly options: EngineOptions) {
    const creationDate = Date.now();
    for (const machine of options.stateMachines) {
      const arn = this.stateMachineArn(machine.name);
      if (this.machines.has(arn)) throw new Error(`State machine ${machine.name} is registered twice`);
      this.machines.set(arn, {
        name: machine.name,
        arn,
        definition: machine.definition,
        roleArn: `arn:aws:iam::${options.accountId}:role/${machine.name}-role`,
        creationDate,
        prepared: prepareDefinition(machine.name, machine.definition, options.retryDelayScale),
      });
    }
  }

  /** The ARN Step Functions would give a state machine of this name. */
  stateMachineArn(name: string): string {
    return `arn:aws:states:${this.options.region}:${this.options.accountId}:stateMachine:${name}`;
  }

  /** Every registered state machine, in registration order. */
  listStateMachines(): StateMachineRecord[] {
    return [...this.machines.values()];
  }

  /** One state machine, or StateMachineDoesNotExist. */
  stateMachine(arn: string): StateMachineRecord {
    assertArn(arn, 'stateMachine');
    const machine = this.machines.get(arn);
    if (!machine) throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  /** One execution, or ExecutionDoesNotExist. */
  execution(arn: string): ExecutionRecord {
    assertArn(arn, 'execution');
    const record = this.executions.get(arn);
    if (!record) throw new SfnServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  /** A state machine's executions, newest first. */
  executionsOf(stateMachineArn: string): ExecutionRecord[] {
    this.stateMachine(stateMachineArn);
    return [...this.executions.values()]
      .filter((record) => record.stateMachineArn === stateMachineArn)
      .sort((a, b) => b.startDate - a.startDate || b.sequence - a.sequence);
  }

  /**
   * StartExecution with Standard idempotency: the same name and input while the execution runs
   * returns it again; any other reuse of the name is ExecutionAlreadyExists.
   */
  startExecution(stateMachineArn: string, name: string | undefined, input: string | undefined): ExecutionRecord {
    const machine = this.stateMachine(stateMachineArn);
    const executionName = name ?? randomUUID();
    if (!EXECUTION_NAME.test(executionName)) {
      throw new SfnServiceError('InvalidName', `Invalid Name: '${executionName}' (1-80 characters from [0-9A-Za-z_-])`);
    }
    const inputText = input ?? '{}';
    const parsedInput = parseInput(inputText);
    const executionArn = `arn:aws:states:${this.options.region}:${this.options.accountId}:execution:${machine.name}:${executionName}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw new SfnServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    if (this.shuttingDown) throw new SfnServiceError('InternalFailure', 'The local endpoint is shutting down', 500);
    return this.launch(machine, executionArn, executionName, inputText, parsedInput);
  }

  /** StopExecution: abort a running execution; a closed one is left as it is. */
  async stopExecution(arn: string, error: string | undefined, cause: string | undefined): Promise<ExecutionRecord> {
    const record = this.execution(arn);
    if (record.status === 'RUNNING' && !record.stopRequest) {
      record.stopRequest = { error, cause };
      record.abort();
    }
    await record.settled;
    return record;
  }

  /** Resolves when the execution has closed and onExecutionClosed has run. */
  waitForExecution(arn: string): Promise<ClosedExecution> {
    const record = this.executions.get(arn);
    if (!record) return Promise.reject(new Error(`No execution ${arn}`));
    return record.closed;
  }

  /** Resolves when no execution is running, including ones started by onExecutionClosed. */
  async idle(): Promise<void> {
    while (this.running.size > 0) {
      await Promise.all([...this.running].map((record) => record.closed));
    }
  }

  /**
   * Die as a crashed host would: every running execution stops where it is, no Catch runs, no
   * closed-execution event is sent, new ones are refused. Tests use it to prove convergence after a crash.
   */
  crash(): void {
    this.crashed = true;
    this.shuttingDown = true;
    for (const record of this.running) {
      record.stopRequest ??= { error: 'LocalEndpointCrashed', cause: 'The local Step Functions endpoint crashed' };
      record.abort();
    }
  }

  /** Abort every running execution and refuse new ones. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    for (const record of this.running) {
      if (!record.stopRequest) {
        record.stopRequest = { error: 'LocalEndpointClosed', cause: 'The local Step Functions endpoint was closed' };
        record.abort();
      }
    }
    await this.idle();
  }

  private launch(
    machine: StateMachineRecord,
    executionArn: string,
    name: string,
    input: string,
    parsedInput: unknown,
  ): ExecutionRecord {
    const startDate = Date.now();
    const journal = new ExecutionJournal(machine.prepared.states, this.options.region);
    journal.add('ExecutionStarted', 'executionStartedEventDetails', {
      input,
      inputDetails: { truncated: false },
      roleArn: machine.roleArn,
    }, startDate);

    const settled = deferred<void>();
    const closed = deferred<ClosedExecution>();
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      startDate,
      status: 'RUNNING',
      sequence: ++this.sequence,
      journal,
      abort: () => undefined,
      settled: settled.promise,
      closed: closed.promise,
    };
    this.executions.set(executionArn, record);
    this.running.add(record);
    // Step Functions starts an execution's first state after StartExecution has answered, on its own
    // hosts; here the states run on the caller's event loop, so they begin a moment later rather than
    // inside the caller's request (where they would be counted as its latency).
    setTimeout(() => this.run(machine, record, parsedInput, settled, closed), START_DELAY_MS);
    return record;
  }

  /** Run a launched execution to its end, recording its history and its outcome. */
  private run(machine: StateMachineRecord, record: ExecutionRecord, parsedInput: unknown, settled: Deferred<void>, closed: Deferred<ClosedExecution>): void {
    const { executionArn, name, startDate, journal } = record;
    const execution = machine.prepared.runtime.run(parsedInput as never, {
      overrides: { taskResourceLocalHandlers: this.taskOverrides(machine.prepared.states, record) },
      context: {
        // The library replaces Execution.Input and Execution.StartTime with its own values.
        Execution: { Id: executionArn, Name: name, RoleArn: machine.roleArn, StartTime: new Date(startDate).toISOString(), RedriveCount: 0 },
        StateMachine: { Id: machine.arn, Name: machine.name },
      },
    });
    record.abort = execution.abort;
    // Stopped (or the endpoint crashed or closed) before its first state: it ends ABORTED at once.
    if (record.stopRequest) execution.abort();

    const historyRecorded = (async () => {
      for await (const event of execution.eventLogs) {
        try {
          journal.record(event as unknown as LibraryEvent);
        } catch (error) {
          logError('could not record a history event', { executionArn, error });
        }
      }
    })();

    void execution.result
      .then(
        (output): Outcome => ({ status: 'SUCCEEDED', output: JSON.stringify(output ?? null) }),
        (error: unknown) => this.outcomeOf(error, record),
      )
      .then(async (outcome) => {
        await historyRecorded;
        this.close(record, outcome);
        settled.resolve();
        const event = closedExecution(record);
        try {
          // A crashed endpoint tells nobody anything.
          if (!this.crashed) await this.options.onExecutionClosed?.(event);
        } catch (error) {
          logError('onExecutionClosed failed', { executionArn, error });
        }
        this.running.delete(record);
        closed.resolve(event);
      })
      .catch((error: unknown) => {
        // Unreachable unless the bookkeeping above throws; never leave waiters hanging.
        logError('could not close the execution', { executionArn, error });
        this.running.delete(record);
        settled.resolve();
        closed.resolve(closedExecution(record));
      });
  }

  /** One local override per Task state (the library keys overrides by state name). */
  private taskOverrides(
    states: ReadonlyMap<string, AslState>,
    record: ExecutionRecord,
  ): LocalHandlerOverrides {
    const overrides: LocalHandlerOverrides = {};
    for (const [stateName, state] of states) {
      if (state.Type !== 'Task') continue;
      const resource = state.Resource ?? '';
      const handler = this.options.taskHandlers[resource];
      const isStopped = () => record.status !== 'RUNNING' || record.stopRequest !== undefined;
      overrides[stateName] = async (input) => {
        // The library still retries after an abort; a stopped execution must call nothing more.
        if (isStopped()) throw new UncatchableTaskFailure('The execution was stopped');
        const output = await record.journal.invokeTask(stateName, input, async () => {
          if (isStopped()) throw new UncatchableTaskFailure('The execution was stopped');
          if (!handler) throw new UncatchableTaskFailure(`No local handler for Task resource '${resource}'`);
          let result: unknown;
          try {
            // Lambda hands the function a freshly parsed event, never the interpreter's own object.
            result = await handler(JSON.parse(JSON.stringify(input ?? null)));
            return asLambdaResult(result);
          } catch (thrown) {
            throw taskFailureFor(thrown);
          }
        });
        return output as JsonValue;
      };
    }
    return overrides;
  }

  private outcomeOf(error: unknown, record: ExecutionRecord): Outcome {
    if (error instanceof ExecutionAbortedError) {
      return { status: 'ABORTED', error: record.stopRequest?.error, cause: record.stopRequest?.cause };
    }
    if (error instanceof ExecutionTimeoutError) {
      return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than its TimeoutSeconds' };
    }
    const failure = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
    if (!(failure instanceof Error)) return { status: 'FAILED', error: 'States.Runtime', cause: String(failure) };
    const fromFailState = failure.constructor.name === 'FailStateError';
    return {
      status: 'FAILED',
      error: fromFailState && failure.name === FAIL_STATE_DEFAULT_ERROR ? undefined : failure.name,
      cause: fromFailState && failure.message === FAIL_STATE_DEFAULT_CAUSE ? undefined : failure.message,
    };
  }

  private close(record: ExecutionRecord, outcome: Outcome): void {
    record.status = outcome.status;
    record.stopDate = Date.now();
    record.output = outcome.output;
    record.error = outcome.error;
    record.cause = outcome.cause;
    record.journal.close();
    const { error, cause } = outcome;
    const at = record.stopDate;
    switch (outcome.status) {
      case 'SUCCEEDED':
        record.journal.add('ExecutionSucceeded', 'executionSucceededEventDetails', { output: outcome.output, outputDetails: { truncated: false } }, at);
        break;
      case 'FAILED':
        record.journal.add('ExecutionFailed', 'executionFailedEventDetails', { error, cause }, at);
        break;
      case 'ABORTED':
        record.journal.add('ExecutionAborted', 'executionAbortedEventDetails', { error, cause }, at);
        break;
      case 'TIMED_OUT':
        record.journal.add('ExecutionTimedOut', 'executionTimedOutEventDetails', { error, cause }, at);
        break;
    }
  }
}

/** The closed-execution event for a record whose status is final. */
function closedExecution(record: ExecutionRecord): ClosedExecution {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status as ClosedStatus,
    startDate: new Date(record.startDate).toISOString(),
    stopDate: new Date(record.stopDate ?? Date.now()).toISOString(),
    input: record.input,
    ...(record.output === undefined ? {} : { output: record.output }),
    ...(record.error === undefined ? {} : { error: record.error }),
    ...(record.cause === undefined ? {} : { cause: record.cause }),
  };
}

function parseInput(input: string): unknown {
  if (Buffer.byteLength(input, 'utf8') > MAX_INPUT_BYTES) {
    throw new SfnServiceError('InvalidExecutionInput', `Input exceeds ${MAX_INPUT_BYTES} bytes`);
  }
  try {
    return JSON.parse(input) as unknown;
  } catch {
    throw new SfnServiceError('InvalidExecutionInput', 'Invalid State Machine Execution Input: not valid JSON');
  }
}

/** Step Functions answers InvalidArn before looking anything up. */
function assertArn(arn: string, resourceType: 'stateMachine' | 'execution'): void {
  const parts = arn.split(':');
  const ok = parts.length >= 7 && parts[0] === 'arn' && parts[2] === 'states' && parts[5] === resourceType;
  if (!ok) throw new SfnServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
}

/** A promise with its resolve function. */
type Deferred<T> = { promise: Promise<T>; resolve: (value: T) => void };

/** How long after StartExecution an execution's first state begins. */
const START_DELAY_MS = 5;

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

function logError(message: string, details: { executionArn: string; error: unknown }): void {
  const error = details.error instanceof Error ? { name: details.error.name, message: details.error.message, stack: details.error.stack } : details.error;
  console.error(JSON.stringify({ level: 'ERROR', service: 'local-stepfunctions', message, executionArn: details.executionArn, error }));
}

