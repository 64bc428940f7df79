/**
 * Drift by fleet inventory. A running instance is not on the attention index; instead, each sweep
 * asks every provider once (paged) for slipway's machines that are NOT running, reads from the table
 * only the instances those machines belong to (BatchGet), and looks closer only where the table
 * says `running` on that very machine: a candidate. Each candidate goes through the drift check
 * (drift.ts), whose GET by id confirms or refutes what the list said before any fenced use case
 * acts. A healthy fleet therefore costs one listing page per provider and no table write.
 *
 * One sighting is enough because it is never acted on alone: a list may lag (Fly's lists trail its
 * writes by seconds), but a GET by id is consistent, so a stale "stopped" is refuted by the GET
 * (the machine reads started: nothing is written) and a death the list has not caught up with is
 * seen by the next sweep. A machine the listing misses for a while is therefore never declared
 * dead on a missing page: it is declared dead only by a GET by id.
 *
 * What a state filter cannot see — a running machine on the wrong volume, a changed address — the
 * audit catches every `fleetAuditSeconds`, still by listing (every machine, full), not by polling.
 *
 * Nothing here holds state between runs: a crash mid-inventory leaves nothing to settle (the next
 * run lists again), and two inventories at once meet at the fenced use cases (a recovery's claim
 * is a conditional write; the loser reads `skipped`).
 */
import { getInstances } from '../../store/instance';
import type { ComputeProvider, FleetMachine, Machine, MachineExitNotice } from '../../providers/compute-provider';
import type { Deps } from '../../composition/deps';
import { messageOf } from '../../shared/errors/core';
import type { InstanceItem } from '../../domain/instance';
import { mapWithConcurrency } from '../../views/operations-history';
import type { SettleAction } from './actions';
import { checkDrift } from './drift';

/** Candidates checked at once. */
const CONCURRENCY = 8;

/** What one inventory did and what it cost, for the sweep's report and the bench. */
export interface InventoryReport {
  /** Listing pages asked of the providers (provider calls besides the GETs of candidates). */
  pages: number;
  /** Machines the listings returned. */
  listed: number;
  /** Instance items read from the table (BatchGet). */
  instancesRead: number;
  /** Instances whose machine the listing showed not running (each one GET by id). */
  candidates: number;
  actions: SettleAction[];
  errors: Array<{ target: string; error: string }>;
}

/** An empty report. */
export function emptyInventoryReport(): InventoryReport {
  return { pages: 0, listed: 0, instancesRead: 0, candidates: 0, actions: [], errors: [] };
}

/** Instances by id (BatchGetItem, consistent). */
async function instancesById(deps: Deps, ids: string[]): Promise<Map<string, InstanceItem>> {
  const items = ids.length ? await getInstances(deps, ids) : [];
  return new Map(items.map((item) => [item.instanceId, item]));
}

/** Whether the table says this instance runs on exactly this machine of this provider, with nobody acting on it. */
function runsThere(instance: InstanceItem | undefined, provider: string, machineId: string): instance is InstanceItem {
  return !!instance && instance.status === 'running' && !instance.claim && instance.provider === provider && instance.machineId === machineId;
}

/** Check candidates with the drift check, each on its own (one failure does not stop the rest). */
async function checkCandidates(deps: Deps, candidates: InstanceItem[], report: InventoryReport): Promise<void> {
  report.candidates += candidates.length;
  const results = await mapWithConcurrency(candidates, CONCURRENCY, async (instance) => {
    try {
      return { action: await checkDrift(deps, instance) };
    } catch (error) {
      return { error: { target: `instance:${instance.instanceId}`, error: messageOf(error) } };
    }
  });
  for (const result of results) {
    if (result.action) report.actions.push(result.action);
    else if (result.error) report.errors.push(result.error);
  }
}

/** Every page of a provider's listing of machines not running. */
async function listNotRunning(provider: ComputeProvider, report: InventoryReport): Promise<FleetMachine[]> {
  const machines: FleetMachine[] = [];
  let cursor: string | undefined;
  do {
    const page = await provider.listNotRunning(cursor);
    report.pages += 1;
    machines.push(...page.machines);
    cursor = page.cursor ?? undefined;
  } while (cursor);
  report.listed += machines.length;
  return machines;
}

/** The sweep's inventory: per provider, machines not running against the instances the table says run on them. */
export async function inventoryFleet(deps: Deps, report: InventoryReport = emptyInventoryReport()): Promise<InventoryReport> {
  for (const provider of deps.providers.all()) {
    try {
      const machines = (await listNotRunning(provider, report)).filter((machine) => machine.instanceId);
      const instances = await instancesById(deps, [...new Set(machines.map((machine) => machine.instanceId!))]);
      report.instancesRead += instances.size;
      const candidates = new Map<string, InstanceItem>();
      for (const machine of machines) {
        const instance = instances.get(machine.instanceId!);
        if (runsThere(instance, provider.name, machine.id)) candidates.set(instance.instanceId, instance);
      }
      await checkCandidates(deps, [...candidates.values()], report);
    } catch (error) {
      report.errors.push({ target: `inventory:${provider.name}`, error: messageOf(error) });
    }
  }
  return report;
}

/**
 * A provider pushed a machine's unrequested exit (the local provider): the same settle as a
 * sweep's inventory for that one instance — read it, and if the table says it runs on that machine
 * with nobody acting on it, the drift check (whose GET by id decides).
 */
export async function settlePushedExit(deps: Deps, providerName: string, exit: MachineExitNotice): Promise<InventoryReport> {
  const report = emptyInventoryReport();
  const instances = await instancesById(deps, [exit.instanceId]);
  report.instancesRead += instances.size;
  const instance = instances.get(exit.instanceId);
  if (runsThere(instance, providerName, exit.machineId)) await checkCandidates(deps, [instance], report);
  return report;
}

/** Whether a listed machine differs from what its running instance records (state, volume, address). */
function differs(instance: InstanceItem, machine: Machine): boolean {
  if (!['started', 'starting'].includes(machine.state)) return true;
  if (machine.mount?.volumeId !== instance.volumeId) return true;
  return machine.state === 'started' && machine.endpoint !== (instance.endpoint ?? null);
}

/**
 * The audit: every machine of every provider, in full, against the instances that record them; a
 * difference a state filter cannot see (wrong volume, new address) goes through the drift check.
 */
export async function auditFleet(deps: Deps, report: InventoryReport = emptyInventoryReport()): Promise<InventoryReport> {
  for (const provider of deps.providers.all()) {
    try {
      const machines = await provider.findMachines({});
      report.pages += 1;
      report.listed += machines.length;
      const instances = await instancesById(deps, [...new Set(machines.map((machine) => machine.tags.instance).filter(Boolean))]);
      report.instancesRead += instances.size;
      const candidates = new Map<string, InstanceItem>();
      for (const machine of machines) {
        const instance = instances.get(machine.tags.instance);
        if (runsThere(instance, provider.name, machine.id) && differs(instance, machine)) candidates.set(instance.instanceId, instance);
      }
      await checkCandidates(deps, [...candidates.values()], report);
    } catch (error) {
      report.errors.push({ target: `audit:${provider.name}`, error: messageOf(error) });
    }
  }
  return report;
}
