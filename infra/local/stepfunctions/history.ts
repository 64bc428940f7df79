import type { AslState } from './definition';
import { UncatchableTaskFailure } from './lambda-semantics';

/**
 * An execution's history in Step Functions' own event vocabulary, built from two sources:
 * aws-local-stepfunctions' `eventLogs` (states entered, exited, failed, retried) and the Task
 * handler wrapper (scheduled, started, succeeded, failed), which the library does not report.
 */

/** One history event; `timestamp` in epoch milliseconds. */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  /** The `<x>EventDetails` member name and its value, as in GetExecutionHistory. */
  detailsKey?: string;
  details?: Record<string, unknown>;
}

/** The subset of aws-local-stepfunctions' event log entries the journal reads. */
export interface LibraryEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input: unknown; output?: unknown };
  parentState?: { name: string; type: string };
  index?: number;
  Error?: string;
  Cause?: unknown;
}

/** One call of a Task state's handler, waiting for the journal to record it as scheduled. */
interface Invocation {
  stateName: string;
  input: unknown;
  settled: boolean;
  scheduled: Deferred;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (reason: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const json = (value: unknown): string => JSON.stringify(value === undefined ? null : value);
const notTruncated = { truncated: false };
const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:/;
const SERVICE_INTEGRATION_ARN = /^arn:aws[\w-]*:states:::([^:]+):([^.]+)/;

/** Lambda ARNs get `LambdaFunction*` events; service integrations and anything else `Task*` ones. */
type TaskEventStyle = { kind: 'lambda' } | { kind: 'task'; resourceType: string; resource: string };

function taskEventStyle(resource: string): TaskEventStyle {
  if (LAMBDA_ARN.test(resource)) return { kind: 'lambda' };
  const integration = SERVICE_INTEGRATION_ARN.exec(resource);
  if (integration) return { kind: 'task', resourceType: integration[1] ?? 'local', resource: integration[2] ?? resource };
  return { kind: 'task', resourceType: 'local', resource };
}

/** Records one execution's history and rendezvouses Task handler calls with the library's events. */
export class ExecutionJournal {
  readonly events: HistoryEvent[] = [];
  private readonly waiting = new Map<string, Invocation[]>();
  private readonly enteredWithoutCall = new Map<string, number>();
  private readonly active = new Map<string, Invocation[]>();
  private readonly failedStates = new Set<string>();
  private closed = false;

  constructor(
    private readonly states: ReadonlyMap<string, AslState>,
    private readonly region: string,
  ) {}

  /** Append an event; ids run from 1 and each event points at the one before it. */
  add(type: string, detailsKey?: string, details?: Record<string, unknown>, timestamp = Date.now()): HistoryEvent {
    const id = this.events.length + 1;
    const event: HistoryEvent = { id, previousEventId: id - 1, timestamp, type };
    if (detailsKey && details) {
      event.detailsKey = detailsKey;
      event.details = details;
    }
    this.events.push(event);
    return event;
  }

  /**
   * Run one Task attempt: wait until the journal has seen the library enter (or retry) the state,
   * record it as scheduled and started, run `call`, record how it ended.
   */
  async invokeTask(stateName: string, input: unknown, call: () => Promise<unknown>): Promise<unknown> {
    const invocation: Invocation = { stateName, input, settled: false, scheduled: deferred() };
    if (this.closed) throw new UncatchableTaskFailure('The execution is no longer running');
    const pending = this.enteredWithoutCall.get(stateName) ?? 0;
    if (pending > 0) {
      this.enteredWithoutCall.set(stateName, pending - 1);
      this.schedule(invocation);
    } else {
      listFor(this.waiting, stateName).push(invocation);
    }
    await invocation.scheduled.promise;

    try {
      const output = await call();
      this.settle(invocation, (style) =>
        style.kind === 'lambda'
          ? this.add('LambdaFunctionSucceeded', 'lambdaFunctionSucceededEventDetails', { output: json(output), outputDetails: notTruncated })
          : this.add('TaskSucceeded', 'taskSucceededEventDetails', { ...taskIdentity(style), output: json(output), outputDetails: notTruncated }),
      );
      return output;
    } catch (failure) {
      const error = failure instanceof Error ? failure.name : 'Error';
      const cause = failure instanceof Error ? failure.message : String(failure);
      this.settle(invocation, (style) =>
        style.kind === 'lambda'
          ? this.add('LambdaFunctionFailed', 'lambdaFunctionFailedEventDetails', { error, cause })
          : this.add('TaskFailed', 'taskFailedEventDetails', { ...taskIdentity(style), error, cause }),
      );
      throw failure;
    }
  }

  /** Translate one library event; execution-level events are written by the caller instead. */
  record(event: LibraryEvent): void {
    if (this.closed) return;
    const { state } = event;
    const at = event.timestamp;
    switch (event.type) {
      case 'StateEntered': {
        if (!state) return;
        this.failedStates.delete(state.name);
        this.add(`${state.type}StateEntered`, 'stateEnteredEventDetails', {
          name: state.name,
          input: json(state.input),
          inputDetails: notTruncated,
        }, at);
        if (state.type === 'Task') this.taskAttemptBegins(state.name);
        if (state.type === 'Map' || state.type === 'Parallel') this.add(`${state.type}StateStarted`, undefined, undefined, at);
        return;
      }
      case 'StateRetried': {
        if (!state) return;
        this.failedStates.delete(state.name);
        if (state.type === 'Task') this.taskAttemptBegins(state.name);
        return;
      }
      case 'StateFailed': {
        if (!state) return;
        this.failedStates.add(state.name);
        if (state.type === 'Task') this.taskStateFailed(state.name, event, at);
        if (state.type === 'Map' || state.type === 'Parallel') this.add(`${state.type}StateFailed`, undefined, undefined, at);
        return;
      }
      case 'StateExited': {
        if (!state) return;
        if ((state.type === 'Map' || state.type === 'Parallel') && !this.failedStates.has(state.name)) {
          this.add(`${state.type}StateSucceeded`, undefined, undefined, at);
        }
        this.failedStates.delete(state.name);
        this.add(`${state.type}StateExited`, 'stateExitedEventDetails', {
          name: state.name,
          output: json(state.output),
          outputDetails: notTruncated,
        }, at);
        return;
      }
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const detailsKey = `mapIteration${event.type.slice('MapIteration'.length)}EventDetails`;
        this.add(event.type, detailsKey, { name: event.parentState?.name, index: event.index }, at);
        return;
      }
      default:
        // Execution*, ParallelBranch* and StateCaught have no history event of their own.
        return;
    }
  }

  /** Stop accepting events and fail Task calls still waiting to be scheduled. */
  close(): void {
    this.closed = true;
    for (const invocations of this.waiting.values()) {
      for (const invocation of invocations) {
        invocation.scheduled.reject(new UncatchableTaskFailure('The execution is no longer running'));
      }
    }
    this.waiting.clear();
  }

  private taskAttemptBegins(stateName: string): void {
    const invocation = this.waiting.get(stateName)?.shift();
    if (invocation) {
      this.schedule(invocation);
    } else {
      this.enteredWithoutCall.set(stateName, (this.enteredWithoutCall.get(stateName) ?? 0) + 1);
    }
  }

  private taskStateFailed(stateName: string, event: LibraryEvent, at: number): void {
    const running = this.active.get(stateName)?.find((invocation) => !invocation.settled);
    if (event.Error === 'States.Timeout' && running) {
      // The library gave up on the handler; it keeps running, as a Lambda would, but no longer counts.
      const error = 'States.Timeout';
      const cause = typeof event.Cause === 'string' ? event.Cause : undefined;
      this.settle(running, (style) =>
        style.kind === 'lambda'
          ? this.add('LambdaFunctionTimedOut', 'lambdaFunctionTimedOutEventDetails', { error, cause }, at)
          : this.add('TaskTimedOut', 'taskTimedOutEventDetails', { ...taskIdentity(style), error, cause }, at),
      );
      return;
    }
    const pending = this.enteredWithoutCall.get(stateName) ?? 0;
    // The state failed before its handler was called (InputPath/Parameters), so nothing was scheduled.
    if (pending > 0) this.enteredWithoutCall.set(stateName, pending - 1);
  }

  private schedule(invocation: Invocation): void {
    const state = this.states.get(invocation.stateName);
    const resource = state?.Resource ?? '';
    const style = taskEventStyle(resource);
    const timeoutInSeconds = typeof state?.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    if (style.kind === 'lambda') {
      this.add('LambdaFunctionScheduled', 'lambdaFunctionScheduledEventDetails', {
        resource,
        input: json(invocation.input),
        inputDetails: notTruncated,
        timeoutInSeconds,
      });
      this.add('LambdaFunctionStarted');
    } else {
      this.add('TaskScheduled', 'taskScheduledEventDetails', {
        ...taskIdentity(style),
        region: this.region,
        parameters: json(invocation.input),
        timeoutInSeconds,
      });
      this.add('TaskStarted', 'taskStartedEventDetails', taskIdentity(style));
    }
    listFor(this.active, invocation.stateName).push(invocation);
    invocation.scheduled.resolve();
  }

  private settle(invocation: Invocation, write: (style: TaskEventStyle) => void): void {
    if (invocation.settled) return;
    invocation.settled = true;
    const active = this.active.get(invocation.stateName);
    if (active) active.splice(active.indexOf(invocation), 1);
    if (this.closed) return;
    write(taskEventStyle(this.states.get(invocation.stateName)?.Resource ?? ''));
  }
}

function taskIdentity(style: { resourceType: string; resource: string }): { resourceType: string; resource: string } {
  return { resourceType: style.resourceType, resource: style.resource };
}

function listFor<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

/** A history event as GetExecutionHistory returns it (timestamps in epoch seconds). */
export function historyEventToWire(event: HistoryEvent, includeExecutionData: boolean): Record<string, unknown> {
  const wire: Record<string, unknown> = {
    timestamp: event.timestamp / 1000,
    type: event.type,
    id: event.id,
    previousEventId: event.previousEventId,
  };
  if (event.detailsKey && event.details) {
    const details = { ...event.details };
    if (!includeExecutionData) {
      for (const dataField of ['input', 'inputDetails', 'output', 'outputDetails', 'parameters']) delete details[dataField];
    }
    wire[event.detailsKey] = details;
  }
  return wire;
}
