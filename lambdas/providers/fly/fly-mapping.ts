/** How slipway's port maps onto Fly's shapes: states, sizes, tags, volume names. */
import type { Machine, MachineExit, MachineState, ResourceTags, Snapshot, TagFilter, Volume } from '../compute-provider';
import { TAG_KEYS, instanceOfVolumeName } from '../compute-provider';
import type { components } from './machines-api';

type FlyMachine = components['schemas']['Machine'];
type FlyVolume = components['schemas']['Volume'];
type FlySnapshot = components['schemas']['VolumeSnapshot'];
type FlyGuest = components['schemas']['fly.MachineGuest'];

/** slipway's sizes as Fly guest presets. */
export const GUESTS: Record<string, FlyGuest> = {
  'shared-cpu-1x': { cpu_kind: 'shared', cpus: 1, memory_mb: 256 },
  'shared-cpu-2x': { cpu_kind: 'shared', cpus: 2, memory_mb: 512 },
  'performance-1x': { cpu_kind: 'performance', cpus: 1, memory_mb: 2048 },
  'performance-2x': { cpu_kind: 'performance', cpus: 2, memory_mb: 4096 },
};

/** Fly machine states that the port names differently. */
const MACHINE_STATES: Record<string, MachineState> = {
  created: 'created',
  starting: 'starting',
  started: 'started',
  stopping: 'stopping',
  stopped: 'stopped',
  suspending: 'stopping',
  suspended: 'stopped',
  replacing: 'starting',
  updating: 'starting',
  launch_failed: 'stopped',
  failed: 'stopped',
  destroying: 'destroying',
  destroyed: 'destroyed',
};

/** Fly's states that are not running in the port's terms: what the drift inventory lists (`state=` is comma-separated). */
export const FLY_NOT_RUNNING_STATES: readonly string[] = Object.keys(MACHINE_STATES).filter((state) => !['started', 'starting'].includes(MACHINE_STATES[state]!));

/** The port's state of a Fly machine state (unknown states read as `created`, never as running). */
export function machineStateOf(state: string | undefined): MachineState {
  return MACHINE_STATES[state ?? ''] ?? 'created';
}

/** The tags a machine carries in `config.metadata`. */
export function metadataOf(tags: ResourceTags): Record<string, string> {
  return { [TAG_KEYS.owner]: tags.owner, [TAG_KEYS.instance]: tags.instance, [TAG_KEYS.reservation]: tags.reservation };
}

/** A metadata filter as Fly's list query (`metadata.KEY=VALUE`, which the spec does not list). */
export function metadataQuery(filter: TagFilter): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(filter) as Array<[keyof ResourceTags, string | undefined]>) {
    if (value !== undefined) query[`metadata.${TAG_KEYS[key]}`] = value;
  }
  return query;
}

/** The last exit event of a machine: `requested_stop == false` is an unexpected stop. */
function lastExitOf(machine: FlyMachine): MachineExit | null {
  const exits = (machine.events ?? []).filter((event) => event.type === 'exit').sort((a, b) => (b.timestamp ?? 0) - (a.timestamp ?? 0));
  const last = exits[0];
  if (!last) return null;
  const exitEvent = (last.request as { exit_event?: { requested_stop?: boolean; exit_code?: number } } | undefined)?.exit_event;
  return { requestedStop: exitEvent?.requested_stop ?? true, exitCode: exitEvent?.exit_code ?? null, at: new Date(last.timestamp ?? 0).toISOString() };
}

/**
 * The port's view of a Fly machine. Its endpoint is its address on the app's private network
 * (`<id>.vm.<app>.internal`): Lambda cannot reach it, callers inside the Fly organisation can; health
 * comes from the machine's checks as the API reports them (see `probeHealth`).
 */
export function toMachine(machine: FlyMachine, app: string, port: number): Machine {
  const metadata = (machine.config?.metadata ?? {}) as Record<string, string>;
  const mount = machine.config?.mounts?.[0];
  const state = machineStateOf(machine.state);
  return {
    id: machine.id ?? '',
    name: machine.name ?? '',
    region: machine.region ?? '',
    size: sizeOf(machine.config?.guest),
    image: machine.config?.image ?? '',
    state,
    mount: mount?.volume ? { volumeId: mount.volume, path: mount.path ?? '' } : null,
    tags: { owner: metadata[TAG_KEYS.owner] ?? '', instance: metadata[TAG_KEYS.instance] ?? '', reservation: metadata[TAG_KEYS.reservation] ?? '' },
    endpoint: state === 'started' ? `http://${machine.id}.vm.${app}.internal:${port}` : null,
    lastExit: lastExitOf(machine),
    createdAt: machine.created_at ?? '',
  };
}

function sizeOf(guest: FlyGuest | undefined): string {
  const found = Object.entries(GUESTS).find(([, preset]) => preset.cpu_kind === guest?.cpu_kind && preset.cpus === guest?.cpus && preset.memory_mb === guest?.memory_mb);
  return found?.[0] ?? 'custom';
}

/** Volume states in which a volume is going or gone for good (fly-go flaps/flaps_volumes.go `destroyedVolumeStates`, plus `destroyed`). */
export const GONE_VOLUME_STATES: ReadonlySet<string> = new Set(['scheduling_destroy', 'fork_cleanup', 'waiting_for_detach', 'pending_destroy', 'destroying', 'destroyed']);

/** Fly volume states that the port names differently. */
export function volumeStateOf(state: string | undefined): Volume['state'] {
  if (!state) return 'created';
  if (GONE_VOLUME_STATES.has(state) || /destroy/.test(state)) return 'destroyed';
  if (state === 'hydrating' || state === 'restoring') return 'hydrating';
  return 'created';
}

/** The port's view of a Fly volume; its tags hold only the instance its name names. */
export function toVolume(volume: FlyVolume): Volume {
  const instance = instanceOfVolumeName(volume.name);
  return {
    id: volume.id ?? '',
    name: volume.name ?? '',
    region: volume.region ?? '',
    sizeGb: volume.size_gb ?? 0,
    state: volumeStateOf(volume.state),
    attachedMachineId: volume.attached_machine_id || null,
    sourceVolumeId: null,
    tags: { instance: instance ?? '' },
    createdAt: volume.created_at ?? '',
  };
}

/** The port's view of a Fly snapshot. */
export function toSnapshot(snapshot: FlySnapshot, volumeId: string): Snapshot {
  return { id: snapshot.id ?? '', volumeId, sizeBytes: snapshot.size ?? 0, createdAt: snapshot.created_at ?? '' };
}
