/**
 * What an execution's history says about each of its states: entered, running, succeeded,
 * succeeded after retries, failed, or failed and caught. Pure (no SDK, no zod), so the API's
 * progress route, the CLI and the operator console's graph all read a history the same way.
 */

/** One history event, as the API hands it on: Step Functions' own type and details, times in ISO 8601. */
export interface HistoryEventView {
  id: number;
  previousEventId: number;
  /** ISO 8601. */
  timestamp: string;
  /** Step Functions' event type, e.g. `TaskStateEntered`, `LambdaFunctionFailed`. */
  type: string;
  /** The event's `<x>EventDetails` object, when it has one. */
  details: Record<string, unknown> | null;
}

/** How a state ended, or that it runs. */
export const STEP_STATUSES = ['running', 'succeeded', 'retried', 'caught', 'failed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** One state of one execution, as its history tells it (its latest visit when it ran more than once). */
export interface StepView {
  /** The state's name. */
  name: string;
  /** The state's type (`Task`, `Fail`, `Choice`, …). */
  type: string;
  status: StepStatus;
  /** Task attempts (1 + retries); 0 for states that call nothing. */
  attempts: number;
  /** ISO 8601. */
  enteredAt: string;
  exitedAt: string | null;
  /** The state's input and output as JSON text (the operator console shows them; callers never get them). */
  input: string | null;
  output: string | null;
  /** The last failure's error name and its cause as recorded (for a Lambda: the error payload JSON). */
  error: string | null;
  cause: string | null;
}

/** History event types that fail a Task attempt. */
const ATTEMPT_FAILED = new Set([
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStartFailed',
  'TaskSubmitFailed',
]);
const ATTEMPT_SCHEDULED = new Set(['LambdaFunctionScheduled', 'TaskScheduled']);
const ATTEMPT_SUCCEEDED = new Set(['LambdaFunctionSucceeded', 'TaskSucceeded']);
const EXECUTION_ENDED_BADLY = new Set(['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);

interface Visit extends StepView {
  lastAttemptFailed: boolean;
  open: boolean;
}

const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * The states of an execution from its history (oldest event first), in the order they were first
 * entered. A Task whose last attempt failed and whose execution went on to another state was caught;
 * one that succeeded after failed attempts was retried. Events without a state name (Lambda and
 * Task events) belong to the most recently entered state that is still open.
 */
export function stepsFromHistory(events: readonly HistoryEventView[]): StepView[] {
  const byName = new Map<string, Visit>();
  const open: Visit[] = [];
  const current = (): Visit | undefined => open[open.length - 1];
  const close = (visit: Visit, status: StepStatus, at: string | null) => {
    visit.status = status;
    visit.open = false;
    visit.exitedAt ??= at;
    open.splice(open.indexOf(visit), 1);
  };

  for (const event of events) {
    const details = event.details ?? {};
    if (event.type.endsWith('StateEntered')) {
      // Entering a state while another's last attempt failed means that failure was caught.
      for (const visit of [...open]) if (visit.lastAttemptFailed) close(visit, 'caught', event.timestamp);
      const name = text(details.name) ?? '?';
      const visit: Visit = {
        name,
        type: event.type.slice(0, -'StateEntered'.length),
        status: 'running',
        attempts: 0,
        enteredAt: event.timestamp,
        exitedAt: null,
        input: text(details.input),
        output: null,
        error: null,
        cause: null,
        lastAttemptFailed: false,
        open: true,
      };
      // A state entered again keeps its place in the order but shows its latest visit.
      byName.delete(name);
      byName.set(name, visit);
      open.push(visit);
      continue;
    }
    if (event.type.endsWith('StateExited')) {
      const name = text(details.name);
      const visit = [...open].reverse().find((v) => v.name === name);
      if (!visit) continue;
      visit.output = text(details.output);
      close(visit, visit.lastAttemptFailed ? 'caught' : visit.attempts > 1 ? 'retried' : 'succeeded', event.timestamp);
      continue;
    }
    const visit = current();
    if (ATTEMPT_SCHEDULED.has(event.type)) {
      if (visit) {
        visit.attempts += 1;
        visit.lastAttemptFailed = false;
      }
      continue;
    }
    if (ATTEMPT_SUCCEEDED.has(event.type)) {
      if (visit) visit.lastAttemptFailed = false;
      continue;
    }
    if (ATTEMPT_FAILED.has(event.type)) {
      if (visit) {
        visit.lastAttemptFailed = true;
        visit.error = text(details.error);
        visit.cause = text(details.cause);
      }
      continue;
    }
    if (event.type === 'ExecutionSucceeded') {
      for (const v of [...open]) close(v, v.attempts > 1 ? 'retried' : 'succeeded', event.timestamp);
      continue;
    }
    if (EXECUTION_ENDED_BADLY.has(event.type)) {
      for (const v of [...open]) {
        // A Fail state carries the execution's error; an aborted or timed-out state carries its own.
        if (!v.error) {
          v.error = text(details.error);
          v.cause = text(details.cause);
        }
        close(v, 'failed', event.timestamp);
      }
    }
  }
  return [...byName.values()].map(({ lastAttemptFailed: _failed, open: _open, ...step }) => step);
}

/**
 * The human part of a recorded cause: a Lambda error payload (`{"errorType","errorMessage","trace"}`)
 * becomes its message, so no stack trace ever reaches a caller; any other text stays as it is.
 */
export function causeMessage(cause: string | null | undefined): string | null {
  if (cause === null || cause === undefined || cause === '') return null;
  try {
    const parsed = JSON.parse(cause) as unknown;
    if (parsed && typeof parsed === 'object' && typeof (parsed as { errorMessage?: unknown }).errorMessage === 'string') {
      return (parsed as { errorMessage: string }).errorMessage;
    }
  } catch {
    // Not JSON: a cause written by a Fail state or Step Functions itself.
  }
  return cause;
}

/** What a deterministic execution name says: `<instanceId>-<operation>-v<version>`. */
export function parseExecutionName(name: string): { instanceId: string; operation: string; version: number } | null {
  const match = /^(i-[0-9a-z]{26})-([a-z][A-Za-z-]*)-v(\d+)$/.exec(name);
  return match ? { instanceId: match[1]!, operation: match[2]!, version: Number(match[3]) } : null;
}

/** Execution statuses after which nothing changes. */
export const CLOSED_EXECUTION_STATUSES: readonly string[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'LOST'];
