/**
 * What "converged" means, checked from outside, and a tripwire that crashes the whole local stack
 * at the k-th call it sees (provider call, or StartExecution): the crash tests' instruments.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/store/keys';
import { TABLE_KEYS } from '../../lambdas/adapters/table-definition';
import type { InstanceItem } from '../../lambdas/domain/instance';
import { retainedVolumesById } from '../../lambdas/domain/retained-volume';
import type { ComputeProvider } from '../../lambdas/providers/compute-provider';
import { registryOf } from '../../lambdas/providers/registry';
import type { Deps } from '../../lambdas/composition/deps';
import type { Harness } from './harness';
import { settledInventory } from './consistent';

/** A violation of convergence, said plainly. */
export type Violation = string;

/** Every instance of the given owners, tombstones included. */
export async function instancesOf(h: Harness, owners: readonly string[]): Promise<InstanceItem[]> {
  const all: InstanceItem[] = [];
  for (const owner of owners) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await h.runtime.deps.db.send(
        new QueryCommand({
          TableName: h.runtime.deps.tableName,
          IndexName: TABLE_KEYS.ownerIndex.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': TABLE_KEYS.ownerIndex.partitionKey },
          ExpressionAttributeValues: { ':pk': `OWNER#${owner}` },
          ExclusiveStartKey: start,
        }),
      );
      all.push(...((out.Items ?? []) as InstanceItem[]));
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return all;
}

/**
 * The invariants of a converged world (ARCHITECTURE §4, issues 8, 11 and 19): no claim held and no
 * recovery pending, no reservation unresolved, every instance's status agrees with the provider (a
 * transitional status such as `recovering` never remains; a destroy asked for ends `destroyed` unless
 * parked for an operator), quota equals the live instances, the
 * provider holds nothing no instance owns — a retained volume is owned by its item, never used by its
 * instance, and a volume whose item says deleted is gone.
 */
