/** Refusals of the domain: what a caller or operator asked for cannot be done now (each maps to a problem `code`). */

import { ErrorNames, SlipwayError, type ErrorOptions } from './core';

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

/** Another live instance of the owner already has this name. */
export class NameTakenError extends SlipwayError {
  constructor(readonly instanceName: string, readonly instanceId: string, options: ErrorOptions = {}) {
    super(ErrorNames.NameTaken, `The name "${instanceName}" is taken by instance ${instanceId}; names are unique per owner.`, options);
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

/** A cancel of an operation that has already ended (without a cancel): nothing is left to stop. */
export class OperationEndedError extends SlipwayError {
  constructor(readonly instanceId: string, readonly executionName: string, options: ErrorOptions = {}) {
    super(ErrorNames.OperationEnded, `Operation ${executionName} of instance ${instanceId} has already ended; there is nothing to cancel.`, options);
  }
}

/** A cancel of an operation that is never cancelled (a destroy, a recovery): it runs to its end. */
export class OperationNotCancellableError extends SlipwayError {
  constructor(readonly instanceId: string, readonly executionName: string, readonly kind: string, why: string, options: ErrorOptions = {}) {
    super(ErrorNames.OperationNotCancellable, `Operation ${executionName} (${kind}) cannot be cancelled: ${why}`, options);
  }
}
