/** The provision operation: admit a new instance and make its volume and machine. */
import type { OperationSpec } from '../operation-spec';

export const provisionOperation = {
  claim: null,
  claimTimeoutSeconds: 900,
  errorField: 'lastStartError',
  // One that never started (admitted, no execution) is started by its deterministic name.
  settleStarts: ['provision'],
  // A cancel compensates it: what it made destroyed and verified, reservation and quota slot released.
  cancel: { cancellable: true },
} as const satisfies OperationSpec;
