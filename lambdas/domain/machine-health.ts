/**
 * Whether an instance's machine runs and answers, as the provider sees it now: what a failed
 * operation's last step reads to show the real state (running with its endpoint, or stopped)
 * instead of guessing from the error. A failed read or probe counts as not healthy.
 */
import type { ComputeProvider, Machine } from '../providers/compute-provider';

/** The machine as the provider sees it now (null: none, or unreadable), and whether it is started and healthy. */
export async function probeMachine(provider: ComputeProvider, machineId: string | undefined): Promise<{ machine: Machine | null; healthy: boolean }> {
  if (!machineId) return { machine: null, healthy: false };
  const machine = await provider.getMachine(machineId).catch(() => null);
  if (machine?.state !== 'started') return { machine, healthy: false };
  const health = await provider.probeHealth(machine.id).catch(() => null);
  return { machine, healthy: health?.healthy === true };
}

/** The machine's endpoint when it is started and healthy now; else null. */
export async function healthyEndpoint(provider: ComputeProvider, machineId: string | undefined): Promise<string | null> {
  const { machine, healthy } = await probeMachine(provider, machineId);
  return healthy ? (machine?.endpoint ?? null) : null;
}
