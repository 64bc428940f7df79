/**
 * Named errors. Step Functions `Retry`/`Catch` blocks match on `error.name`, so every name is an
 * exported constant and `test/unit/asl-lint.test.ts` checks that each name the ASL mentions exists.
 */

/** Stable error names, shared by the handlers, the ASL files and the API edge. */
export const ErrorNames = {
  // Provider faults.
  ProviderUnavailable: 'ProviderUnavailable',
  ProviderCapacity: 'ProviderCapacity',
  ProviderResourceNotFound: 'ProviderResourceNotFound',
  VolumeAttached: 'VolumeAttached',
  MachineNotReady: 'MachineNotReady',
  MachineStartFailed: 'MachineStartFailed',
  OwnershipMismatch: 'OwnershipMismatch',
  // Workflow and state faults.
  ClaimLost: 'ClaimLost',
  ReservationLost: 'ReservationLost',
  CleanupUnverified: 'CleanupUnverified',
  InvalidStepInput: 'InvalidStepInput',
  // Admission and API faults.
  ProvisionInProgress: 'ProvisionInProgress',
  ReconciliationPending: 'ReconciliationPending',
  IdempotencyKeyReused: 'IdempotencyKeyReused',
  QuotaExceeded: 'QuotaExceeded',
  InstanceNotFound: 'InstanceNotFound',
  InstanceBusy: 'InstanceBusy',
  InvalidState: 'InvalidState',
  ContentionTimeout: 'ContentionTimeout',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  ValidationFailed: 'ValidationFailed',
  ExecutionStillRunning: 'ExecutionStillRunning',
} as const;

export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

/** Base class: a stable `name`, optional context for logs, and the standard `cause`. */
export class SlipwayError extends Error {
  /** True when retrying the same call may succeed (the ASL retries only these). */
  readonly transient: boolean = false;
  readonly context: Record<string, unknown>;

  constructor(name: ErrorName, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.context = options.context ?? {};
  }
}

/** A provider call failed in a way that a retry may fix (timeouts, 5xx, 429, ambiguous results). */
export class ProviderUnavailableError extends SlipwayError {
  override readonly transient = true;
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.ProviderUnavailable, message, options);
  }
}

/** The provider has no capacity for the request in that region. */
export class ProviderCapacityError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.ProviderCapacity, message, options);
  }
}

/** The provider does not know the resource. */
export class ProviderResourceNotFoundError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.ProviderResourceNotFound, message, options);
  }
}

/** A volume cannot be deleted while a machine mounts it. */
export class VolumeAttachedError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.VolumeAttached, message, options);
  }
}

/** The machine has not reached the wanted state yet; the workflow retries with backoff. */
export class MachineNotReadyError extends SlipwayError {
  override readonly transient = true;
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.MachineNotReady, message, options);
  }
}

/** The machine stopped or failed its health check instead of starting. */
export class MachineStartFailedError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.MachineStartFailed, message, options);
  }
}

/** A provider resource does not carry the ownership tags we expect: never touch it. */
export class OwnershipMismatchError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.OwnershipMismatch, message, options);
  }
}

/** A fenced write found that another operation owns the instance now. */
export class ClaimLostError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.ClaimLost, message, options);
  }
}

/** A fenced write found that the owner's reservation no longer belongs to this provision. */
export class ReservationLostError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.ReservationLost, message, options);
  }
}

/** Compensation could not prove that nothing was left behind. */
export class CleanupUnverifiedError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.CleanupUnverified, message, options);
  }
}

/** A step received input that does not match its schema (a wiring bug, never retried). */
export class InvalidStepInputError extends SlipwayError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.InvalidStepInput, message, options);
  }
}

/** Type guard for errors a retry may fix. */
export function isTransient(error: unknown): boolean {
  return error instanceof SlipwayError && error.transient;
}

/** Best-effort message of any thrown value, for stored error fields. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
