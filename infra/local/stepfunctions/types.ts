/** Types shared by the endpoint's modules (kept apart so they import no module that imports them). */

/** Runs a Task state in-process, with the Task's effective input; the result is the Task's result. */
export type LocalTaskHandler = (input: unknown) => Promise<unknown>;

/** What EventBridge's "Step Functions Execution Status Change" would carry, for one closed execution. */
export interface ExecutionClosedEvent {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  /** ISO 8601. */
  startDate: string;
  /** ISO 8601. */
  stopDate: string;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
}
