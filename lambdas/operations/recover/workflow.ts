/** The recovery workflow (`recover`): replace a machine that died, on a volume forked from its own, in one shot. */
import { ErrorNames } from '../../shared/errors/core';
import { failAs, failWith, stateMachine, task, type CatchTarget, type StateMachineDefinition } from '../workflow-builder';
import { StopMachine } from '../machine/handlers/stop-machine';
import { WaitMachineStarted } from '../machine/handlers/wait-machine-started';
import { CreateMachine } from '../provision/handlers/create-machine';
import { CutOverRecovery } from './handlers/cut-over-recovery';
import { FailRecovery } from './handlers/fail-recovery';
import { FinishRecovery } from './handlers/finish-recovery';
import { ForkVolume } from './handlers/fork-volume';
import { RetireOldResources } from './handlers/retire-old-resources';

const TO_FAIL_RECOVERY: CatchTarget = { next: 'FailRecovery', resultPath: '$.failure' };
const provider = { provider: '$.provider' } as const;

/** Recover one instance. */
export const recover: StateMachineDefinition = stateMachine(
  'Recover an instance whose machine stopped unexpectedly (or as an operator forced): fork a replacement volume from its own, start a new machine on it, cut over in one fenced transaction, then retire the old machine and volume (retained 7 days when it has snapshots). Any failure before the cut-over destroys what the recovery made, never the old volume, and leaves the instance stopped with lastRecoveryError and a cooldown.',
  [
    task(StopMachine, {
      comment: 'The old machine must not write to the volume being forked (a forced recovery of a running instance); a dead one is left as is.',
      parameters: provider,
      resultPath: '$.stopped',
      next: 'ForkVolume',
      catch: TO_FAIL_RECOVERY,
    }),
    task(ForkVolume, {
      comment: "Record the replacement volume's name on the instance, then fork it from the old one (or adopt the fork an earlier attempt made), then record its id.",
      parameters: { ...provider, trigger: '$$.Execution.Input.trigger', reason: '$$.Execution.Input.reason' },
      resultPath: '$.volume',
      next: 'CreateMachine',
      catch: TO_FAIL_RECOVERY,
    }),
    task(CreateMachine, {
      comment: 'A new machine on the replacement volume; the old machine is spared until the cut-over.',
      parameters: { ...provider, purpose: 'recovery', volumeId: '$.volume.volumeId' },
      resultPath: '$.machine',
      next: 'WaitMachineStarted',
      catch: TO_FAIL_RECOVERY,
    }),
    task(WaitMachineStarted, {
      comment: 'Wait for the new machine to start and answer its health check.',
      parameters: { ...provider, machineId: '$.machine.machineId' },
      resultPath: '$.started',
      next: 'CutOverRecovery',
      catch: TO_FAIL_RECOVERY,
    }),
    task(CutOverRecovery, {
      comment: "One fenced transaction: the instance on the new machine and volume, the old volume's retention when it has snapshots.",
      parameters: { ...provider, endpoint: '$.started.endpoint' },
      resultPath: '$.cutOver',
      next: 'RetireOldResources',
      catch: TO_FAIL_RECOVERY,
    }),
    task(RetireOldResources, {
      comment: 'Destroy the old machine; delete the old volume unless retained. Ownership verified. A failure here does not undo the recovery: the orphan collection removes what is left.',
      parameters: provider,
      resultPath: '$.retired',
      next: 'FinishRecovery',
      catch: { next: 'FinishRecovery', resultPath: '$.retired' },
    }),
    task(FinishRecovery, {
      comment: 'Release the claim as running, with the cooldown; fenced by the claim.',
      parameters: { ...provider, retired: '$.retired' },
      resultPath: '$.finished',
      catch: { next: 'FailureNotRecorded', resultPath: '$.recordFailure' },
    }),
    task(FailRecovery, {
      comment: 'Destroy what the recovery made (never the old volume); stopped with lastRecoveryError and the cooldown, fenced by the claim. After a cut-over it rolls forward instead.',
      parameters: { ...provider, failure: '$.failure' },
      resultPath: '$.recorded',
      next: 'RecoveryFailed',
      catch: { next: 'FailureNotRecorded', resultPath: '$.recordFailure' },
    }),
    failWith('RecoveryFailed', 'The recovery failed; what it made is gone and the instance shows lastRecoveryError.', '$.failure'),
    failAs(
      'FailureNotRecorded',
      ErrorNames.FailureNotRecorded,
      'Recording the outcome failed (e.g. the claim was lost); the execution-closed listener and the reconcile sweep settle the recovery.',
      '$.recordFailure',
    ),
  ],
);
