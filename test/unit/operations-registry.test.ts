/**
 * The operation registry is the only list of operations: what is derived from it must be what was
 * written by hand before (the tables below are the hand-written values it replaced), and every
 * workflow must be reachable by the functions that settle lost executions.
 */
import { COMMANDS } from '../../cli/commands';
import { FUNCTION_CATALOG, catalogEntry } from '../../infra/function-catalog';
import { CLAIM_RULES } from '../../lambdas/domain/claims';
import { CLAIMED_OPERATIONS, FINISHED_OPERATIONS, LIFECYCLE_OPERATIONS, OPERATION_NAMES, OPERATIONS, SETTLE_STARTS } from '../../lambdas/operations/registry';
import { SETTLE_LOST } from '../../lambdas/operations/settle-rules';
import { WORKFLOW_DEFINITIONS } from '../../lambdas/operations/workflows';
import { DEFAULT_CLAIM_TIMEOUT_SECONDS } from '../../lambdas/operations/registry';
import { WORKFLOW_NAMES } from '../../lambdas/shared/workflows';

describe('the operation registry', () => {
  it('lists the seven operations, and the workflows are the operations', () => {
    expect(OPERATION_NAMES).toEqual(['provision', 'start', 'stop', 'restart', 'destroy', 'recover', 'switch']);
    expect(WORKFLOW_NAMES).toEqual(OPERATION_NAMES);
    expect(Object.keys(WORKFLOW_DEFINITIONS).sort()).toEqual([...OPERATION_NAMES].sort());
    expect(Object.keys(SETTLE_LOST).sort()).toEqual([...OPERATION_NAMES].sort());
  });

  it('gives the claim rules that claims.ts wrote by hand', () => {
    expect(CLAIM_RULES).toEqual({
      start: { from: ['stopped'], to: 'starting' },
      stop: { from: ['running'], to: 'stopping' },
      restart: { from: ['running', 'stopped'], to: 'restarting' },
      destroy: { from: ['running', 'stopped', 'failed', 'destroying'], to: 'destroying' },
      switch: { from: ['running', 'stopped'], to: 'switching' },
      recover: { from: ['running'], to: 'recovering' },
    });
    expect([...CLAIMED_OPERATIONS].sort()).toEqual(['destroy', 'recover', 'restart', 'start', 'stop', 'switch']);
  });

  it('gives the claim timeouts that shared/operations.ts wrote by hand', () => {
    expect(DEFAULT_CLAIM_TIMEOUT_SECONDS).toEqual({ provision: 900, start: 300, stop: 300, restart: 300, destroy: 900, recover: 900, switch: 1800 });
  });

  it('gives the lifecycle operations, and the ones FinishOperation ends', () => {
    expect(LIFECYCLE_OPERATIONS).toEqual(['start', 'stop', 'restart', 'destroy']);
    expect(FINISHED_OPERATIONS).toEqual(['start', 'stop', 'restart']);
    expect(LIFECYCLE_OPERATIONS.map((operation) => OPERATIONS[operation].errorField)).toEqual(['lastStartError', 'lastStopError', 'lastStartError', 'lastDestroyError']);
  });

  it('gives the CLI the lifecycle commands it listed by hand', () => {
    const lifecycle = COMMANDS.filter((command) => (LIFECYCLE_OPERATIONS as readonly string[]).includes(command.name));

    expect(lifecycle).toEqual([
      { name: 'start', summary: 'Start an instance', method: 'POST', path: '/v1/instances/{id}/start', args: ['id'], flags: [], startsOperation: true, render: 'accepted' },
      { name: 'stop', summary: 'Stop an instance', method: 'POST', path: '/v1/instances/{id}/stop', args: ['id'], flags: [], startsOperation: true, render: 'accepted' },
      { name: 'restart', summary: 'Restart an instance', method: 'POST', path: '/v1/instances/{id}/restart', args: ['id'], flags: [], startsOperation: true, render: 'accepted' },
      { name: 'destroy', summary: 'Destroy an instance (machine and volume)', method: 'DELETE', path: '/v1/instances/{id}', args: ['id'], flags: [], startsOperation: true, render: 'accepted' },
    ]);
  });
});

describe('the workflow grants derived from the registry', () => {
  it.each(['Reconcile', 'ExecutionClosed'])('let %s start or describe every workflow, so a claim of any operation can be settled on AWS', (id) => {
    const { startsWorkflows = [], describesWorkflows = [] } = catalogEntry(id).permissions;

    expect([...startsWorkflows, ...describesWorkflows].sort()).toEqual([...WORKFLOW_NAMES].sort());
    expect(startsWorkflows.filter((workflow) => describesWorkflows.includes(workflow))).toEqual([]);
    // What any settle rule may start (a provision that never started; the old machine after a lost switch or forced recovery).
    expect(SETTLE_STARTS.filter((workflow) => !startsWorkflows.includes(workflow))).toEqual([]);
  });

  it('keep the reconcile sweep as it was: it also starts recoveries, mount repairs (restart) and destroy retries', () => {
    expect(catalogEntry('Reconcile').permissions.startsWorkflows).toEqual(['provision', 'start', 'restart', 'destroy', 'recover']);
    expect(catalogEntry('Reconcile').permissions.describesWorkflows).toEqual(['stop', 'switch']);
  });

  it('let the execution-closed listener start only what the settle rules start', () => {
    expect(catalogEntry('ExecutionClosed').permissions.startsWorkflows).toEqual(['provision', 'start']);
  });

  it('let the API start every workflow', () => {
    expect(catalogEntry('Api').permissions.startsWorkflows).toEqual([...WORKFLOW_NAMES]);
  });

  it('derive one catalog entry per step the workflows run, none twice', () => {
    const ids = FUNCTION_CATALOG.map((fn) => fn.id);

    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.filter((id) => !['Api', 'Reconcile', 'ExecutionClosed', 'VolumeCleanup'].includes(id))).toHaveLength(25);
  });
});
