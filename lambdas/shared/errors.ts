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
  MachineNameTaken: 'MachineNameTaken',
  MachineNotReady: 'MachineNotReady',
  MachineStartFailed: 'MachineStartFailed',
  OwnershipMismatch: 'OwnershipMismatch',
  ProviderRejected: 'ProviderRejected',
  DataTransferUnsupported: 'DataTransferUnsupported',
  // Workflow and state faults.
  ClaimLost: 'ClaimLost',
  ReservationLost: 'ReservationLost',
  CleanupUnverified: 'CleanupUnverified',
  InvalidStepInput: 'InvalidStepInput',
  // How a workflow ends when even its failure handling failed (Fail states; the sweep settles these).
  FailureNotRecorded: 'FailureNotRecorded',
  ProvisionNeedsReconciliation: 'ProvisionNeedsReconciliation',
  CompensationFailed: 'CompensationFailed',
  // Admission and API faults.
  ProvisionInProgress: 'ProvisionInProgress',
  ReconciliationPending: 'ReconciliationPending',
  IdempotencyKeyReused: 'IdempotencyKeyReused',
  QuotaExceeded: 'QuotaExceeded',
  InstanceNotFound: 'InstanceNotFound',
  OwnerNotFound: 'OwnerNotFound',
  InstanceBusy: 'InstanceBusy',
  InvalidState: 'InvalidState',
  AlreadySwitching: 'AlreadySwitching',
  ProviderMismatch: 'ProviderMismatch',
  SameProvider: 'SameProvider',
  ContentionTimeout: 'ContentionTimeout',
  Unauthorized: 'Unauthorized',
  Forbidden: 'Forbidden',
  ValidationFailed: 'ValidationFailed',
  UnsupportedMediaType: 'UnsupportedMediaType',
  UnknownProvider: 'UnknownProvider',
  UnsupportedPlacement: 'UnsupportedPlacement',
  PayloadTooLarge: 'PayloadTooLarge',
  MalformedBody: 'MalformedBody',
  InvalidCursor: 'InvalidCursor',
  NotFound: 'NotFound',
  MethodNotAllowed: 'MethodNotAllowed',
  SweepRunning: 'SweepRunning',
  ExecutionStillRunning: 'ExecutionStillRunning',
  ExecutionNotFound: 'ExecutionNotFound',
  ReservationNotFound: 'ReservationNotFound',
  ReservationNotReleasable: 'ReservationNotReleasable',
  WorkflowUnavailable: 'WorkflowUnavailable',
  // Retained volumes (operator API).
  VolumeNotFound: 'VolumeNotFound',
  VolumeInUse: 'VolumeInUse',
  VolumeOwnershipUnverified: 'VolumeOwnershipUnverified',
  VolumeDeleteFailed: 'VolumeDeleteFailed',
  // An HTTP-level refusal a framework middleware made (its own status kept).
  HttpStatus: 'HttpStatus',
  // A dependency (the table) did not answer, or answered that it is overloaded.
  ServiceUnavailable: 'ServiceUnavailable',
  NameTaken: 'NameTaken',
} as const;

export type ErrorName = (typeof ErrorNames)[keyof typeof ErrorNames];

/** How Step Functions retries one transient error (the fields of an ASL `Retry` entry). */
export interface RetryPolicy {
  intervalSeconds: number;
  maxAttempts: number;
  backoffRate: number;
  maxDelaySeconds: number;
}

/**
 * The errors a retry may fix, each with how a workflow retries it. The one list: an error's
 * `transient` flag and the ASL retriers (built from each catalog entry's `transientErrors`) follow it.
 */
