/** The recover operation: replace a machine that died, on a volume forked from its own. */
import type { OperationSpec } from '../operation-spec';

export const recoverOperation = {
  // The sweep recovers a running instance whose machine died; an operator may force one on a running
  // one. A stopped instance is refused: a recovery ends running, and the owner stopped it.
  claim: { from: ['running'], to: 'recovering' },
  claimTimeoutSeconds: 900,
  errorField: 'lastRecoveryError',
  // A lost forced recovery that had not cut over starts the old machine again.
  settleStarts: ['start'],
  // slipway's own repair of a dead machine: cancelled, the sweep would only start it again.
  cancel: { cancellable: false, why: 'a recovery is the system repairing a dead machine' },
} as const satisfies OperationSpec;
