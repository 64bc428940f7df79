/**
 * `ComputeProvider` over the Fly Machines API. One provider object is one Fly app (several may be
 * configured, e.g. one per region group). What Fly does differently from the port, and how it is
 * bridged:
 * - machines carry slipway's tags in `config.metadata`, and lists filter by `metadata.KEY=VALUE`;
 *   volumes keep no metadata, so their names derive from their instance (`volumeNameOf`);
 * - every mutation of an existing machine (start, stop, destroy) holds a lease and sends its nonce,
 *   so two writers never interleave on one machine; the lease is released afterwards;
 * - one `/wait` lasts at most 60 s (then 408): longer waits loop;
 * - `stop` needs a JSON body; deleting an attached volume fails with `failed_precondition`;
 * - an unexpected stop is an `exit` event whose `requested_stop` is false (`Machine.lastExit`);
 * - Fly is not read-your-writes: a just-created machine answers 404 for about a second (flyctl
 *   `WithJustCreated`), so a machine 404 is believed only once it outlasts that window or the machine
 *   was seen before; lists lag creates and deletes (`listLagMs`), so they only *find* ids;
 * - detach is asynchronous: a destroyed machine's volume answers 412 "currently bound" for a while;
 * - volumes are created with the guest's `compute` hint and `require_unique_zone: false` (all of an
 *   instance's volumes share its name, so unique zones would run out after a few recoveries);
 * - snapshots are asynchronous (waiting → running → created) and the create answers no id.
 * Machines run with `restart.policy = "no"`: slipway's reconcile sweep sees an exit and recovers the
 * instance itself, instead of Fly restarting it on the same (possibly bad) volume unseen.
 */
import { DataTransferUnsupportedError, ProviderUnavailableError, MachineNotReadyError, MachineStartFailedError, ProviderResourceNotFoundError, VolumeAttachedError } from '../../shared/errors/provider';
import type {
  ComputeProvider,
  ForkVolumeSpec,
  ImportVolumeSpec,
  FleetPage,
  Inventory,
  Machine,
  MachineHealth,
  MachineSpec,
  MachineState,
  Snapshot,
  TagFilter,
  Volume,
  VolumeSeed,
  VolumeSpec,
} from '../compute-provider';
import { instanceOfMachineName } from '../compute-provider';
import { FlyApi, retryAfterMs, type FlyHttpOptions } from './fly-http';
import { backoff, pause } from '../../shared/retry';
import { FLY_NOT_RUNNING_STATES, GUESTS, machineStateOf, metadataOf, metadataQuery, toMachine, toSnapshot, toVolume } from './fly-mapping';
import type { components } from './machines-api';

type FlyMachine = components['schemas']['Machine'];
type FlySnapshot = components['schemas']['VolumeSnapshot'];

/** How one Fly provider is set up. */
export interface FlyProviderOptions extends FlyHttpOptions {
  /** The provider's configured name (instances record it). */
  name: string;
  /** The Fly app that holds this provider's machines and volumes. */
  app: string;
  /**
   * The Fly organisation the app belongs to, when configured: apps of one organisation can fork each
   * other's volumes (`source_volume_id`), so a switch between them carries the data.
   */
  org?: string;
  /** The port every machine serves HTTP (and its health check) on. */
  httpPort?: number;
  /** Seconds a lease lives if its holder dies before releasing it. */
  leaseTtlSeconds?: number;
  /** Seconds of one `/wait` call (Fly allows at most 60). */
  waitCallSeconds?: number;
  /** How long a just-created machine may answer 404 (flyctl retries it; about a second on Fly). Default 5 s: reading a machine this process never saw and that is really gone waits that long. */
  justCreatedWindowMs?: number;
  /** How far Fly's lists may lag creates and deletes (a second or two on Fly). Default 5 s. */
  listLagMs?: number;
  /** How long a snapshot may take to be listed as created before the call gives up (transient). Default 60 s. */
  snapshotWaitMs?: number;
  /** How long a delete waits for Fly to let go of a volume whose machine was destroyed (detach is asynchronous). Default 60 s. */
  detachWaitMs?: number;
}

/** The lease answer: Fly wraps it in `{status, data}` although the spec says a bare Lease. */
type LeaseAnswer = { nonce?: string; data?: { nonce?: string } };