export const TRANSIENT_ERRORS = {
  // Timeouts, 5xx, 429 and ambiguous results of a provider call.
  [ErrorNames.ProviderUnavailable]: { intervalSeconds: 1, maxAttempts: 4, backoffRate: 2, maxDelaySeconds: 10 },
  // A machine on its way to the wanted state: poll with a gentler backoff for up to about a minute.
  [ErrorNames.MachineNotReady]: { intervalSeconds: 2, maxAttempts: 8, backoffRate: 1.5, maxDelaySeconds: 15 },
  // API-side: concurrent transactions on the same items, and a workflow service that did not answer.
  [ErrorNames.ContentionTimeout]: { intervalSeconds: 1, maxAttempts: 3, backoffRate: 2, maxDelaySeconds: 8 },
  [ErrorNames.WorkflowUnavailable]: { intervalSeconds: 2, maxAttempts: 3, backoffRate: 2, maxDelaySeconds: 10 },
} as const satisfies Partial<Record<ErrorName, RetryPolicy>>;

/** The name of an error a retry may fix. */
export type TransientErrorName = keyof typeof TRANSIENT_ERRORS;

/** Whether errors of this name are worth retrying. */
export function isTransientName(name: string): name is TransientErrorName {
  return Object.hasOwn(TRANSIENT_ERRORS, name);
}

/** Base class: a stable `name`, optional context for logs, and the standard `cause`. */
export class SlipwayError extends Error {
  /** True when retrying the same call may succeed: the name is in TRANSIENT_ERRORS. */
  get transient(): boolean {
    return isTransientName(this.name);
  }
  readonly context: Record<string, unknown>;

  constructor(name: ErrorName, message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.context = options.context ?? {};
  }
}

