/** Pieces several workflows share, written once. */
import type { LifecycleOperation } from '../../domain/claims';
import { ErrorNames } from '../../shared/errors/core';
import { failAs, failWith, task, type CatchTarget, type NamedState } from '../workflow-builder';
import { EnsureMachineMount } from '../machine/handlers/ensure-machine-mount';
import { StartMachine } from '../machine/handlers/start-machine';
import { WaitMachineStarted } from '../machine/handlers/wait-machine-started';
import { FinishOperation } from './handlers/finish-operation';
import { RecordOperationFailure } from './handlers/record-operation-failure';

/** Where a lifecycle workflow's failures go: the record-failure tail. */
export const TO_RECORD_FAILURE: CatchTarget = { next: 'RecordOperationFailure', resultPath: '$.failure' };

/** `start` → `Start`. */
function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * Mount → start → wait (start and restart): the shared mount-repair helper makes sure the machine
 * is on the instance's volume, then the machine is started and awaited until healthy.
 */
export function mountStartWait(next: string): NamedState[] {
  const provider = { provider: '$.provider' } as const;
  return [
    task(EnsureMachineMount, {
      comment: 'The shared mount-repair helper: a machine not on the instance volume is recreated on it.',
      parameters: provider,
      resultPath: '$.mount',
      next: 'StartMachine',
      catch: TO_RECORD_FAILURE,
    }),
    task(StartMachine, { parameters: { ...provider, machineId: '$.mount.machineId' }, resultPath: '$.startRequest', next: 'WaitMachineStarted', catch: TO_RECORD_FAILURE }),
    task(WaitMachineStarted, {
      comment: 'Wait for the machine to start and answer its health check.',
      parameters: { ...provider, machineId: '$.mount.machineId' },
      resultPath: '$.started',
      next,
      catch: TO_RECORD_FAILURE,
    }),
  ];
}

/** The success tail of start, stop and restart: release the claim with the outcome. */
export function finishOperation(operation: Exclude<LifecycleOperation, 'destroy'>): NamedState {
  return task(FinishOperation, {
    comment: 'Release the claim with the outcome, fenced by the claim; a success clears the last error.',
    parameters: { operation, ...(operation === 'stop' ? {} : { endpoint: '$.started.endpoint' }) },
    resultPath: '$.finished',
    catch: TO_RECORD_FAILURE,
  });
}

/**
 * The failure tail of every lifecycle workflow: make the failure visible at once (the real provider
 * state plus the error, fenced by the claim, claim released), then fail the execution with the
 * original error — or, if even that cannot be recorded, leave it to the reconcile sweep.
 */
export function recordFailureTail(operation: LifecycleOperation): NamedState[] {
  const failed = `${capitalised(operation)}Failed`;
  return [
    task(RecordOperationFailure, {
      comment: 'Make the failure visible at once: the real provider state plus the error, fenced by the claim, claim released.',
      parameters: { provider: '$.provider', operation, failure: '$.failure' },
      resultPath: '$.recorded',
      next: failed,
      catch: { next: 'FailureNotRecorded', resultPath: '$.recordFailure' },
    }),
    failWith(failed, `The ${operation} failed; the instance shows the error.`, '$.failure'),
    failAs(
      'FailureNotRecorded',
      ErrorNames.FailureNotRecorded,
      'Recording the failure failed (e.g. the claim was lost); the reconcile sweep finds instances stuck past their timeout.',
      '$.recordFailure',
    ),
  ];
}
