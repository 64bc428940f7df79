/**
 * Unexpected-stop recovery, end to end on the local world with the sweeps on their timers (the
 * reconcile sweep every 5 s, drift checks due every 5 s): an instance runs, its machine's process is
 * SIGKILLed (at a different phase of the sweep each sample), and the clock runs until
 * `GET /v1/instances/{id}` reads `recovering`, then `running` on a new machine. One instance lives at a time (each is destroyed after its sample), so the
 * provider calls counted between the death and `running` are that recovery's and its detection's.
 */
import type { InstanceView } from '../lambdas/domain/instance';
import { summarize, type Summary } from './stats';
import type { BenchWorld } from './world';

/** The recovery scenario's figures. */
export interface RecoveryFigures {
  sweepPeriodSeconds: number;
  samples: number;
  /** SIGKILL → the instance reads `recovering` (detection: the next drift check). */
  toRecovering: Summary;
  /** SIGKILL → the instance reads `running` on its new machine. */
  toRunning: Summary;
  /** `recovering` → `running` (the workflow itself). */
  workflow: Summary;
  /** Provider calls from the death to `running`: all of them, and the workflow's (without the sweep's look). */
  providerCalls: { total: Summary; byMethod: Record<string, number> };
  /** Samples whose old volume was retained (it had a snapshot) / deleted at once. */
  retained: number;
  deleted: number;
  failures: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Run `samples` recoveries, one at a time; every other one's volume has a snapshot (so it is retained). */
export async function recoveryTimes(world: BenchWorld, samples: number): Promise<RecoveryFigures> {
  const { runtime, faults, local } = world;
  const token = await world.token('bench-recovery');
  const get = async (id: string): Promise<InstanceView> => {
    const res = await fetch(`${world.api.url}/v1/instances/${id}`, { headers: { authorization: `Bearer ${token}` } });
    return (await res.json()) as InstanceView;
  };
  const toRecovering: number[] = [];
  const toRunning: number[] = [];
  const workflow: number[] = [];
  const calls: number[] = [];
  const byMethod: Record<string, number> = {};
  const failures: string[] = [];
  let retained = 0;
  let deleted = 0;
  for (let i = 0; i < samples; i++) {
    const res = await world.provision(token, `bench-recovery-${i}`);
    if (res.status !== 202) throw new Error(`provision answered ${res.status}`);
    const id = res.body.instance.id as string;
    await runtime.stepFunctions.waitForExecution(res.body.operation.executionArn);
    const before = await get(id);
    if (i % 2 === 1) await local.createSnapshot(before.volumeId!);
    // Deaths spread over the sweep's phase, each after at least one drift check of the running
    // instance (a death right after its provision waits out the first drift check too).
    await sleep(runtime.deps.settings.sweepPeriodSeconds * 1000 * (1 + i / samples));
    const pid = await local.processId(before.machineId!);
    if (pid === null) throw new Error('the machine has no process');
    faults.reset();
    const died = performance.now();
    process.kill(pid, 'SIGKILL');
    let recoveringAt: number | null = null;
    let view = before;
    // Poll as a user would (every 50 ms), for at most a minute.
    while (performance.now() - died < 60_000) {
      view = await get(id);
      if (view.status === 'recovering' && recoveringAt === null) recoveringAt = performance.now();
      if (view.status === 'running' && view.machineId !== before.machineId) break;
      if (view.status === 'stopped' && view.lastRecoveryError) break;
      await sleep(50);
    }
    const runningAt = performance.now();
    if (view.status !== 'running' || recoveringAt === null) {
      failures.push(`sample ${i}: ${view.status} ${view.lastRecoveryError?.message ?? ''}`.trim());
    } else {
      toRecovering.push(recoveringAt - died);
      toRunning.push(runningAt - died);
      workflow.push(runningAt - recoveringAt);
      await runtime.stepFunctions.idle();
      const made = faults.calls.filter((call) => call.method !== 'inventory');
      calls.push(made.length);
      for (const call of made) byMethod[call.method] = (byMethod[call.method] ?? 0) + 1 / samples;
      const item = await local.getVolume(before.volumeId!);
      if (item && item.state !== 'destroyed') retained += 1;
      else deleted += 1;
    }
    // Only one instance at a time: the next sample's calls are its own.
    const destroyed = await fetch(`${world.api.url}/v1/instances/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
    if (destroyed.status === 202) await runtime.stepFunctions.waitForExecution(((await destroyed.json()) as { operation: { executionArn: string } }).operation.executionArn);
  }
  return {
    sweepPeriodSeconds: runtime.deps.settings.sweepPeriodSeconds,
    samples,
    toRecovering: summarize(toRecovering),
    toRunning: summarize(toRunning),
    workflow: summarize(workflow),
    providerCalls: { total: summarize(calls), byMethod: Object.fromEntries(Object.entries(byMethod).map(([method, n]) => [method, +n.toFixed(2)])) },
    retained,
    deleted,
    failures,
  };
}
