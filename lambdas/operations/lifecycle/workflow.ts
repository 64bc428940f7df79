/** The lifecycle workflows of an existing instance: start, stop, restart, destroy. */
import { stateMachine, task, type StateMachineDefinition } from '../workflow-builder';
import { TO_RECORD_FAILURE, finishOperation, mountStartWait, recordFailureTail } from './fragments';
import { StopMachine } from '../machine/handlers/stop-machine';
import { DestroyResources } from './handlers/destroy-resources';
import { TombstoneInstance } from './handlers/tombstone-instance';

const provider = { provider: '$.provider' } as const;

/** Start a stopped instance. */
export const start: StateMachineDefinition = stateMachine(
  'Start a stopped instance: repair its mount if needed, start the machine, wait until healthy. A failure shows `stopped` with lastStartError.',
  [...mountStartWait('FinishOperation'), finishOperation('start'), ...recordFailureTail('start')],
);

/** Stop a running instance. */
export const stop: StateMachineDefinition = stateMachine('Stop a running instance. A failure shows the real provider state with lastStopError.', [
  task(StopMachine, { parameters: provider, resultPath: '$.stopped', next: 'FinishOperation', catch: TO_RECORD_FAILURE }),
  finishOperation('stop'),
  ...recordFailureTail('stop'),
]);

/** Restart: stop, then the same mount → start → wait as start; `restarting` throughout. */
export const restart: StateMachineDefinition = stateMachine(
  'Restart an instance; it reads `restarting` from claim to finish, never a transient `stopped`. A failure shows the real provider state with lastStartError.',
  [
    task(StopMachine, { parameters: provider, resultPath: '$.stopped', next: 'EnsureMachineMount', catch: TO_RECORD_FAILURE }),
    ...mountStartWait('FinishOperation'),
    finishOperation('restart'),
    ...recordFailureTail('restart'),
  ],
);

/** Destroy machine and volume, then tombstone. */
export const destroy: StateMachineDefinition = stateMachine(
  'Destroy an instance: machine and volume (ownership tags verified), then tombstone it, free its quota, release its reservation. A failure records lastDestroyError and stays retryable.',
  [
    task(DestroyResources, {
      comment: 'Destroy everything tagged with this instance and verify the inventory is empty.',
      parameters: provider,
      resultPath: '$.cleanup',
      next: 'TombstoneInstance',
      catch: TO_RECORD_FAILURE,
    }),
    task(TombstoneInstance, {
      comment: 'Tombstone (TTL), free quota, release any reservation pointing here; fenced by the claim.',
      resultPath: '$.finished',
      catch: TO_RECORD_FAILURE,
    }),
    ...recordFailureTail('destroy'),
  ],
);
