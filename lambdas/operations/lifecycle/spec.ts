/** The lifecycle operations an owner asks for on an existing instance: start, stop, restart, destroy. */
import type { OperationSpec } from '../operation-spec';

export const startOperation = {
  claim: { from: ['stopped'], to: 'starting' },
  claimTimeoutSeconds: 300,
  errorField: 'lastStartError',
  settleStarts: [],
  lifecycle: { method: 'post', path: '/v1/instances/{id}/start', summary: 'Start the instance', command: 'Start an instance', endsIn: 'FinishOperation' },
  // A cancel records the machine's real state.
  cancel: { cancellable: true },
} as const satisfies OperationSpec;

export const stopOperation = {
  claim: { from: ['running'], to: 'stopping' },
  claimTimeoutSeconds: 300,
  errorField: 'lastStopError',
  settleStarts: [],
  lifecycle: { method: 'post', path: '/v1/instances/{id}/stop', summary: 'Stop the instance', command: 'Stop an instance', endsIn: 'FinishOperation' },
  cancel: { cancellable: true },
} as const satisfies OperationSpec;

export const restartOperation = {
  // Restart shows `restarting` from claim to finish, so polls never see a transient `stopped`.
  claim: { from: ['running', 'stopped'], to: 'restarting' },
  claimTimeoutSeconds: 300,
  errorField: 'lastStartError',
  settleStarts: [],
  lifecycle: { method: 'post', path: '/v1/instances/{id}/restart', summary: 'Restart the instance', command: 'Restart an instance', endsIn: 'FinishOperation' },
  cancel: { cancellable: true },
} as const satisfies OperationSpec;

export const destroyOperation = {
  // A destroy that failed leaves `destroying` without a claim: it stays retryable.
  claim: { from: ['running', 'stopped', 'failed', 'destroying'], to: 'destroying' },
  claimTimeoutSeconds: 900,
  errorField: 'lastDestroyError',
  settleStarts: [],
  lifecycle: { method: 'delete', path: '/v1/instances/{id}', summary: 'Destroy the instance (machine and volume)', command: 'Destroy an instance (machine and volume)', endsIn: 'TombstoneInstance' },
  // Stopped half-way it would leave a machine without its volume or the reverse; retried to its end it leaves neither.
  cancel: { cancellable: false, why: 'a destroy runs to its end (retried until it finishes), never half-way' },
} as const satisfies OperationSpec;
