/**
 * The switch workflow: stop the old machine → provider write → provision on the target through the
 * provision's own steps (volume, machine, wait healthy) → retire the old machine → commit. The
 * pre-claim happened before it started (the API's one conditional write), so every failure after
 * it rolls back under the claim: destroy what the target got, restore the old provider, start the
 * old machine again if it ran, and record `lastSwitchError`.
 */
import { ErrorNames } from '../../shared/errors/core';
import { choice, failAs, failWith, pass, stateMachine, task, type CatchTarget, type StateMachineDefinition } from '../workflow-builder';
import { EnsureMachineMount } from '../machine/handlers/ensure-machine-mount';
import { StartMachine } from '../machine/handlers/start-machine';
import { StopMachine } from '../machine/handlers/stop-machine';
import { WaitMachineStarted } from '../machine/handlers/wait-machine-started';
import { CreateMachine } from '../provision/handlers/create-machine';
import { CreateVolume } from '../provision/handlers/create-volume';
import { CommitSwitch } from './handlers/commit-switch';
import { RecordSwitchFailure } from './handlers/record-switch-failure';
import { RetireSwitchedFrom } from './handlers/retire-switched-from';
import { RollbackSwitch } from './handlers/rollback-switch';
import { WriteSwitchTarget } from './handlers/write-switch-target';

const TO_ROLLBACK: CatchTarget = { next: 'RollbackSwitch', resultPath: '$.failure' };
/** A failure while restarting the old machine still ends in the failure record (with the real state). */
const TO_RECORD: CatchTarget = { next: 'RecordSwitchFailure', resultPath: '$.restartFailure' };
const onTarget = { provider: '$.to.provider' } as const;
const onOld = { provider: '$.from.provider' } as const;
const generation = { generation: '$.generation' } as const;

/** Switch an instance to another provider. */
export const switchProvider: StateMachineDefinition = stateMachine(
  'Switch an instance to another provider: stop the old machine, write the target provider (fenced), provision on the target through the provision steps (data copied where the providers can carry it), retire the old machine, commit (old volume retained). Any failure rolls back under the claim.',
  [
    task(StopMachine, {
      comment: 'Stop the old machine (retried); a failure here rolls back at once.',
      parameters: onOld,
      resultPath: '$.stopped',
      next: 'WriteSwitchTarget',
      catch: TO_ROLLBACK,
    }),
    task(WriteSwitchTarget, {
      comment: 'The provider write, fenced by the claim: the instance names the target and remembers where it came from.',
      parameters: { status: '$.from.status' },
      resultPath: '$.switched',
      next: 'CreateVolume',
      catch: TO_ROLLBACK,
    }),
    task(CreateVolume, {
      comment: 'The provision step: create or adopt the volume on the target, seeded from the old one when the data goes along.',
      parameters: {
        ...onTarget,
        region: '$.to.region',
        sizeGb: '$.volumeSizeGb',
        ...generation,
        data: '$.data',
        seedFrom: { provider: '$.from.provider', volumeId: '$.switched.volumeId' },
      },
      resultPath: '$.volume',
      next: 'CreateMachine',
      catch: TO_ROLLBACK,
    }),
    task(CreateMachine, {
      comment: 'The provision step: create or adopt the machine on the new volume (left stopped when the instance was stopped).',
      parameters: { ...onTarget, region: '$.to.region', size: '$.to.size', image: '$.image', volumeId: '$.volume.volumeId', start: '$.startNewMachine', ...generation },
      resultPath: '$.machine',
      next: 'WasRunning',
      catch: TO_ROLLBACK,
    }),
    choice('WasRunning', 'A running instance runs on the target before the commit; a stopped one stays stopped.', [{ variable: '$.startNewMachine', equals: true, next: 'WaitMachineStarted' }], 'LeaveNewMachineStopped'),
    task(WaitMachineStarted, {
      comment: 'The provision step: wait until the new machine is started and healthy.',
      parameters: { ...onTarget, machineId: '$.machine.machineId' },
      resultPath: '$.started',
      next: 'RetireSwitchedFrom',
      catch: TO_ROLLBACK,
    }),
    pass('LeaveNewMachineStopped', 'The instance was stopped: it has no endpoint until it is started.', { endpoint: null }, '$.started', 'RetireSwitchedFrom'),
    task(RetireSwitchedFrom, {
      comment: 'Destroy the old machine (ownership verified); the old volume stays for the commit to retain.',
      resultPath: '$.retired',
      next: 'CommitSwitch',
      catch: TO_ROLLBACK,
    }),
    task(CommitSwitch, {
      comment: 'One transaction: the instance on its new provider (as running or stopped as it was), claim released, old volume retained.',
      parameters: { oldVolume: '$.retired.oldVolume', endpoint: '$.started.endpoint' },
      resultPath: '$.committed',
      catch: TO_ROLLBACK,
    }),
    task(RollbackSwitch, {
      comment: 'Destroy what the target got (verified) and point the instance at its old provider again, fenced by the claim.',
      resultPath: '$.rollback',
      next: 'RestartOldMachine',
      catch: { next: 'SwitchRollbackUnverified', resultPath: '$.rollbackFailure' },
    }),
    choice('RestartOldMachine', 'Start the old machine again if the instance was running.', [{ variable: '$.rollback.restartOld', equals: true, next: 'EnsureMachineMountOnOldProvider' }], 'RecordSwitchFailure'),
    task(EnsureMachineMount, {
      as: 'EnsureMachineMountOnOldProvider',
      comment: 'The shared mount-repair helper, on the old provider: the old machine (or a new one on the old volume).',
      parameters: onOld,
      resultPath: '$.mount',
      next: 'StartMachineOnOldProvider',
      catch: TO_RECORD,
    }),
    task(StartMachine, {
      as: 'StartMachineOnOldProvider',
      parameters: { ...onOld, machineId: '$.mount.machineId' },
      resultPath: '$.restart',
      next: 'WaitMachineStartedOnOldProvider',
      catch: TO_RECORD,
    }),
    task(WaitMachineStarted, {
      as: 'WaitMachineStartedOnOldProvider',
      parameters: { ...onOld, machineId: '$.mount.machineId' },
      resultPath: '$.restarted',
      next: 'RecordSwitchFailure',
      catch: TO_RECORD,
    }),
    task(RecordSwitchFailure, {
      comment: "Release the claim with the old machine's real state and lastSwitchError, fenced by the claim.",
      parameters: { failure: '$.failure' },
      resultPath: '$.recorded',
      next: 'SwitchFailed',
      catch: { next: 'SwitchFailureNotRecorded', resultPath: '$.recordFailure' },
    }),
    failWith('SwitchFailed', 'The switch failed and was rolled back; the instance shows lastSwitchError.', '$.failure'),
    failAs(
      'SwitchRollbackUnverified',
      ErrorNames.CleanupUnverified,
      'The rollback could not prove the target clean: the instance stays switching, for the reconcile sweep to finish the rollback.',
      '$.rollbackFailure',
    ),
    failAs('SwitchFailureNotRecorded', ErrorNames.FailureNotRecorded, 'Recording the failure failed; the reconcile sweep finds the held claim.', '$.recordFailure'),
  ],
);
