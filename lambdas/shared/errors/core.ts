/**
 * Named errors: the names, the base class and the messages. Step Functions `Retry`/`Catch` blocks match on `error.name`, so every name is an
 * exported constant and `test/unit/asl-lint.test.ts` checks that each name the ASL mentions exists.
 */
import { causeMessage } from '../execution-progress';

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
  // The store's decoding of a write that lost its condition (lambdas/store/errors.ts); use cases catch these by class.
  ConditionFailed: 'ConditionFailed',
  TransactionConditionFailed: 'TransactionConditionFailed',
  TransactionConflict: 'TransactionConflict',
  // Cancelling an operation.
  OperationEnded: 'OperationEnded',
  OperationNotCancellable: 'OperationNotCancellable',
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

  constructor(name: ErrorName, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.context = options.context ?? {};
  }
}

/** Best-effort message of any thrown value, for stored error fields. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

/** Longest message a caller is shown. */
const PUBLIC_MESSAGE_LENGTH = 500;

/**
 * A message fit for callers: the error message only — no stack frames, no runtime payload fields
 * (`trace`, `stack`), no file paths (a provider's or the runtime's, replaced by `<path>`), at most
 * 500 characters. Operators keep the stored original in the admin views and the logs.
 */
export function publicMessage(text: string): string {
  const message = (causeMessage(text) ?? text)
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

/** Options every named error takes. */
export type ErrorOptions = { cause?: unknown; context?: Record<string, unknown> };
