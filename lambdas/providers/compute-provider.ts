/**
 * The provider port: what slipway needs from a compute provider (the `local` provider, whose
 * machines are processes on this host, and Fly Machines). Use cases depend on this interface only.
 *
 * Contract every adapter keeps:
 * - Every machine carries ownership tags (owner, instance, reservation); `findMachines` filters by
 *   them, so a retried create can adopt what an earlier attempt made. Volumes carry them where the
 *   provider can (`local`); where it cannot (Fly volumes have no metadata) a volume's name derives
 *   from its instance (`volumeNameOf`), its tags hold only `instance`, and `findVolumes` applies
 *   only the tags a volume carries. Ownership of such a volume is proven by its name and by the id
 *   the table recorded for the instance.
 * - Deletes and destroys of something already gone succeed (idempotent).
 * - Faults surface as the named errors of `lambdas/shared/errors.ts`: `ProviderUnavailableError`
 *   (transient), `ProviderCapacityError`, `ProviderResourceNotFoundError`, `VolumeAttachedError`,
 *   `MachineNameTakenError`.
 * - Reads by id are the truth (an adapter waits out a provider's read-after-create window); lists
 *   may lag (`listLagMs`) and only find ids, never prove absence.
 */

/** Machine sizes slipway offers (Fly's guest presets; the local provider records them). */
export const MACHINE_SIZES = ['shared-cpu-1x', 'shared-cpu-2x', 'performance-1x', 'performance-2x'] as const;
export type MachineSize = (typeof MACHINE_SIZES)[number];

/** Ownership tags stamped on every provider resource (Fly: `config.metadata`). */
export interface ResourceTags {
  owner: string;
  instance: string;
  reservation: string;
}

/** The tag keys as stored on provider resources (prefixed so they never clash with others). */
export const TAG_KEYS = {
  owner: 'slipway_owner',
  instance: 'slipway_instance',
  reservation: 'slipway_reservation',
} as const satisfies Record<keyof ResourceTags, string>;

/** What a volume says about its owner: always its instance; owner and reservation where the provider keeps them. */
export type VolumeTags = Pick<ResourceTags, 'instance'> & Partial<ResourceTags>;

/** A persistent volume. */
export interface Volume {
  id: string;
  name: string;
  region: string;
  sizeGb: number;
  /** `hydrating` while a fork copies its source; mountable all the same. */
  state: 'created' | 'hydrating' | 'destroyed';
  attachedMachineId: string | null;
  sourceVolumeId: string | null;
  tags: VolumeTags;
  createdAt: string;
}

/** A point-in-time copy of a volume. */
export interface Snapshot {
  id: string;
  volumeId: string;
  sizeBytes: number;
  createdAt: string;
}

/** What to create a volume with. */
export interface VolumeSpec {
  name: string;
  region: string;
  sizeGb: number;
  tags: ResourceTags;
  /** The size of the machine that will mount it, so the provider places it on a host that can run it. */
  machineSize?: string;
}

/** What to fork a volume with: a new volume holding a copy of `sourceVolumeId`. */
export interface ForkVolumeSpec {
  name: string;
  sourceVolumeId: string;
  tags: ResourceTags;
  /** As `VolumeSpec.machineSize`. */
  machineSize?: string;
}

/**
 * A volume's data as one provider hands it to another, so a switch can seed the new volume with the
 * old one's data. Each kind says what the importing provider needs: a directory on this host
 * (`local` → `local`: a copy), or a Fly volume another app of the same organisation may fork.
 */
export type VolumeSeed =
  | { kind: 'local-directory'; path: string; volumeId: string; sizeGb: number }
  | { kind: 'fly-volume'; org: string; volumeId: string; sizeGb: number };

/** What to create a volume from a seed with: a new volume holding a copy of the seed's data. */
export interface ImportVolumeSpec extends VolumeSpec {
  seed: VolumeSeed;
}

/** Machine lifecycle states, as Fly names them. */
export type MachineState =
  | 'created'
  | 'starting'
  | 'started'
  | 'stopping'
  | 'stopped'
  | 'destroying'
  | 'destroyed';

/** Why a machine last stopped; `requestedStop: false` is an unexpected exit (a crash). */
export interface MachineExit {
  requestedStop: boolean;
  exitCode: number | null;
  at: string;
}

/** A machine with at most one mount. */
export interface Machine {
  id: string;
  name: string;
  region: string;
  size: string;
  image: string;
  state: MachineState;
  mount: { volumeId: string; path: string } | null;
  tags: ResourceTags;
  /** Where the machine answers over HTTP, when it runs (for `local`, `http://127.0.0.1:<port>`). */
  endpoint: string | null;
  lastExit: MachineExit | null;
  createdAt: string;
}

/** What to create a machine with. The provider starts it unless `start` is false. */
export interface MachineSpec {
  name: string;
  region: string;
  size: string;
  image: string;
  volumeId: string;
  mountPath: string;
  tags: ResourceTags;
  env?: Record<string, string>;
  start?: boolean;
}

/** Result of probing a running machine's health endpoint. */
export interface MachineHealth {
  healthy: boolean;
  status: number | null;
  body: unknown;
  error: string | null;
}

/** Filter for inventory calls: every given tag must match. */
export type TagFilter = Partial<ResourceTags>;