export async function violations(h: Harness, owners: readonly string[]): Promise<Violation[]> {
  const found: Violation[] = [];
  const instances = await instancesOf(h, owners);
  const byId = new Map(instances.map((i) => [i.instanceId, i]));
  // Every provider the harness runs, by name (the second one when the harness has it).
  const backends = new Map<string, ComputeProvider>([[h.provider.name, h.backend], ...(h.west ? ([[h.west.name, h.west.backend]] as const) : [])]);
  const backendOf = (instance: InstanceItem) => backends.get(instance.provider) ?? h.backend;
  const everything = new Map(await Promise.all([...backends].map(async ([name, backend]) => [name, await settledInventory(backend, {})] as const)));
  const retained = await retainedVolumesById(h.runtime.deps, [...everything.values()].flatMap((inv) => inv.volumes.map((v) => v.id)));
  const kept = (volumeId: string) => retained.has(volumeId) && retained.get(volumeId)!.state !== 'deleted';
  for (const instance of instances) {
    const id = instance.instanceId;
    if (instance.claim) found.push(`${id}: claim ${instance.claim} still held (${instance.status})`);
    if (instance.recovery && !instance.claim) found.push(`${id}: a recovery is recorded as pending without a claim`);
    if (instance.volumeId && kept(instance.volumeId) && instance.status !== 'destroyed') found.push(`${id}: uses volume ${instance.volumeId}, which is retained`);
    const backend = backendOf(instance);
    const machine = instance.machineId ? await backend.getMachine(instance.machineId) : null;
    if ((instance.status === 'running' || instance.status === 'stopped') && instance.volumeId) {
      const volume = await backend.getVolume(instance.volumeId);
      if (!volume || volume.state === 'destroyed') found.push(`${id}: ${instance.status}, but its volume ${instance.volumeId} is gone`);
    }
    switch (instance.status) {
      case 'running':
        if (machine?.state !== 'started') found.push(`${id}: running, but its machine is ${machine?.state ?? 'missing'}`);
        else if (machine.mount?.volumeId !== instance.volumeId) found.push(`${id}: running on volume ${machine.mount?.volumeId}, not ${instance.volumeId}`);
        break;
      case 'stopped':
        if (machine && ['started', 'starting'].includes(machine.state)) found.push(`${id}: stopped, but its machine is ${machine.state}`);
        break;
      case 'failed':
      case 'destroyed': {
        const inventory = await settledInventory(backend, { instance: id });
        const left = inventory.volumes.filter((v) => !kept(v.id));
        if (inventory.machines.length + left.length > 0) {
          found.push(`${id}: ${instance.status}, but the provider holds machines [${inventory.machines.map((m) => m.id)}] volumes [${left.map((v) => v.id)}]`);
        }
        break;
      }
      case 'destroying':
        // A destroy that failed or was lost is run again by the sweep until it ends: only one parked
        // for an operator (its capped tries spent) may remain, visible, with its error.
        if (!instance.destroyParkedAt) found.push(`${id}: destroying, not finished by the sweep (tries ${instance.destroyTries ?? 0}, ${instance.lastDestroyError?.message ?? 'no error recorded'})`);
        break;
      default:
        found.push(`${id}: left in transitional status ${instance.status}`);
    }
  }
  for (const owner of owners) {
    // One item: the reservation (its gate) and the owner's quota counters.
    const reservation = await h.item(keys.reservation(owner));
    if (reservation?.status && !['completed', 'released'].includes(reservation.status as string)) found.push(`${owner}: reservation ${reservation.status} (${reservation.instanceId})`);
    const quota = (reservation?.activeInstances as number | undefined) ?? 0;
    const live = instances.filter((i) => i.owner === owner && i.countsTowardQuota).length;
    if (quota !== live) found.push(`${owner}: quota counts ${quota}, ${live} instances hold a slot`);
  }
  for (const [providerName, inventory] of everything) {
    for (const resource of [...inventory.machines.map((m) => ({ kind: 'machine', r: m })), ...inventory.volumes.map((v) => ({ kind: 'volume', r: v }))]) {
      const owner = byId.get(resource.r.tags.instance);
      if (!owner) continue; // another test's instance (the provider state is shared per file)
      const item = resource.kind === 'volume' ? retained.get(resource.r.id) : undefined;
      if (item?.state === 'deleted') found.push(`volume ${resource.r.id} of ${owner.instanceId} is recorded deleted but still exists`);
      if (item && item.state !== 'deleted') {
        // Kept on purpose: owned by its item (the volume-cleanup sweep's), whatever its instance is now.
        if (item.instanceId !== owner.instanceId) found.push(`volume ${resource.r.id} is retained for ${item.instanceId} but tagged for ${owner.instanceId}`);
        continue;
      }
      const recorded = owner.provider === providerName && (resource.kind === 'machine' ? owner.machineId : owner.volumeId) === resource.r.id;
      const alive = !['destroyed', 'failed'].includes(owner.status);
      if (!(alive && recorded) && owner.status !== 'destroying') found.push(`${resource.kind} ${resource.r.id} on ${providerName} of ${owner.instanceId} (${owner.status}) is owned by nobody`);
    }
  }
  return found;
}

/** Crashes the stack at the k-th call it sees; every call after that hangs, as in a dead host. */
export class Tripwire {
  private calls = 0;
  private tripped = false;

  constructor(
    private readonly at: number,
    private readonly crash: () => void,
  ) {}

  /** True once it fired. */
  get fired(): boolean {
    return this.tripped;
  }

  /** Count one call; on the k-th (and after), fire and never return. */
  async pass(): Promise<void> {
    this.calls += 1;
    if (!this.tripped && this.calls < this.at) return;
    if (!this.tripped) {
      this.tripped = true;
      this.crash();
    }
    await new Promise(() => undefined);
  }
}

/** A provider whose every call first passes the tripwire. */
export function trippedProvider(inner: ComputeProvider, wire: Tripwire): ComputeProvider {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'constructor' || prop === 'shutdown' || prop === 'resumeAfterHostRestart') return value;
      return async (...args: unknown[]) => {
        await wire.pass();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** A client (table, Step Functions) whose every `send` first passes the tripwire. */
export function trippedClient<T extends { send: (...args: never[]) => unknown }>(client: T, wire: Tripwire): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: unknown[]) => {
        await wire.pass();
        return (target.send as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/**
 * Deps for one sweep run whose every table, Step Functions and provider call passes the tripwire:
 * at the k-th the process "dies" there (the call never returns, and nor does any later one — the
 * lease's heartbeat included, as it goes through the same table client).
 */
export function trippedDeps(deps: Deps, wire: Tripwire): Deps {
  return {
    ...deps,
    db: trippedClient(deps.db, wire),
    sfn: trippedClient(deps.sfn, wire),
    providers: registryOf(deps.providers.all().map((provider) => trippedProvider(provider, wire))),
  };
}