/** A provider call failed in a way that a retry may fix (timeouts, 5xx, 429, ambiguous results). */
export class ProviderUnavailableError extends SlipwayError {
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

/** A machine of that name already exists (Fly: 409 `already_exists`); `existingMachineId` when the answer names it. */
export class MachineNameTakenError extends SlipwayError {
  constructor(message: string, readonly existingMachineId: string | null, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(ErrorNames.MachineNameTaken, message, options);
  }
}

/** The machine has not reached the wanted state yet; the workflow retries with backoff. */
export class MachineNotReadyError extends SlipwayError {
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

/**
 * The message inside a Step Functions `Cause`: the Lambda runtime's error payload
 * (`{"errorType", "errorMessage", "trace"}`) gives its `errorMessage`; any other text is returned as is.
 */
export function causeMessage(cause: string): string {
  const trimmed = cause.trim();
  if (!trimmed.startsWith('{')) return cause;
  try {
    const parsed = JSON.parse(trimmed) as { errorMessage?: unknown };
    return typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
  } catch {
    return cause;
  }
}

/** Longest message a caller is shown. */
const PUBLIC_MESSAGE_LENGTH = 500;

/**
 * A message fit for callers: the error message only — no stack frames, no runtime payload fields
 * (`trace`, `stack`), no file paths (a provider's or the runtime's, replaced by `<path>`), at most
 * 500 characters. Operators keep the stored original in the admin views and the logs.
 */
export function publicMessage(text: string): string {
  const message = causeMessage(text)
    // Stack frames, whether on their own lines or run together.
    .replace(/\s*\bat\s+(?:async\s+)?(?:[^\s()]+\s+)?\(?(?:file:\/\/|node:|\/|[A-Za-z]:\\)[^\s)]*:\d+(?::\d+)?\)?/g, '')
    // A runtime payload embedded in a longer text.
    .replace(/,?\s*"(?:trace|stack|stackTrace)"\s*:\s*(?:\[[^\]]*\]|"(?:[^"\\]|\\.)*")/g, '')
    // Absolute paths (POSIX, file: URLs, Windows); a URL's own path is kept.
    .replace(/(?:file:\/\/)?(?<![\w.:/-])\/(?:[\w.@+-]+\/)+[\w.@+-]*/g, '<path>')
    .replace(/\b[A-Za-z]:\\(?:[^\\\s'"]+\\)+[^\\\s'"]*/g, '<path>')
    .replace(/\s+/g, ' ')
    .trim();
  return message.length > PUBLIC_MESSAGE_LENGTH ? `${message.slice(0, PUBLIC_MESSAGE_LENGTH - 1)}…` : message;
}

type ErrorOptions = { cause?: unknown; context?: Record<string, unknown> };

/** The owner already has an unresolved reservation held by another instance. */
export class ProvisionInProgressError extends SlipwayError {
  constructor(readonly instanceId: string, options: ErrorOptions = {}) {
    super(ErrorNames.ProvisionInProgress, `A provision is already in progress for this owner (instance ${instanceId}).`, options);
  }
}

/** The owner's last provision left resources the reconcile sweep must clean up first. */
export class ReconciliationPendingError extends SlipwayError {
  constructor(readonly instanceId: string, options: ErrorOptions = {}) {
    super(ErrorNames.ReconciliationPending, `The owner's last provision (instance ${instanceId}) awaits reconciliation.`, options);
  }
}

/** The same Idempotency-Key was sent with a different request. */
export class IdempotencyKeyReusedError extends SlipwayError {
  constructor(options: ErrorOptions = {}) {
    super(ErrorNames.IdempotencyKeyReused, 'This Idempotency-Key was already used with a different request body.', options);
  }
}

/** The owner has as many live instances as its limit allows. */
export class QuotaExceededError extends SlipwayError {
  constructor(readonly limit: number, options: ErrorOptions = {}) {
    super(ErrorNames.QuotaExceeded, `The owner already has its limit of ${limit} instances.`, options);
  }
}

/** No instance with that id is visible to the caller. */
export class InstanceNotFoundError extends SlipwayError {
  constructor(instanceId: string, options: ErrorOptions = {}) {
    super(ErrorNames.InstanceNotFound, `Instance ${instanceId} was not found.`, options);
  }
}

/** Another operation holds the instance's claim. */
export class InstanceBusyError extends SlipwayError {
  constructor(readonly instanceId: string, readonly heldBy: string | null, options: ErrorOptions = {}) {
    super(ErrorNames.InstanceBusy, `Instance ${instanceId} is busy with another operation${heldBy ? ` (${heldBy})` : ''}.`, options);
  }
}

/** A switch of this instance already holds it. */
export class AlreadySwitchingError extends SlipwayError {
  constructor(readonly instanceId: string, readonly heldBy: string, options: ErrorOptions = {}) {
    super(ErrorNames.AlreadySwitching, `Instance ${instanceId} is already switching provider (${heldBy}).`, options);
  }
}

/** The caller expected the instance on another provider than the one it is on. */
export class ProviderMismatchError extends SlipwayError {
  constructor(readonly instanceId: string, readonly expected: string, readonly actual: string, options: ErrorOptions = {}) {
    super(ErrorNames.ProviderMismatch, `Instance ${instanceId} is on provider ${actual}, not ${expected}.`, options);
  }
}

/** A switch to the provider the instance is already on. */
export class SameProviderError extends SlipwayError {
  constructor(readonly instanceId: string, readonly provider: string, options: ErrorOptions = {}) {
    super(ErrorNames.SameProvider, `Instance ${instanceId} is already on provider ${provider}.`, options);
  }
}

/** The instance's status does not allow the operation. */
export class InvalidStateError extends SlipwayError {
  constructor(readonly instanceId: string, readonly status: string, operation: string, options: ErrorOptions = {}) {
    super(ErrorNames.InvalidState, `Cannot ${operation} instance ${instanceId} while it is ${status}.`, options);
  }
}

/** DynamoDB kept cancelling our transaction for concurrent ones; the caller should retry soon. */
export class ContentionTimeoutError extends SlipwayError {
  constructor(options: ErrorOptions = {}) {
    super(ErrorNames.ContentionTimeout, 'Too many concurrent requests touched the same records; retry shortly.', options);
  }
}

/** The request carries no valid token. */
export class UnauthorizedError extends SlipwayError {
  constructor(message = 'A valid bearer token is required.', options: ErrorOptions = {}) {
    super(ErrorNames.Unauthorized, message, options);
  }
}

/** The token is valid but does not allow this. */
export class ForbiddenError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.Forbidden, message, options);
  }
}

