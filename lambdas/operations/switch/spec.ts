/** The switch operation: move an instance to another provider, or roll back. */
import type { OperationSpec } from '../operation-spec';

export const switchOperation = {
  // The pre-claim of a provider switch: nothing is stopped or written before it is won.
  claim: { from: ['running', 'stopped'], to: 'switching' },
  claimTimeoutSeconds: 1800,
  errorField: 'lastSwitchError',
  // A lost switch is rolled back, then the old machine starts again if it ran.
  settleStarts: ['start'],
  // A cancel rolls it back (the old machine started again if it was running).
  cancel: { cancellable: true },
} as const satisfies OperationSpec;
