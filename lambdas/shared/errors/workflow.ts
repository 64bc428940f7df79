/** Errors of the workflow machinery: fences lost, step input refused, executions not found or still running. */

import { ErrorNames, SlipwayError, type ErrorOptions } from './core';

/** A fenced write found that another operation owns the instance now. */
export class ClaimLostError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.ClaimLost, message, options);
  }
}

/** A fenced write found that the owner's reservation no longer belongs to this provision. */
export class ReservationLostError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.ReservationLost, message, options);
  }
}

/** Compensation could not prove that nothing was left behind. */
export class CleanupUnverifiedError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.CleanupUnverified, message, options);
  }
}

/** A step received input that does not match its schema (a wiring bug, never retried). */
export class InvalidStepInputError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.InvalidStepInput, message, options);
  }
}

/** The workflow service did not take the execution; the admission stands and a replay starts it. */
export class WorkflowUnavailableError extends SlipwayError {
  constructor(readonly executionName: string, options: ErrorOptions = {}) {
    super(ErrorNames.WorkflowUnavailable, `The operation was recorded but its workflow could not be started yet (${executionName}); retry with the same Idempotency-Key.`, options);
  }
}

/** A workflow execution that must have finished first still runs. */
export class ExecutionStillRunningError extends SlipwayError {
  constructor(readonly executionArn: string, options: ErrorOptions = {}) {
    super(ErrorNames.ExecutionStillRunning, `Execution ${executionArn} still runs; wait for it to finish.`, options);
  }
}

/** No execution of that name exists (for that workflow, or among that instance's operations). */
export class ExecutionNotFoundError extends SlipwayError {
  constructor(readonly executionName: string, options: ErrorOptions = {}) {
    super(ErrorNames.ExecutionNotFound, `Execution ${executionName} was not found.`, options);
  }
}