/** The request does not match its schema. */
export class ValidationFailedError extends SlipwayError {
  constructor(message: string, readonly issues: Array<{ path: string; message: string }> = [], options: ErrorOptions = {}) {
    super(ErrorNames.ValidationFailed, message, options);
  }
}

/** The workflow service did not take the execution; the admission stands and a replay starts it. */
export class WorkflowUnavailableError extends SlipwayError {
  constructor(readonly executionName: string, options: ErrorOptions = {}) {
    super(ErrorNames.WorkflowUnavailable, `The operation was recorded but its workflow could not be started yet (${executionName}); retry with the same Idempotency-Key.`, options);
  }
}

/** The caller may not act for (or see) that owner; reads as not found so owners cannot be probed. */
export class OwnerNotFoundError extends SlipwayError {
  constructor(owner: string, options: ErrorOptions = {}) {
    super(ErrorNames.OwnerNotFound, `Owner ${owner} was not found.`, options);
  }
}

/** The owner has no reservation item at all. */
export class ReservationNotFoundError extends SlipwayError {
  constructor(readonly owner: string, options: ErrorOptions = {}) {
    super(ErrorNames.ReservationNotFound, `Owner ${owner} has no reservation.`, options);
  }
}

/** The reservation is already resolved (`completed` or `released`): there is nothing to release. */
export class ReservationNotReleasableError extends SlipwayError {
  constructor(readonly owner: string, readonly status: string, options: ErrorOptions = {}) {
    super(ErrorNames.ReservationNotReleasable, `The reservation of ${owner} is ${status}; only an unresolved reservation can be released.`, options);
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

/** A request body that is not declared as JSON, or a body on a route that takes none. */
export class UnsupportedMediaTypeError extends SlipwayError {
  constructor(readonly contentType: string | null, options: ErrorOptions & { takesNoBody?: boolean } = {}) {
    super(
      ErrorNames.UnsupportedMediaType,
      options.takesNoBody
        ? 'This route takes no request body.'
        : `The request body must be application/json${contentType ? `, not ${contentType}` : ' (no Content-Type was sent)'}.`,
      options,
    );
  }
}

/** A request body over the API's limit. */
export class PayloadTooLargeError extends SlipwayError {
  constructor(readonly limitBytes: number, options: ErrorOptions = {}) {
    super(ErrorNames.PayloadTooLarge, `The request body exceeds ${limitBytes} bytes.`, options);
  }
}

/** A request body that is not valid UTF-8 JSON. */
export class MalformedBodyError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.MalformedBody, message, options);
  }
}

/** A pagination cursor this API did not issue for this listing (forged, altered or another owner's). */
export class InvalidCursorError extends SlipwayError {
  constructor(options: ErrorOptions = {}) {
    super(ErrorNames.InvalidCursor, 'The cursor is not valid for this listing.', options);
  }
}

/** A framework middleware refused the request with an HTTP status of its own (kept as it is). */
export class HttpStatusError extends SlipwayError {
  constructor(readonly status: number, message: string, options: ErrorOptions = {}) {
    super(ErrorNames.HttpStatus, message || `HTTP ${status}`, options);
  }
}

/** The path exists, but not with this method; `allow` lists the methods it takes. */
export class MethodNotAllowedError extends SlipwayError {
  constructor(method: string, path: string, readonly allow: readonly string[], options: ErrorOptions = {}) {
    super(ErrorNames.MethodNotAllowed, `${path} does not take ${method}; it takes ${allow.join(', ')}.`, options);
  }
}

/** A dependency the request needs (the table) did not answer in time or is overloaded; retry soon. */
export class ServiceUnavailableError extends SlipwayError {
  constructor(readonly dependency: string, options: ErrorOptions = {}) {
    super(ErrorNames.ServiceUnavailable, `The ${dependency} did not answer in time or is overloaded; retry shortly (a provision with the same Idempotency-Key).`, options);
  }
}

