/**
 * The sweep's lease: one item per sweep (`SWEEP#<name>` / `LEASE`) taken with a conditional write,
 * so overlapping or duplicated runs (a scheduler retry, an operator's "run now") never work at once.
 * It also remembers when the sweep last inventoried the providers for orphans.
 *
 * A lease cannot outlive its holder: it names the holder (its runtime, that runtime's boot, the
 * run), its expiry is short (half a sweep period, at most 30 s) and a heartbeat renews it every
 * third of that while the run lasts. A run that dies stops renewing, so its lease lapses well
 * within one period; a runtime that restarts (same runtime name, a new boot) may take over a lease
 * its dead boot left at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { TransactItem } from '../domain/fence';
import type { Deps, RuntimeIdentity } from '../composition/deps';
import { ConditionFailedError, TransactionConditionFailedError } from '../store/errors';
import { getLease, releaseLeaseItem, renewLeaseItem, takeLease } from '../store/lease';

// The lease item's key is the store's; re-exported for the sweeps and tests that address it.
export { leaseKey } from '../store/lease';

/** The lease item as stored. */
export interface LeaseItem {
  /** `<runtime>/<boot>/<run>`: who holds it, said once for operators. */
  holder?: string;
  holderRuntime?: string;
  holderBoot?: string;
  leaseUntil?: string;
  heartbeatAt?: string;
  lastOrphanScanAt?: string;
  /** When the last full fleet audit (inventory.ts) finished without errors. */
  lastFleetAuditAt?: string;
  lastRunAt?: string;
}

/** Who runs a sweep: the runtime (stable across its restarts), this boot of it, and the run. */
export interface LeaseHolder {
  runtime: string;
  boot: string;
  run: string;
}


/** This process, when nobody named the runtime: a Lambda container never restarts under the same name. */
const PROCESS_IDENTITY: RuntimeIdentity = { runtime: `${hostname()}/${process.pid}`, boot: randomUUID() };

/** The holder of a new run by this runtime. */
export function holderFor(deps: Deps, run: string): LeaseHolder {
  return { ...(deps.runtimeIdentity ?? PROCESS_IDENTITY), run };
}

/** The holder as one string. */
export function holderName(holder: LeaseHolder): string {
  return `${holder.runtime}/${holder.boot}/${holder.run}`;
}

/** How long a lease lasts unrenewed, and how often the heartbeat renews it, for a sweep of this period. */
export function leaseTiming(periodSeconds: number): { seconds: number; heartbeatMs: number } {
  const seconds = Math.min(30, periodSeconds / 2);
  return { seconds, heartbeatMs: Math.max(1, Math.floor((seconds * 1000) / 3)) };
}

/** What taking the lease found: taken (with what the sweep last did, and whose dead lease it took over), or held. */
export type LeaseTake = { taken: true; previous: LeaseItem; tookOver: string | null } | { taken: false; heldBy: LeaseItem };

/**
 * Take the lease for `seconds` unless another run holds it. With `takeOverOwnDeadBoot` (a runtime
 * that has just restarted) a lease held by an earlier boot of the same runtime counts as free: that
 * boot is dead, whatever its expiry says.
 */
export async function acquireLease(
  deps: Deps,
  sweep: string,
  holder: LeaseHolder,
  seconds: number,
  options: { takeOverOwnDeadBoot?: boolean; alsoWrite?: TransactItem[] } = {},
): Promise<LeaseTake> {
  const now = deps.now();
  const take = {
    holder: holderName(holder),
    runtime: holder.runtime,
    boot: holder.boot,
    now,
    until: new Date(now.getTime() + seconds * 1000),
    takeOverOwnDeadBoot: options.takeOverOwnDeadBoot ?? false,
  };
  try {
    let previous: LeaseItem;
    if (options.alsoWrite?.length) {
      // Written with the lease or not at all (an operator's audit record); a transaction returns no old item, so read it first.
      previous = (await leaseHolder(deps, sweep)) ?? {};
      await takeLease(deps, sweep, take, options.alsoWrite);
    } else {
      previous = (await takeLease<LeaseItem>(deps, sweep, take)) ?? {};
    }
    const stillHeld = previous.leaseUntil !== undefined && previous.leaseUntil >= now.toISOString();
    return { taken: true, previous, tookOver: stillHeld ? (previous.holder ?? null) : null };
  } catch (error) {
    if (!(error instanceof ConditionFailedError) && !(error instanceof TransactionConditionFailedError && error.failedAt(0))) throw error;
    return { taken: false, heldBy: (await leaseHolder(deps, sweep)) ?? {} };
  }
}

/** Who holds the lease now, if anyone. */
export async function leaseHolder(deps: Deps, sweep: string): Promise<LeaseItem | null> {
  return getLease<LeaseItem>(deps, sweep);
}

/** Push our lease's expiry out by `seconds`; false when it is no longer ours (it lapsed and was taken). */
export async function renewLease(deps: Deps, sweep: string, holder: LeaseHolder, seconds: number): Promise<boolean> {
  const now = deps.now();
  try {
    await renewLeaseItem(deps, sweep, holderName(holder), now, new Date(now.getTime() + seconds * 1000));
    return true;
  } catch (error) {
    if (error instanceof ConditionFailedError) return false;
    throw error;
  }
}

/** Give the lease back (only our own), recording what this run did. */
export async function releaseLease(deps: Deps, sweep: string, holder: LeaseHolder, record: { lastOrphanScanAt?: string; lastFleetAuditAt?: string }): Promise<void> {
  try {
    await releaseLeaseItem(deps, sweep, holderName(holder), deps.now(), record);
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error; // expired and taken over: nothing of ours to release
  }
}

/** A running heartbeat: whether the lease was lost, and how to stop it. */
export interface Heartbeat {
  /** True once a renewal found the lease taken by another run. */
  readonly lost: boolean;
  stop(): void;
}

/**
 * Renew the lease every `heartbeatMs` until stopped. Each renewal goes through the table client,
 * so a process that dies (or hangs on the table) stops renewing with it. The timer is unref'd:
 * it never keeps a process alive on its own.
 */
export function startHeartbeat(deps: Deps, sweep: string, holder: LeaseHolder, timing: { seconds: number; heartbeatMs: number }): Heartbeat {
  let stopped = false;
  let lost = false;
  let handle: ReturnType<typeof setTimeout> | undefined;
  const beat = () => {
    if (stopped) return;
    renewLease(deps, sweep, holder, timing.seconds)
      .then((ours) => {
        if (!ours) {
          lost = true;
          deps.logger.warn('sweep lease lost to another run', { sweep, holder: holderName(holder) });
        }
      })
      .catch((error: unknown) => deps.logger.warn('sweep lease renewal failed; trying again', { sweep, error: error as Error }))
      .finally(schedule);
  };
  const schedule = () => {
    if (stopped || lost) return;
    handle = setTimeout(beat, timing.heartbeatMs);
    handle.unref?.();
  };
  schedule();
  return {
    get lost() {
      return lost;
    },
    stop() {
      stopped = true;
      if (handle) clearTimeout(handle);
    },
  };
}
