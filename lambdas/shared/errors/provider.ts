/** Errors a compute provider adapter throws (ports: `lambdas/providers/compute-provider.ts`). */

import { ErrorNames, SlipwayError, type ErrorOptions } from './core';

/** A provider call failed in a way that a retry may fix (timeouts, 5xx, 429, ambiguous results). */
export class ProviderUnavailableError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.ProviderUnavailable, message, options);
  }
}

/** The provider has no capacity for the request in that region. */
export class ProviderCapacityError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.ProviderCapacity, message, options);
  }
}

/** The provider does not know the resource. */
export class ProviderResourceNotFoundError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.ProviderResourceNotFound, message, options);
  }
}

/** A volume cannot be deleted while a machine mounts it. */
export class VolumeAttachedError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.VolumeAttached, message, options);
  }
}

/** A machine of that name already exists (Fly: 409 `already_exists`); `existingMachineId` when the answer names it. */
export class MachineNameTakenError extends SlipwayError {
  constructor(message: string, readonly existingMachineId: string | null, options: ErrorOptions = {}) {
    super(ErrorNames.MachineNameTaken, message, options);
  }
}

/** The machine has not reached the wanted state yet; the workflow retries with backoff. */
export class MachineNotReadyError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.MachineNotReady, message, options);
  }
}

/** The machine stopped or failed its health check instead of starting. */
export class MachineStartFailedError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.MachineStartFailed, message, options);
  }
}

/** A provider resource does not carry the ownership tags we expect: never touch it. */
export class OwnershipMismatchError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.OwnershipMismatch, message, options);
  }
}

/** The provider refused the request for good (a 4xx that no retry fixes); carries its message. */
export class ProviderRejectedError extends SlipwayError {
  constructor(message: string, readonly status: number, options: ErrorOptions = {}) {
    super(ErrorNames.ProviderRejected, message, options);
  }
}

/** The two providers cannot carry a volume's data between them (say `data: "fresh"` to switch without it). */
export class DataTransferUnsupportedError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.DataTransferUnsupported, message, options);
  }
}