/** `ComputeProvider` over one Fly app. */
export class FlyComputeProvider implements ComputeProvider {
  readonly name: string;
  readonly app: string;
  readonly org: string | undefined;
  private readonly api: FlyApi;
  private readonly port: number;
  private readonly leaseTtl: number;
  private readonly waitSeconds: number;
  private readonly justCreatedWindowMs: number;
  private readonly snapshotWaitMs: number;
  private readonly detachWaitMs: number;
  /** How far lists may lag: a list that finds nothing proves nothing about a younger create. */
  readonly listLagMs: number;
  /** Machines this process has seen answer: a later 404 for one of them is believed at once. */
  private readonly seen = new Set<string>();

  constructor(options: FlyProviderOptions) {
    this.name = options.name;
    this.app = options.app;
    this.org = options.org;
    this.api = new FlyApi(options);
    this.port = options.httpPort ?? 8080;
    this.leaseTtl = options.leaseTtlSeconds ?? 60;
    this.waitSeconds = Math.min(options.waitCallSeconds ?? 60, 60);
    this.justCreatedWindowMs = options.justCreatedWindowMs ?? 5_000;
    this.listLagMs = options.listLagMs ?? 5_000;
    this.snapshotWaitMs = options.snapshotWaitMs ?? 60_000;
    this.detachWaitMs = options.detachWaitMs ?? 60_000;
  }

  private get client() {
    return this.api.client;
  }

  private appPath() {
    return { path: { app_name: this.app } };
  }

  private machinePath(machineId: string) {
    return { path: { app_name: this.app, machine_id: machineId } };
  }

  // ---- volumes -------------------------------------------------------------------------------

  async createVolume(spec: VolumeSpec): Promise<Volume> {
    const volume = await this.api.call('create volume', () =>
      this.client.POST('/apps/{app_name}/volumes', { params: this.appPath(), body: { name: spec.name, region: spec.region, size_gb: spec.sizeGb, ...placement(spec.machineSize) } }),
    );
    return toVolume(volume);
  }

  async forkVolume(spec: ForkVolumeSpec): Promise<Volume> {
    const source = await this.getVolume(spec.sourceVolumeId);
    if (!source || source.state === 'destroyed') throw new ProviderResourceNotFoundError(`volume ${spec.sourceVolumeId} not found`, { context: { volumeId: spec.sourceVolumeId } });
    // A fork is mountable while it hydrates; Fly copies the data behind it.
    const volume = await this.api.call('fork volume', () =>
      this.client.POST('/apps/{app_name}/volumes', {
        params: this.appPath(),
        body: { name: spec.name, region: source.region, source_volume_id: spec.sourceVolumeId, ...placement(spec.machineSize) },
      }),
    );
    return { ...toVolume(volume), sourceVolumeId: spec.sourceVolumeId };
  }

  async getVolume(volumeId: string): Promise<Volume | null> {
    const volume = await this.api.callOrNull('get volume', () => this.client.GET('/apps/{app_name}/volumes/{volume_id}', { params: { path: { app_name: this.app, volume_id: volumeId } } }));
    return volume ? toVolume(volume) : null;
  }