/** Another live instance of the owner already has this name. */
export class NameTakenError extends SlipwayError {
  constructor(readonly instanceName: string, readonly instanceId: string, options: ErrorOptions = {}) {
    super(ErrorNames.NameTaken, `The name "${instanceName}" is taken by instance ${instanceId}; names are unique per owner.`, options);
  }
}

/** No route matches the path. */
export class RouteNotFoundError extends SlipwayError {
  constructor(method: string, path: string, options: ErrorOptions = {}) {
    super(ErrorNames.NotFound, `No route ${method} ${path}.`, options);
  }
}

/** The provider refused the request for good (a 4xx that no retry fixes); carries its message. */
export class ProviderRejectedError extends SlipwayError {
  constructor(message: string, readonly status: number, options: ErrorOptions = {}) {
    super(ErrorNames.ProviderRejected, message, options);
  }
}

/** The request names a provider this deployment does not run; says which it does. */
export class UnknownProviderError extends SlipwayError {
  constructor(readonly provider: string, readonly available: readonly string[], options: ErrorOptions = {}) {
    super(ErrorNames.UnknownProvider, `No provider named "${provider}" is configured${available.length ? `; choose one of ${available.join(', ')}` : ' (none is)'}.`, options);
  }
}

/** The provider does not offer that region or size; says what it offers. */
export class UnsupportedPlacementError extends SlipwayError {
  constructor(readonly field: 'region' | 'size', readonly value: string, readonly provider: string, readonly available: readonly string[], options: ErrorOptions = {}) {
    super(ErrorNames.UnsupportedPlacement, `Provider ${provider} does not offer ${field} "${value}"; choose one of ${available.join(', ')}.`, options);
  }
}

/** Another run of the sweep holds its lease. */
export class SweepRunningError extends SlipwayError {
  constructor(readonly sweep: string, readonly holder: string | null, options: ErrorOptions = {}) {
    super(ErrorNames.SweepRunning, `The ${sweep} sweep is running${holder ? ` (run ${holder})` : ''}; try again when it finishes.`, options);
  }
}

/** The two providers cannot carry a volume's data between them (say `data: "fresh"` to switch without it). */
export class DataTransferUnsupportedError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.DataTransferUnsupported, message, options);
  }
}

/** slipway keeps no retained volume of that id. */
export class VolumeNotFoundError extends SlipwayError {
  constructor(readonly volumeId: string, options: ErrorOptions = {}) {
    super(ErrorNames.VolumeNotFound, `No retained volume ${volumeId}.`, options);
  }
}

/** A retained volume cannot be deleted now: an operation holds its instance, or another cleanup holds the volume. */
export class VolumeInUseError extends SlipwayError {
  constructor(readonly volumeId: string, readonly heldBy: string | null, options: ErrorOptions = {}) {
    super(ErrorNames.VolumeInUse, `Volume ${volumeId} is in use${heldBy ? ` (${heldBy})` : ''}; try again when it finishes.`, options);
  }
}

/** slipway could not prove a retained volume (or the machine on it) is its instance's: it is never deleted automatically. */
export class VolumeOwnershipUnverifiedError extends SlipwayError {
  constructor(readonly volumeId: string, readonly why: string, options: ErrorOptions = {}) {
    super(ErrorNames.VolumeOwnershipUnverified, `Volume ${volumeId} is not provably slipway's to delete: ${why}`, options);
  }
}

/** The provider failed to delete a retained volume; the try is counted and the volume stays retained. */
export class VolumeDeleteFailedError extends SlipwayError {
  constructor(readonly volumeId: string, message: string, options: ErrorOptions = {}) {
    super(ErrorNames.VolumeDeleteFailed, `Deleting volume ${volumeId} failed: ${message}`, options);
  }
}
