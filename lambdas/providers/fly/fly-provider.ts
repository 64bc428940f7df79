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
 * - an unexpected stop is an `exit` event whose `requested_stop` is false (`Machine.lastExit`).
 * Machines run with `restart.policy = "no"`: slipway's reconcile sweep sees an exit and recovers the
 * instance itself, instead of Fly restarting it on the same (possibly bad) volume unseen.
 */
import { DataTransferUnsupportedError, ProviderRejectedError, ProviderUnavailableError, MachineNotReadyError, MachineStartFailedError, ProviderResourceNotFoundError, VolumeAttachedError } from '../../shared/errors';
import type {
  ComputeProvider,
  ForkVolumeSpec,
  ImportVolumeSpec,
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
import { FlyApi, type FlyHttpOptions } from './fly-http';
import { GUESTS, metadataOf, metadataQuery, toMachine, toSnapshot, toVolume } from './fly-mapping';

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
}

/** The lease answer: Fly wraps it in `{status, data}` although the spec says a bare Lease. */
type LeaseAnswer = { nonce?: string; data?: { nonce?: string } };

/** Volume states in which a volume is gone (or going) for good. */
const GONE = new Set(['destroyed']);

/** `ComputeProvider` over one Fly app. */
export class FlyComputeProvider implements ComputeProvider {
  readonly name: string;
  readonly app: string;
  readonly org: string | undefined;
  private readonly api: FlyApi;
  private readonly port: number;
  private readonly leaseTtl: number;
  private readonly waitSeconds: number;

