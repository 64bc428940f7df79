/**
 * What Lambda does around a Node.js handler, so a Task state bound to an in-process function sees
 * the same values it would see on AWS: JSON in, JSON out, and failures reported as
 * Error = `errorType`, Cause = the runtime's error payload as JSON text.
 */

/** The Lambda Node.js runtime's error payload. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

/** How the Node.js runtime reports a thrown value. */
export function lambdaErrorPayload(thrown: unknown): LambdaErrorPayload {
  if (thrown instanceof Error || (typeof thrown === 'object' && thrown !== null && 'name' in thrown && 'message' in thrown)) {
    const error = thrown as Error;
    return {
      errorType: String(error.name),
      errorMessage: String(error.message),
      trace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
    };
  }
  return { errorType: typeof thrown, errorMessage: String(thrown), trace: [] };
}

/**
 * The error a Task state fails with. aws-local-stepfunctions matches `Retry`/`Catch` on `name` and
 * uses `message` as the Cause (and `cause`, when set, in its event log), so the original error's
 * own `cause` must not travel along.
 */
export class TaskFailure extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

/** The Task failure Step Functions records when a Lambda function throws `thrown`. */
export function taskFailureFor(thrown: unknown): TaskFailure {
  const payload = lambdaErrorPayload(thrown);
  return new TaskFailure(payload.errorType, JSON.stringify(payload));
}

/**
 * A failure nothing may retry or catch (the library honours `isRetryable`/`isCatchable`), used
 * when a Task is invoked after its execution was stopped and when no handler exists.
 */
export class UncatchableTaskFailure extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor(message: string) {
    super(message);
    this.name = 'States.Runtime';
  }
}

/** Lambda serialises results with JSON.stringify; `undefined` arrives as `null`. */
export function asLambdaResult(result: unknown): unknown {
  const text = JSON.stringify(result);
  return text === undefined ? null : (JSON.parse(text) as unknown);
}
