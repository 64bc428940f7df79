import { InstanceBusyError, InvalidStateError } from '../../shared/errors/refusals';

/** An operation the sweep asked for was refused because another one won the claim: not a failure. */
export function isClaimRefused(error: unknown): boolean {
  return error instanceof InstanceBusyError || error instanceof InvalidStateError;
}