  constructor(options: FlyProviderOptions) {
    this.name = options.name;
    this.app = options.app;
    this.org = options.org;
    this.api = new FlyApi(options);
    this.port = options.httpPort ?? 8080;
    this.leaseTtl = options.leaseTtlSeconds ?? 60;
    this.waitSeconds = Math.min(options.waitCallSeconds ?? 60, 60);
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
      this.client.POST('/apps/{app_name}/volumes', { params: this.appPath(), body: { name: spec.name, region: spec.region, size_gb: spec.sizeGb } }),
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
        body: { name: spec.name, region: source.region, source_volume_id: spec.sourceVolumeId },
      }),
    );
    return { ...toVolume(volume), sourceVolumeId: spec.sourceVolumeId };
  }

  async getVolume(volumeId: string): Promise<Volume | null> {
    const volume = await this.api.callOrNull('get volume', () => this.client.GET('/apps/{app_name}/volumes/{volume_id}', { params: { path: { app_name: this.app, volume_id: volumeId } } }));
    return volume ? toVolume(volume) : null;
  }

  /** Idempotent; a volume a machine still mounts answers `failed_precondition` → VolumeAttachedError. */
  async deleteVolume(volumeId: string): Promise<void> {
    const current = await this.getVolume(volumeId);
    if (!current || current.state === 'destroyed') return;
    if (current.attachedMachineId) {
      throw new VolumeAttachedError(`volume ${volumeId} is attached to machine ${current.attachedMachineId}`, { context: { volumeId, machineId: current.attachedMachineId } });
    }
    const outcome = await this.client.DELETE('/apps/{app_name}/volumes/{volume_id}', { params: { path: { app_name: this.app, volume_id: volumeId } } }).catch((error: unknown) => {
      throw new ProviderUnavailableError(`delete volume ${volumeId}: ${String(error)}`, { cause: error });
    });
    if (outcome.response.ok || outcome.response.status === 404) return;
    const body = outcome.error as { status?: string; error?: string } | undefined;
    if (body?.status === 'failed_precondition' || /attached/i.test(body?.error ?? '')) {
      throw new VolumeAttachedError(`volume ${volumeId} is still attached (${body?.error ?? 'failed_precondition'})`, { context: { volumeId } });
    }
    // Other failures (429 included) go through the common classification by calling again.
    await this.api.call(`delete volume ${volumeId}`, () => this.client.DELETE('/apps/{app_name}/volumes/{volume_id}', { params: { path: { app_name: this.app, volume_id: volumeId } } }));
  }

  /** Volumes named for `filter.instance` (owner and reservation are not kept on Fly volumes). */
  async findVolumes(filter: TagFilter): Promise<Volume[]> {
    const volumes = await this.api.call('list volumes', () => this.client.GET('/apps/{app_name}/volumes', { params: this.appPath() }));
    return (volumes ?? [])
      .map(toVolume)
      .filter((volume) => !GONE.has(volume.state) && volume.tags.instance !== '' && (filter.instance === undefined || volume.tags.instance === filter.instance))
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
        body: { name: spec.name, region: spec.region, size_gb: Math.max(spec.sizeGb, seed.sizeGb), source_volume_id: seed.volumeId },
      }),
    );
    return { ...toVolume(volume), sourceVolumeId: seed.volumeId };
  }

  async listSnapshots(volumeId: string): Promise<Snapshot[]> {
    const snapshots = await this.api.call('list snapshots', () =>
      this.client.GET('/apps/{app_name}/volumes/{volume_id}/snapshots', { params: { path: { app_name: this.app, volume_id: volumeId } } }),
    );
    return (snapshots ?? []).map((snapshot) => toSnapshot(snapshot, volumeId)).sort(byCreation);
  }

  async createSnapshot(volumeId: string): Promise<Snapshot> {
    const before = new Set((await this.listSnapshots(volumeId)).map((snapshot) => snapshot.id));
    await this.api.call('create snapshot', () => this.client.POST('/apps/{app_name}/volumes/{volume_id}/snapshots', { params: { path: { app_name: this.app, volume_id: volumeId } } }));
    const made = (await this.listSnapshots(volumeId)).filter((snapshot) => !before.has(snapshot.id));
    const newest = made[made.length - 1];
    // The API answers 200 without the snapshot; a list that lags says "try again", not "failed".
    if (!newest) throw new ProviderUnavailableError(`snapshot of ${volumeId} not listed yet`, { context: { volumeId } });
    return newest;
  }

  // ---- machines ------------------------------------------------------------------------------

  /** A volume that already has a machine answers `failed_precondition` → VolumeAttachedError. */
  async createMachine(spec: MachineSpec): Promise<Machine> {
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
    ).catch((error: unknown) => {
      if (error instanceof ProviderRejectedError && /already attached|failed_precondition/i.test(error.message)) {
        throw new VolumeAttachedError(`volume ${spec.volumeId} already has a machine`, { cause: error, context: { volumeId: spec.volumeId } });
      }
      throw error;
    });
    return toMachine(machine, this.app, this.port);
  }

  async getMachine(machineId: string): Promise<Machine | null> {
    const machine = await this.api.callOrNull('get machine', () => this.client.GET('/apps/{app_name}/machines/{machine_id}', { params: this.machinePath(machineId) }));
    return machine ? toMachine(machine, this.app, this.port) : null;
  }

  async startMachine(machineId: string): Promise<Machine> {
    await this.withLease(machineId, (nonce) =>
      this.api.call('start machine', () => this.client.POST('/apps/{app_name}/machines/{machine_id}/start', { params: this.machinePath(machineId), headers: nonceHeader(nonce) } as never)),
    );
    return this.requireMachine(machineId);
  }

  async stopMachine(machineId: string): Promise<Machine> {
    await this.withLease(machineId, (nonce) =>
      // Fly refuses a stop without a JSON body.
      this.api.call('stop machine', () => this.client.POST('/apps/{app_name}/machines/{machine_id}/stop', { params: this.machinePath(machineId), body: {}, headers: nonceHeader(nonce) } as never)),
    );
    return this.requireMachine(machineId);
  }

  /** Idempotent; `force` stops a running machine first. */
  async destroyMachine(machineId: string): Promise<void> {
    const current = await this.getMachine(machineId);
    if (!current || current.state === 'destroyed') return;
    await this.withLease(machineId, async (nonce) => {
      await this.api.callOrNull('destroy machine', () =>
        this.client.DELETE('/apps/{app_name}/machines/{machine_id}', { params: { ...this.machinePath(machineId), query: { force: true } }, headers: nonceHeader(nonce) } as never),
      );
    }, { releaseAfter: false });
  }

  async findMachines(filter: TagFilter): Promise<Machine[]> {
    const machines = await this.api.call('list machines', () =>
      // `metadata.KEY=VALUE` filters are real but not in the spec.
      this.client.GET('/apps/{app_name}/machines', { params: { path: { app_name: this.app }, query: metadataQuery(filter) as never } }),
    );
    return (machines ?? []).map((machine) => toMachine(machine, this.app, this.port)).filter((machine) => machine.state !== 'destroyed').sort(byCreation);
  }

  /** Loops `/wait` (at most 60 s a call, 408 when it runs out) until the state or the caller's timeout. */
  async waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const machine = await this.requireMachine(machineId);
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
        .GET('/apps/{app_name}/machines/{machine_id}/wait', { params: { ...this.machinePath(machineId), query: { state, timeout: Math.min(remaining, this.waitSeconds) } } } as never)
        .catch((error: unknown) => {
          throw new ProviderUnavailableError(`wait for machine ${machineId}: ${String(error)}`, { cause: error });
        });
      const status = (outcome as { response: Response }).response.status;
      // 200: reached (read it again above); 408: this call's wait ran out (loop); 429: pace ourselves.
      if (status === 429) await new Promise((resolve) => setTimeout(resolve, 1000));
      else if (status !== 200 && status !== 408) await this.api.call('wait for machine', async () => outcome as never);
    }
  }

  /** Healthy when the machine is started and every check Fly runs on it passes. */
  async probeHealth(machineId: string): Promise<MachineHealth> {
    const machine = await this.api.callOrNull('get machine', () => this.client.GET('/apps/{app_name}/machines/{machine_id}', { params: this.machinePath(machineId) }));
    if (!machine) throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    if (machine.state !== 'started') return { healthy: false, status: null, body: null, error: `machine is ${machine.state}` };
    const checks = machine.checks ?? [];
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
  private async withLease<T>(machineId: string, mutate: (nonce: string) => Promise<T>, options: { releaseAfter?: boolean } = {}): Promise<T> {
    const lease = await this.api.call('acquire lease', () =>
      this.client.POST('/apps/{app_name}/machines/{machine_id}/lease', { params: this.machinePath(machineId), body: { ttl: this.leaseTtl, description: 'slipway' } }),
    );
    const answer = lease as LeaseAnswer;
    const nonce = answer.data?.nonce ?? answer.nonce;
    if (!nonce) throw new ProviderUnavailableError(`lease on ${machineId} came without a nonce`, { context: { machineId } });
    try {
      return await mutate(nonce);
    } finally {
      if (options.releaseAfter !== false) {
        await this.client
          .DELETE('/apps/{app_name}/machines/{machine_id}/lease', { params: { ...this.machinePath(machineId), header: { 'fly-machine-lease-nonce': nonce } } })
          .catch(() => undefined); // it expires by itself
      }
    }
  }
}

/** The lease nonce header of a mutation. */
function nonceHeader(nonce: string): Record<string, string> {
  return { 'fly-machine-lease-nonce': nonce };
}

/** Oldest first, ties by id: every concurrent caller sees the same order. */
function byCreation<T extends { createdAt: string; id: string }>(a: T, b: T): number {
  return a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt.localeCompare(b.createdAt);
}
