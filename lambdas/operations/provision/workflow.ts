/** The provision workflow: reservation → volume → machine → started → committed, or compensated. */
import { ErrorNames } from '../../shared/errors/core';
import { failAs, failWith, stateMachine, task, type CatchTarget, type StateMachineDefinition } from '../workflow-builder';
import { WaitMachineStarted } from '../machine/handlers/wait-machine-started';
import { CommitProvision } from './handlers/commit-provision';
import { CompensateProvision } from './handlers/compensate-provision';
import { CreateMachine } from './handlers/create-machine';
import { CreateVolume } from './handlers/create-volume';
import { FailProvision } from './handlers/fail-provision';
import { MarkNeedsReconciliation } from './handlers/mark-needs-reconciliation';
import { MarkProviderWorkStarted } from './handlers/mark-provider-work-started';

const TO_COMPENSATION: CatchTarget = { next: 'CompensateProvision', resultPath: '$.failure' };
const TO_COMPENSATION_FAILED: CatchTarget = { next: 'CompensationFailed', resultPath: '$.finalFailure' };
const provider = { provider: '$.provider' } as const;
const reservationVersion = { reservationVersion: '$.reservation.version' } as const;
/** What tags everything the provision makes: its reservation's version. */
const generation = { generation: '$.reservation.version' } as const;

/** Provision one instance. */
export const provision: StateMachineDefinition = stateMachine(
  'Provision one instance: reservation -> volume -> machine -> started -> running. Any failure compensates: destroy what was made (found by ownership tags), then release the reservation, or hand it to the reconcile sweep when cleanup cannot be verified.',
  [
    task(MarkProviderWorkStarted, {
      comment: "Fence the owner's reservation to this provision before any provider call.",
      resultPath: '$.reservation',
      next: 'CreateVolume',
      catch: TO_COMPENSATION,
    }),
    task(CreateVolume, {
      comment: 'Create the volume, or adopt the one an earlier attempt made (found by tags).',
      parameters: { ...provider, region: '$.region', sizeGb: '$.volumeSizeGb', ...generation },
      resultPath: '$.volume',
      next: 'CreateMachine',
      catch: TO_COMPENSATION,
    }),
    task(CreateMachine, {
      comment: 'Create the machine on the volume, or adopt the one an earlier attempt made.',
      parameters: { ...provider, region: '$.region', size: '$.size', image: '$.image', volumeId: '$.volume.volumeId', ...generation },
      resultPath: '$.machine',
      next: 'WaitMachineStarted',
      catch: TO_COMPENSATION,
    }),
    task(WaitMachineStarted, {
      comment: 'Wait for the machine to start and answer its health check.',
      parameters: { ...provider, machineId: '$.machine.machineId' },
      resultPath: '$.started',
      next: 'CommitProvision',
      catch: TO_COMPENSATION,
    }),
    task(CommitProvision, {
      comment: 'One transaction: instance running (fenced by the claim) and reservation completed (fenced by its version).',
      parameters: { ...reservationVersion, volumeId: '$.volume.volumeId', machineId: '$.machine.machineId', endpoint: '$.started.endpoint' },
      resultPath: '$.commit',
      catch: TO_COMPENSATION,
    }),
    task(CompensateProvision, {
      comment: 'Destroy every machine and volume tagged with this instance and verify the inventory is empty.',
      parameters: provider,
      resultPath: '$.cleanup',
      next: 'FailProvision',
      catch: { next: 'MarkNeedsReconciliation', resultPath: '$.cleanupFailure' },
    }),
    task(FailProvision, {
      comment: 'Cleanup verified: instance failed with lastStartError, reservation released, quota returned.',
      parameters: { failure: '$.failure' },
      resultPath: '$.released',
      next: 'ProvisionFailed',
      catch: TO_COMPENSATION_FAILED,
    }),
    task(MarkNeedsReconciliation, {
      comment: 'Cleanup could not be verified: the reconcile sweep takes over the reservation.',
      parameters: { failure: '$.failure', cleanupFailure: '$.cleanupFailure' },
      resultPath: '$.handedOver',
      next: 'ProvisionNeedsReconciliation',
      catch: TO_COMPENSATION_FAILED,
    }),
    failWith('ProvisionFailed', 'The provision failed and everything it made was removed.', '$.failure'),
    failAs('ProvisionNeedsReconciliation', ErrorNames.ProvisionNeedsReconciliation, 'The provision failed and its cleanup is left to the reconcile sweep.', '$.cleanupFailure'),
    failAs('CompensationFailed', ErrorNames.CompensationFailed, 'Recording the failure itself failed; the reservation deadline brings the reconcile sweep.', '$.finalFailure'),
  ],
);