  /**
   * Idempotent. A volume a live machine mounts answers 412 "currently bound" → VolumeAttachedError;
   * one whose machine was destroyed is waited for (bounded: Fly detaches asynchronously), so a
   * destroy needs one pass. A 404 after an earlier attempt failed (a 5xx whose delete went through)
   * is success.
   */
  async deleteVolume(volumeId: string): Promise<void> {
    const current = await this.getVolume(volumeId);
    if (!current || current.state === 'destroyed') return;
    const deadline = Date.now() + this.detachWaitMs;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.api.callOrNull(`delete volume ${volumeId}`, () => this.client.DELETE('/apps/{app_name}/volumes/{volume_id}', { params: { path: { app_name: this.app, volume_id: volumeId } } }), {
          retryTransient: 3,
        });
        return;
      } catch (error) {
        // Bound to a machine that is destroyed (or gone): Fly has not let go of it yet. Wait, bounded; a live holder is final.
        if (!(error instanceof VolumeAttachedError) || Date.now() > deadline) throw error;
        const holderId = (await this.getVolume(volumeId))?.attachedMachineId ?? (error.context.machineId as string | null) ?? null;
        const holder = holderId ? await this.getMachine(holderId) : null;
        if (holder && holder.state !== 'destroyed') throw error;
        await pause(backoff(attempt, { base: 50, cap: 2_000 }));
      }
    }
  }

  /** Volumes named for `filter.instance` (owner and reservation are not kept on Fly volumes). */
  async findVolumes(filter: TagFilter): Promise<Volume[]> {
    const volumes = await this.api.call('list volumes', () => this.client.GET('/apps/{app_name}/volumes', { params: this.appPath() }));
    return (volumes ?? [])
      .map(toVolume)
      .filter((volume) => volume.state !== 'destroyed' && volume.tags.instance !== '' && (filter.instance === undefined || volume.tags.instance === filter.instance))
      .sort(byCreation);
  }

  /** A volume another app of the same organisation may fork; only when this provider's organisation is configured. */
  async seedOf(volumeId: string): Promise<VolumeSeed> {
    if (!this.org) throw new DataTransferUnsupportedError(`Fly provider ${this.name} names no organisation, so no other app may fork its volumes.`);
    const volume = await this.getVolume(volumeId);
    if (!volume || volume.state === 'destroyed') throw new ProviderResourceNotFoundError(`volume ${volumeId} not found`, { context: { volumeId } });
    return { kind: 'fly-volume', org: this.org, volumeId, sizeGb: volume.sizeGb };
  }

  /** Fork a volume of another app of the same organisation into this app (mountable while it hydrates). */
  async importVolume(spec: ImportVolumeSpec): Promise<Volume> {
    const { seed } = spec;
    if (seed.kind !== 'fly-volume' || !this.org || seed.org !== this.org) {
      throw new DataTransferUnsupportedError(`Fly provider ${this.name} can only fork volumes of its own organisation${this.org ? ` (${this.org})` : ''}.`);
    }
    const volume = await this.api.call('fork volume', () =>
      this.client.POST('/apps/{app_name}/volumes', {
        params: this.appPath(),
        body: { name: spec.name, region: spec.region, size_gb: Math.max(spec.sizeGb, seed.sizeGb), source_volume_id: seed.volumeId, ...placement(spec.machineSize) },
      }),
    );
    return { ...toVolume(volume), sourceVolumeId: seed.volumeId };
  }

  /** Snapshots that are done (`created`); ones still being taken are not yet a copy of anything. */
  async listSnapshots(volumeId: string): Promise<Snapshot[]> {
    return (await this.rawSnapshots(volumeId)).filter((snapshot) => !snapshot.status || snapshot.status === 'created').map((snapshot) => toSnapshot(snapshot, volumeId)).sort(byCreation);
  }

  /**
   * Take a snapshot and wait until it is listed as `created`. Fly answers the create with no id and
   * lists it late, waiting → running → created; one already being taken is waited for instead of
   * taking a second one (a retry after a lost answer finds it so).
   */
  async createSnapshot(volumeId: string): Promise<Snapshot> {
    const before = await this.rawSnapshots(volumeId);
    const inFlight = before.find((snapshot) => snapshot.status && snapshot.status !== 'created' && snapshot.status !== 'failed');
    const known = new Set(before.map((snapshot) => snapshot.id));
    if (!inFlight) await this.api.call('create snapshot', () => this.client.POST('/apps/{app_name}/volumes/{volume_id}/snapshots', { params: { path: { app_name: this.app, volume_id: volumeId } } }));
    const deadline = Date.now() + this.snapshotWaitMs;
    for (let attempt = 1; ; attempt++) {
      const made = (await this.rawSnapshots(volumeId)).filter((snapshot) => (inFlight ? snapshot.id === inFlight.id : !known.has(snapshot.id)));
      const done = made.find((snapshot) => !snapshot.status || snapshot.status === 'created');
      if (done) return toSnapshot(done, volumeId);
      if (made.some((snapshot) => snapshot.status === 'failed')) throw new ProviderUnavailableError(`snapshot of ${volumeId} failed`, { context: { volumeId } });
      if (Date.now() > deadline) throw new ProviderUnavailableError(`snapshot of ${volumeId} is not created yet`, { context: { volumeId } });
      await pause(backoff(attempt, { base: 50, cap: 2_000 }));
    }
  }

  private async rawSnapshots(volumeId: string): Promise<FlySnapshot[]> {
    return (await this.api.call('list snapshots', () => this.client.GET('/apps/{app_name}/volumes/{volume_id}/snapshots', { params: { path: { app_name: this.app, volume_id: volumeId } } }))) ?? [];
  }

  // ---- machines ------------------------------------------------------------------------------

  /**
   * A volume a live machine mounts answers 412 → VolumeAttachedError (one whose machine was destroyed
   * is waited for, bounded: detach is asynchronous); a name another machine of the app holds answers
   * 409 `already_exists` → MachineNameTakenError. The new machine may answer
   * 404 for a while (read-after-create); reads of it wait that out.
   */
  async createMachine(spec: MachineSpec): Promise<Machine> {
    const deadline = Date.now() + this.detachWaitMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.createMachineOnce(spec);
      } catch (error) {
        // Still bound to a machine that is destroyed or gone: Fly has not let go of the volume yet. Wait, bounded; a live holder is final.
        if (!(error instanceof VolumeAttachedError) || Date.now() > deadline) throw error;
        const holderId = (await this.getVolume(spec.volumeId))?.attachedMachineId ?? (error.context.machineId as string | null) ?? null;
        const holder = holderId ? await this.getMachine(holderId) : null;
        if (holder && holder.state !== 'destroyed') throw error;
        await pause(backoff(attempt, { base: 50, cap: 2_000 }));
      }
    }
  }

  private async createMachineOnce(spec: MachineSpec): Promise<Machine> {
    const guest = GUESTS[spec.size];
    const machine = await this.api.call('create machine', () =>
      this.client.POST('/apps/{app_name}/machines', {
        params: this.appPath(),
        body: {
          name: spec.name,
          region: spec.region,
          skip_launch: spec.start === false,
          config: {
            image: spec.image,
            ...(guest ? { guest } : {}),
            env: spec.env ?? {},
            metadata: metadataOf(spec.tags),
            mounts: [{ volume: spec.volumeId, path: spec.mountPath }],
            restart: { policy: 'no' },
            checks: { health: { type: 'http', port: this.port, path: '/healthz', interval: '10s', timeout: '2s', grace_period: '5s' } },
          },
        },
      }),
    );
    return toMachine(machine, this.app, this.port);
  }

  /** The machine, or null once Fly's 404 is believable (see `rawMachine`). */
  async getMachine(machineId: string): Promise<Machine | null> {
    const machine = await this.rawMachine(machineId);
    return machine ? toMachine(machine, this.app, this.port) : null;
  }

  /** Start it; Fly may answer 200 with `status: "error"` when the start did not happen. */
  async startMachine(machineId: string): Promise<Machine> {
    const answer = (await this.withLease(machineId, (nonce) =>
      this.api.call('start machine', () => this.client.POST('/apps/{app_name}/machines/{machine_id}/start', { params: this.machinePath(machineId), headers: nonceHeader(nonce) } as never)),
    )) as { status?: string; error?: string; message?: string } | undefined;
    if (answer?.status === 'error') {
      throw new MachineStartFailedError(`start of machine ${machineId} failed: ${answer.error ?? answer.message ?? 'Fly answered status "error"'}`, { context: { machineId, answer } });
    }
    return this.requireMachine(machineId);
  }

  async stopMachine(machineId: string): Promise<Machine> {
    await this.withLease(machineId, (nonce) =>
      // Fly refuses a stop without a JSON body.
      this.api.call('stop machine', () => this.client.POST('/apps/{app_name}/machines/{machine_id}/stop', { params: this.machinePath(machineId), body: {}, headers: nonceHeader(nonce) } as never)),
    );
    return this.requireMachine(machineId);
  }

  /** Idempotent; `force` stops a running machine first. A failed destroy releases its lease, so a retry is not refused for the lease's TTL. */
  async destroyMachine(machineId: string): Promise<void> {
    const current = await this.getMachine(machineId);
    if (!current || current.state === 'destroyed') return;
    await this.withLease(
      machineId,
      async (nonce) => {
        await this.api.callOrNull('destroy machine', () =>
          this.client.DELETE('/apps/{app_name}/machines/{machine_id}', { params: { ...this.machinePath(machineId), query: { force: true } }, headers: nonceHeader(nonce) } as never),
        );
      },
      { releaseAfter: 'on-failure' },
    );
  }

  async findMachines(filter: TagFilter): Promise<Machine[]> {
    const machines = await this.api.call('list machines', () =>
      // `metadata.KEY=VALUE` filters are real but not in the spec.
      this.client.GET('/apps/{app_name}/machines', { params: { path: { app_name: this.app }, query: metadataQuery(filter) as never } }),
    );
    return (machines ?? []).map((machine) => toMachine(machine, this.app, this.port)).filter((machine) => machine.state !== 'destroyed').sort(byCreation);
  }

  /**
   * The app's machines in every state but started/starting, destroyed ones included, in summary
   * (no config, so the instance is read from the name): `GET /apps/{app}/machines?state=…&
   * include_deleted=true&summary=true` (machines-openapi3.json `Machines_list`). That listing has no
   * cursor in the spec (only the org listing pages), so it is one page. slipway owns the app, so
   * no `metadata.` filter is needed; a machine whose name slipway did not give it is left out.
   */
  async listNotRunning(): Promise<FleetPage> {
    const machines = await this.api.call('list machines not running', () =>
      this.client.GET('/apps/{app_name}/machines', { params: { path: { app_name: this.app }, query: { state: FLY_NOT_RUNNING_STATES.join(','), include_deleted: true, summary: true } } }),
    );
    const fleet = (machines ?? []).map((machine) => ({ id: machine.id ?? '', instanceId: instanceOfMachineName(machine.name), state: machineStateOf(machine.state) }));
    return { machines: fleet.filter((machine) => machine.id && machine.instanceId), cursor: null };
  }

  /** Loops `/wait` (at most 60 s a call, 408 when it runs out) until the state or the caller's timeout. */
  async waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const raw = await this.rawMachine(machineId);
      if (!raw) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
      const machine = toMachine(raw, this.app, this.port);
      if (machine.state === state) return machine;
      if (state === 'started' && ['stopped', 'destroying', 'destroyed'].includes(machine.state)) {
        const exit = machine.lastExit;
        throw new MachineStartFailedError(`machine ${machineId} is ${machine.state} instead of started${exit ? ` (last exit: code ${exit.exitCode}, requested ${exit.requestedStop})` : ''}`, {
          context: { machineId, state: machine.state, lastExit: exit },
        });
      }
      const remaining = Math.ceil((deadline - Date.now()) / 1000);
      if (remaining <= 0) {
        throw new MachineNotReadyError(`machine ${machineId} is ${machine.state}, not ${state}, after ${timeoutMs} ms`, { context: { machineId, state: machine.state, wanted: state } });
      }
      const outcome = await this.client
        // A wait for `stopped` names the instance it waits on: Fly answers 400 without it (flyctl issue #1751, Kilo-Org/cloud PR #297).
        .GET('/apps/{app_name}/machines/{machine_id}/wait', {
          params: { ...this.machinePath(machineId), query: { state, timeout: Math.max(1, Math.min(remaining, this.waitSeconds)), ...(state === 'stopped' && raw.instance_id ? { instance_id: raw.instance_id } : {}) } },
        } as never)
        .catch((error: unknown) => {
          throw new ProviderUnavailableError(`wait for machine ${machineId}: ${String(error)}`, { cause: error });
        });
      const response = (outcome as { response: Response }).response;
      // 200: reached (read it again above); 408: this call's wait ran out (loop); 404: not visible yet (read again above); 429: pace ourselves.
      if (response.status === 429) await pause(retryAfterMs(response, attempt, 2_000));
      else if (response.status === 404) await pause(backoff(attempt, { base: 50, cap: 1_000 }));
      else if (response.status !== 200 && response.status !== 408) await this.api.call('wait for machine', async () => outcome as never);
    }
  }

  /** Healthy when the machine is started and every check Fly runs on it passes. */
  async probeHealth(machineId: string): Promise<MachineHealth> {
    const machine = await this.rawMachine(machineId);
    if (!machine) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    if (machine.state !== 'started') return { healthy: false, status: null, body: null, error: `machine is ${machine.state}` };
    // flaps inserts fake `bg_deployments_compat*` checks for old flyctl versions; they say nothing of health (fly-go `RemoveCompatChecks`).
    const checks = (machine.checks ?? []).filter((check) => !(check.name ?? '').startsWith('bg_deployments_compat'));
    const failing = checks.filter((check) => check.status !== 'passing');
    if (checks.length === 0) return { healthy: false, status: null, body: null, error: 'no check has reported yet' };
    return failing.length === 0
      ? { healthy: true, status: 200, body: checks, error: null }
      : { healthy: false, status: null, body: checks, error: failing.map((check) => `${check.name}: ${check.status}`).join(', ') };
  }

  async inventory(filter: TagFilter): Promise<Inventory> {
    const [machines, volumes] = await Promise.all([this.findMachines(filter), this.findVolumes(filter)]);
    return { machines, volumes };
  }

  // ---- internals -----------------------------------------------------------------------------

  /**
   * One machine as Fly answers it, or null for a 404 that is believable: this process saw the
   * machine answer before (so it is past its read-after-create window), or the 404 outlasted that
   * window. A 404 inside the window may be a machine created a moment ago (flyctl `WithJustCreated`).
   */
  private async rawMachine(machineId: string): Promise<FlyMachine | null> {
    const firstMissAt = Date.now();
    for (let attempt = 1; ; attempt++) {
      const machine = await this.api.callOrNull('get machine', () => this.client.GET('/apps/{app_name}/machines/{machine_id}', { params: this.machinePath(machineId) }));
      if (machine) {
        this.seen.add(machineId);
        return machine;
      }
      if (this.seen.has(machineId) || Date.now() - firstMissAt >= this.justCreatedWindowMs) return null;
      await pause(backoff(attempt, { base: 25, cap: Math.min(1_000, Math.max(1, this.justCreatedWindowMs - (Date.now() - firstMissAt))) }));
    }
  }

  private async requireMachine(machineId: string): Promise<Machine> {
    const machine = await this.getMachine(machineId);
    if (!machine) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    return machine;
  }

  /**
   * Run a mutation under a lease on the machine, sending its nonce. Another holder's lease is 409:
   * transient (ProviderUnavailable), the workflow retries. The lease is released afterwards (a
   * destroyed machine's lease goes with it).
   */
  private async withLease<T>(machineId: string, mutate: (nonce: string) => Promise<T>, options: { releaseAfter?: 'always' | 'on-failure' } = {}): Promise<T> {
    // The machine was read (and is visible) before any mutation, so a 404 here is real.
    if (!(await this.rawMachine(machineId))) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    const lease = await this.api.call('acquire lease', () =>
      this.client.POST('/apps/{app_name}/machines/{machine_id}/lease', { params: this.machinePath(machineId), body: { ttl: this.leaseTtl, description: 'slipway' } }),
    );
    const answer = lease as LeaseAnswer;
    const nonce = answer.data?.nonce ?? answer.nonce;
    if (!nonce) throw new ProviderUnavailableError(`lease on ${machineId} came without a nonce`, { context: { machineId } });
    let failed = false;
    try {
      return await mutate(nonce);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A destroyed machine's lease goes with it; any other lease is released (it would expire by itself, but only after its TTL).
      if (options.releaseAfter !== 'on-failure' || failed) {
        await this.client
          .DELETE('/apps/{app_name}/machines/{machine_id}/lease', { params: { ...this.machinePath(machineId), header: { 'fly-machine-lease-nonce': nonce } } })
          .catch(() => undefined);
      }
    }
  }
}

/**
 * Where a volume goes: on a host that can run the instance's guest (the `compute` hint; without it a
 * later machine can find the host too small, Kilo-Org/cloud PR #388), in any zone (an instance's
 * volumes share its name; Fly's default `require_unique_zone: true` would spread them over zones
 * until a region's few run out).
 */
function placement(machineSize: string | undefined) {
  const guest = machineSize ? GUESTS[machineSize] : undefined;
  return { require_unique_zone: false, ...(guest ? { compute: guest } : {}) };
}

/** The lease nonce header of a mutation. */
function nonceHeader(nonce: string): Record<string, string> {
  return { 'fly-machine-lease-nonce': nonce };
}

/** Oldest first, ties by id: every concurrent caller sees the same order. */
function byCreation<T extends { createdAt: string; id: string }>(a: T, b: T): number {
  return a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt);
}
