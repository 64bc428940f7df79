/**
 * The sweep registry is the one list of sweeps: every sweep in it has a function in the catalog
 * (its handler on disk), reads a lane of its own, and names a period setting whose variable is the
 * one that sets it, so the CDK schedule, the local timer and the lease agree on one period.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { FUNCTION_CATALOG } from '../../infra/function-catalog';
import { settingsFrom, type Deps } from '../../lambdas/composition/deps';
import { ErrorNames } from '../../lambdas/shared/errors/core';
import { parseConfig } from '../../lambdas/shared/config';
import { leaseKey, leaseTiming } from '../../lambdas/sweeps/lease';
import { reconcileSweep } from '../../lambdas/sweeps/reconcile/spec';
import { SWEEP_LIST, SWEEP_NAMES, SWEEPS, sweepRegistry } from '../../lambdas/sweeps/registry';
import { volumeCleanupSweep } from '../../lambdas/sweeps/volume-cleanup/spec';

const ROOT = path.resolve(__dirname, '..', '..');

describe('the sweep registry', () => {
  it('lists each sweep under its own name', () => {
    expect(Object.entries(SWEEPS).map(([key, spec]) => [key, spec.name])).toEqual([
      ['reconcile', 'reconcile'],
      ['volume-cleanup', 'volume-cleanup'],
    ]);
    expect(SWEEP_NAMES).toEqual(['reconcile', 'volume-cleanup']);
  });

  it('refuses at compile time a spec filed under another name', () => {
    // @ts-expect-error the key is not the spec's name
    const misfiled = sweepRegistry({ reconcile: volumeCleanupSweep });
    const filed = sweepRegistry({ reconcile: reconcileSweep });

    expect(Object.keys(misfiled)).toEqual(['reconcile']);
    expect(filed.reconcile.name).toBe('reconcile');
  });

  it.each(SWEEP_LIST.map((spec) => [spec.name, spec] as const))('gives %s its catalog function, with its handler on disk', (_name, spec) => {
    const entry = FUNCTION_CATALOG.find((fn) => fn.id === spec.function.id);

    expect(entry).toEqual({ ...spec.function, transientErrors: [] });
    expect(existsSync(path.join(ROOT, spec.function.entry))).toBe(true);
  });

  it('gives every sweep a lane, a function and alarm ids of its own', () => {
    const alarmIds = SWEEP_LIST.flatMap((spec) => spec.alarms.map((alarm) => alarm.id));

    expect(new Set(SWEEP_LIST.map((spec) => spec.lane)).size).toBe(SWEEP_LIST.length);
    expect(new Set(SWEEP_LIST.map((spec) => spec.function.id)).size).toBe(SWEEP_LIST.length);
    expect(new Set(alarmIds).size).toBe(alarmIds.length);
  });

  it.each(SWEEP_LIST.map((spec) => [spec.name, spec] as const))('reads the period of %s from the setting its variable sets, and times its lease by it', (_name, spec) => {
    const settings = settingsFrom(parseConfig({ TABLE_NAME: 'slipway', [spec.schedule.variable]: '42' }));

    expect(settings[spec.schedule.setting]).toBe(42);
    expect(spec.lease.timing(settings)).toEqual(leaseTiming(42));
    expect(spec.lease.key).toEqual(leaseKey(spec.name));
  });

  it.each(SWEEP_LIST.map((spec) => [spec.name, spec] as const))("has %s's handler refuse any scheduled event but its own, before it touches anything", async (name, spec) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHandler } = require(path.join(ROOT, spec.function.entry)) as { createHandler: (deps: Deps) => (event: unknown) => Promise<unknown> };
    const run = createHandler({} as Deps);

    await expect(run({ sweep: `${name}-not` })).rejects.toMatchObject({ name: ErrorNames.InvalidStepInput });
    await expect(run({ sweep: name, extra: true })).rejects.toMatchObject({ name: ErrorNames.InvalidStepInput });
  });

  it.each(SWEEP_LIST.map((spec) => [spec.name, spec] as const))("lets the API function run %s now with no grant its own function lacks (an operator's run-now runs in the API)", (_name, spec) => {
    const api = FUNCTION_CATALOG.find((fn) => fn.id === 'Api')!.permissions;
    const sweep = spec.function.permissions;
    const mayDescribe = [...(api.startsWorkflows ?? []), ...(api.describesWorkflows ?? [])];

    expect(sweep.table.filter((action) => !api.table.includes(action))).toEqual([]);
    expect((sweep.startsWorkflows ?? []).filter((workflow) => !(api.startsWorkflows ?? []).includes(workflow))).toEqual([]);
    expect((sweep.describesWorkflows ?? []).filter((workflow) => !mayDescribe.includes(workflow))).toEqual([]);
    expect([Boolean(sweep.usesProvider) && !api.usesProvider, Boolean(sweep.publishesEvents) && !api.publishesEvents]).toEqual([false, false]);
  });
});