/** Everything a provider holds for a tag filter. */
export interface Inventory {
  machines: Machine[];
  volumes: Volume[];
}

/**
 * A volume's name: derived from its instance, so a provider without volume metadata (Fly) can tell
 * whose it is, and a retried create finds it. Fly allows at most 30 lowercase letters, digits and
 * underscores: `s_` + the instance id's 26-character ULID.
 */
export function volumeNameOf(instanceId: string): string {
  return `s_${instanceId.replace(/^i-/, '')}`;
}

/**
 * A machine's name: unique per incarnation (the instance plus the operation's generation, e.g.
 * `v3` for a provision under reservation version 3, `recover-v7` for a recovery under claim version
 * 7). Fly keeps machine names unique within an app, so a replacement made while the machine it
 * replaces still exists needs a name of its own.
 */
export function machineNameOf(instanceId: string, incarnation: string): string {
  return `${instanceId}-${incarnation}`;
}

/** The instance a machine name (`machineNameOf`) belongs to, or null for a machine slipway did not name. */
export function instanceOfMachineName(name: string | undefined): string | null {
  const match = /^(i-[0-9A-Za-z]+)-/.exec(name ?? '');
  return match ? match[1]! : null;
}

/** Machine states a fleet listing asks for: every one but the running ones (`started`, `starting`). */
export const NOT_RUNNING_STATES: readonly MachineState[] = ['created', 'stopping', 'stopped', 'destroying', 'destroyed'];

/** A machine as a fleet listing shows it: enough to compare with the table, never to act on (act on a GET by id). */
export interface FleetMachine {
  id: string;
  /** The instance it belongs to, by its name (a summary listing carries no metadata). */
  instanceId: string | null;
  state: MachineState;
}

/** A machine's unrequested exit, as a provider that can push reports it. */
export interface MachineExitNotice {
  machineId: string;
  instanceId: string;
}

/** One page of a fleet listing and where the next one starts (null: this was the last). */
export interface FleetPage {
  machines: FleetMachine[];
  cursor: string | null;
}

/** The instance a volume name belongs to, or null for a volume slipway did not name. */
export function instanceOfVolumeName(name: string | undefined): string | null {
  const match = /^s_([0-9a-z]{26})$/.exec(name ?? '');
  return match ? `i-${match[1]}` : null;
}

/** The port. */
export interface ComputeProvider {
  /** The provider's name as stored on instances (`local`, `fly`). */
  readonly name: string;
  /**
   * How far this provider's lists may lag its creates and deletes (ms; Fly: seconds; absent: they
   * do not). A list that finds nothing proves nothing about a create younger than this.
   */
  readonly listLagMs?: number;

  createVolume(spec: VolumeSpec): Promise<Volume>;
  forkVolume(spec: ForkVolumeSpec): Promise<Volume>;
  getVolume(volumeId: string): Promise<Volume | null>;
  /** Idempotent; throws `VolumeAttachedError` while a (non-destroyed) machine mounts it. */
  deleteVolume(volumeId: string): Promise<void>;
  findVolumes(filter: TagFilter): Promise<Volume[]>;
  listSnapshots(volumeId: string): Promise<Snapshot[]>;
  createSnapshot(volumeId: string): Promise<Snapshot>;
  /** Hand a volume's data to another provider (`DataTransferUnsupportedError` when this one cannot). */
  seedOf(volumeId: string): Promise<VolumeSeed>;
  /** Create a volume holding a copy of a seed's data; `DataTransferUnsupportedError` for a seed it cannot import. */
  importVolume(spec: ImportVolumeSpec): Promise<Volume>;

  createMachine(spec: MachineSpec): Promise<Machine>;
  getMachine(machineId: string): Promise<Machine | null>;
  startMachine(machineId: string): Promise<Machine>;
  stopMachine(machineId: string): Promise<Machine>;
  /** Idempotent; stops the machine first when it runs. */
  destroyMachine(machineId: string): Promise<void>;
  findMachines(filter: TagFilter): Promise<Machine[]>;
  /**
   * One page of slipway's machines that are NOT running (`NOT_RUNNING_STATES`, destroyed ones
   * included), after `cursor`: the drift inventory's one listing per sweep. Like every list it may
   * lag; it names candidates, a GET by id decides.
   */
  listNotRunning(cursor?: string): Promise<FleetPage>;
  /**
   * Where the provider can push (local: it owns the machine processes), call `listener` as soon as
   * a machine exits without being asked; returns the unsubscribe. Absent (Fly): the next inventory sees it.
   */
  onUnrequestedExit?(listener: (exit: MachineExitNotice) => void): () => void;
  /**
   * Wait until the machine is in `state`, at most `timeoutMs` (Fly caps one wait at 60 s).
   * Throws `MachineNotReadyError` on timeout and `MachineStartFailedError` when waiting for
   * `started` and the machine stopped instead.
   */
  waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine>;
  /** One HTTP health probe of a started machine. */
  probeHealth(machineId: string): Promise<MachineHealth>;

  /** Machines and volumes matching the filter. */
  inventory(filter: TagFilter): Promise<Inventory>;
}

/** Looks up the adapter for an instance's provider. */
export interface ProviderRegistry {
  get(name: string): ComputeProvider;
  /** Every configured adapter (the sweep inventories each for orphans). */
  all(): ComputeProvider[];
}
