/**
 * A fake Fly Machines API for tests: a real HTTP server on loopback that routes and validates every
 * request against the Fly spec (openapi-backend, with every listed-properties object closed, see
 * strict-spec.ts) and keeps machines, volumes, snapshots, leases and events in memory.
 *
 * It behaves as Fly does, not only as the spec reads: each behaviour is a knob of `FlyBehaviours`
 * (behaviours.ts, with its source), all on by default with small delays, and listed with its source
 * and how the adapter copes in README.md. Besides those, from shared/fly/PROVENANCE.md:
 * - lease answers wrapped in `{status, data}`; 409 for a mutation without the nonce while a lease is held;
 * - `/wait` holds at most 60 s (`timeout` in seconds; scaled by `secondMs` in tests) then 408
 *   `deadline_exceeded`;
 * - `stop` without a JSON body is refused (superfly/docs issue #2187);
 * - `metadata.KEY=VALUE` list filters, and the spec's `state`, `include_deleted` and `summary`;
 *   `exit` events with `requested_stop`;
 * - both token schemes: a macaroon token (`fm2_…`, as `fly tokens deploy` prints it) must come as
 *   `FlyV1 <token>`, any other as `Bearer <token>` (fly-go auth.go `AuthorizationHeader`);
 * - faults (any status, body, Retry-After) injected per operation; capacity bodies in behaviours.ts.
 * One fake is one Fly organisation: each app's machines and volumes are its own (lists, reads and
 * writes by id answer only within the app in the path), and a volume create may fork
 * (`source_volume_id`) a volume of any app of the organisation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAPIBackend, { type Context, type Request as BackendRequest } from 'openapi-backend';
import { REAL_BEHAVIOURS_FAST, SPEC_ONLY, type FlyBehaviours } from './behaviours';
import { strictSpec } from './strict-spec';

type Json = Record<string, any>;

/** A fault to answer instead of handling, for the next `times` calls of an operation. */
export interface Fault {
  status: number;
  body?: Json;
  /** Seconds, sent as Retry-After (429s with and without it both happen). */
  retryAfter?: number;
  times?: number;
  /** Handle the request first, then answer with the fault (the caller never learns it worked). */
  after?: boolean;
}

/** How the fake behaves. */
export interface FakeFlyOptions {
  app?: string;
  /** The API token; one starting `fm2_` (or `FlyV1 fm2_`) is a macaroon and must come as `FlyV1`. */
  token?: string;
  /** Milliseconds a "second" of Fly's lasts here (wait timeouts, lease TTLs); default 1000. */
  secondMs?: number;
  /** How long a machine takes to start (ms). */
  startMs?: number;
  /** How long a machine takes to stop (ms). */
  stopMs?: number;
  /** Fly's real behaviours (all on by default, with small delays); `'spec'` turns them all off. */
  behaviours?: Partial<FlyBehaviours> | 'spec';
}

interface MachineRecord extends Json {
  id: string;
  app: string;
  name: string;
  state: string;
  config: Json;
  events: Json[];
  checks: Json[];
  lease: { nonce: string; expiresAt: number } | null;
  /** Real-time ms: answered by id from then on (read-after-create). */
  visibleAt: number;
  /** Real-time ms: lists show it from then on, and show its last pre-destroy view until `delistAt`. */
  listedAt: number;
  delistAt: number | null;
  listedView: Json | null;
}

interface VolumeRecord extends Json {
  id: string;
  app: string;
  name: string;
  state: string;
  zone: string;
  files: Map<string, string>;
  /** The guest the volume's host was chosen for (the `compute` hint, or the smallest guest). */
  host: { cpu_kind: string; cpus: number; memory_mb: number };
  /** Until when a destroyed machine still holds it (detach is asynchronous). */
  boundUntil: number;
  listedAt: number;
  delistAt: number | null;
  listedView: Json | null;
}

interface SnapshotRecord extends Json {
  id: string;
  status: string;
  listedAt: number;
}

/** A running fake. */
export interface FakeFly {
  url: string;
  /** The base URL an adapter uses (`<url>/v1`). */
  baseUrl: string;
  token: string;
  app: string;
  /** The behaviours in force (an adapter pointed at the fake sizes its consistency windows by them). */
  behaviours: FlyBehaviours;
  /** Answer the next call(s) of an operation (its spec operationId, e.g. `Machines_create`) with a fault. */
  inject(operationId: string, fault: Fault): void;
  /** Every request seen: operation id, method, path, query, body, status answered. */
  calls: Array<{ operationId: string; method: string; path: string; query: Record<string, string>; body: unknown; nonce: string | null; status?: number }>;
  /** Requests the spec refused (400 from validation). */
  rejected: Array<{ path: string; errors: unknown }>;
  machine(id: string): MachineRecord | undefined;
  volume(id: string): VolumeRecord | undefined;
  machines(): MachineRecord[];
  volumes(): VolumeRecord[];
  /** Snapshots of a volume, whatever their status (the truth, not the lagging list). */
  snapshotsOf(volumeId: string): SnapshotRecord[];
  /** Take a snapshot as Fly's daily backup does (created at once, listed after the lag). */
  snapshot(volumeId: string): void;
  /** The machine's process dies on its own: `stopped` with an `exit` event, `requested_stop: false`. */
  crash(machineId: string, exitCode?: number): void;
  /**
   * Put machines in the app as they would be long after their create (visible and listed, started):
   * for benches that need a fleet of thousands without creating each one through the API. Returns their ids.
   */
  seedStartedMachines(machines: Array<{ name: string; metadata: Record<string, string>; volumeId: string }>): string[];
  /** Hold a lease on a machine as another client would. */
  holdLease(machineId: string, seconds?: number): string;
  /** Make a machine's health check fail (or pass again). */
  setCheck(machineId: string, status: 'passing' | 'critical'): void;
  /** A file on a volume (what a machine wrote), for data tests. */
  writeFile(volumeId: string, file: string, content: string): void;
  readFile(volumeId: string, file: string): string | undefined;
  reset(): void;
  close(): Promise<void>;
}

const now = () => new Date().toISOString();
const flyId = () => randomBytes(7).toString('hex');
/** Volume states in which a volume is going or gone (fly-go flaps/flaps_volumes.go `destroyedVolumeStates`, plus `destroyed`). */
const GONE_VOLUME_STATES = new Set(['scheduling_destroy', 'fork_cleanup', 'waiting_for_detach', 'pending_destroy', 'destroying', 'destroyed']);
/** The smallest guest: a host chosen without a `compute` hint is sized for it. */
const SMALLEST_GUEST = { cpu_kind: 'shared', cpus: 1, memory_mb: 256 };
/** Operations with their own rate limit (Get Machine: 5/s, burst 10); all others 1/s, burst 3. */
const FAST_READS = new Set(['Machines_show']);

/** Whether a token is a macaroon, which Fly takes only as `FlyV1 <token>` (fly-go auth.go). */
export function isMacaroonToken(token: string): boolean {
  return token.split(',').some((part) => ['fm1r', 'fm2'].includes(part.split('_')[0]!));
}

/** Start the fake on a free loopback port. */
export async function startFakeFly(options: FakeFlyOptions = {}): Promise<FakeFly> {
  const app = options.app ?? 'slipway-test';
  const token = (options.token ?? `fake-${randomUUID()}`).replace(/^FlyV1\s+/, '');
  const expectedAuthorization = `${isMacaroonToken(token) ? 'FlyV1' : 'Bearer'} ${token}`;
  const second = options.secondMs ?? 1000;
  const startMs = options.startMs ?? 20;
  const stopMs = options.stopMs ?? 20;
  const behaviours: FlyBehaviours = options.behaviours === 'spec' ? { ...SPEC_ONLY } : { ...REAL_BEHAVIOURS_FAST, ...options.behaviours };
  const machines = new Map<string, MachineRecord>();
  const volumes = new Map<string, VolumeRecord>();
  const snapshots = new Map<string, SnapshotRecord[]>();
  const faults = new Map<string, Fault[]>();
  const buckets = new Map<string, { tokens: number; at: number }>();
  const calls: FakeFly['calls'] = [];
  const rejected: FakeFly['rejected'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();
  let rateLimited = 0;
  let closing = false;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
      for (const wake of [...waiters]) wake();
    }, ms);
    timers.add(timer);
  };
  const changed = () => {
    for (const wake of [...waiters]) wake();
  };

  const api = new OpenAPIBackend({ definition: strictSpec() as never, apiRoot: '/v1', validate: true, quick: true });

  const answer = (status: number, body?: unknown, headers: Record<string, string> = {}) => ({ status, body, headers });
  const error = (status: number, message: string, flyStatus?: string) => answer(status, { error: message, ...(flyStatus ? { status: flyStatus } : {}) });

  /** flaps adds fake `bg_deployments_compat*` checks for old flyctl versions (fly-go machine_types.go). */
  const withCompat = (checks: Json[]) =>
    behaviours.compatChecks && checks.length > 0 ? [...checks, { name: 'bg_deployments_compat_http', status: 'warning', output: 'compat', updated_at: now() }] : checks;
  const view = (m: MachineRecord): Json => {
    const { lease: _lease, app: _app, visibleAt: _v, listedAt: _l, delistAt: _d, listedView: _lv, ...rest } = m;
    return { ...rest, checks: withCompat(m.checks) };
  };
  const volumeView = (v: VolumeRecord): Json => {
    const { files: _files, app: _app, host: _host, boundUntil: _b, listedAt: _l, delistAt: _d, listedView: _lv, ...rest } = v;
    return { ...rest, attached_machine_id: v.attached_machine_id ?? null };
  };
  /** A list as Fly serves it: what was created too recently is missing, what was deleted recently still shows as it was. */
  const listed = <T extends { listedAt: number; delistAt: number | null; listedView: Json | null }>(records: T[], live: (r: T) => boolean, render: (r: T) => Json): Json[] => {
    const t = Date.now();
    const out: Json[] = [];
    for (const r of records) {
      if (r.listedAt > t) continue;
      if (live(r)) out.push(render(r));
      else if (r.delistAt !== null && r.delistAt > t && r.listedView) out.push(r.listedView);
    }
    return out;
  };
  /** Remember how a resource looked in lists before it went, for the lag window. */
  const delist = (r: { delistAt: number | null; listedView: Json | null; listedAt: number }, lastView: Json) => {
    r.delistAt = Date.now() + behaviours.listLagMs;
    r.listedView = r.listedAt <= Date.now() ? lastView : null;
  };

  /** The app in the request's path; every record answers only within its own app. */
  const appOf = (c: Context) => c.request.params.app_name as string;
  /** A machine by id in the path's app, once it is visible by id (flyctl `WithJustCreated`). */
  const machineIn = (c: Context) => {
    const m = machines.get(c.request.params.machine_id as string);
    return m && m.app === appOf(c) && m.visibleAt <= Date.now() ? m : undefined;
  };
  const volumeIn = (c: Context, id = c.request.params.volume_id as string) => {
    const v = volumes.get(id);
    return v && v.app === appOf(c) ? v : undefined;
  };
  const volumeGone = (v: VolumeRecord) => GONE_VOLUME_STATES.has(v.state);
  /** The machine a volume is bound to: its mounting machine, or a destroyed one until detach finishes. */
  const boundTo = (v: VolumeRecord): string | null => {
    const holder = v.attached_machine_id as string | null;
    if (!holder) return null;
    const m = machines.get(holder);
    if (m && m.state !== 'destroyed') return holder;
    if (v.boundUntil > Date.now()) return holder;
    v.attached_machine_id = null;
    return null;
  };

  const leaseHeld = (m: MachineRecord) => m.lease && m.lease.expiresAt > Date.now();
  /** A mutation of a leased machine must carry that lease's nonce. */
  const fenced = (m: MachineRecord, request: BackendRequest) => {
    if (!leaseHeld(m)) return null;
    const nonce = request.headers['fly-machine-lease-nonce'];
    return nonce === m.lease!.nonce ? null : error(409, 'machine is leased by another client; send fly-machine-lease-nonce');
  };

  const event = (m: MachineRecord, type: string, status: string, request: Json = {}) => {
    m.events.unshift({ id: randomUUID(), type, status, source: 'flyd', timestamp: Date.now(), request });
    m.events = m.events.slice(0, 10);
  };

  const boot = (m: MachineRecord) => {
    m.state = 'starting';
    // Every start is a new instance of the machine (the `instance_id` a stopped-wait names).
    m.instance_id = randomUUID();
    event(m, 'start', 'started');
    // Like the local image, every boot leaves a line on its volume, so data tests can follow it.
    for (const mount of m.config.mounts ?? []) {
      const volume = volumes.get(mount.volume);
      if (volume) volume.files.set('boots.log', `${volume.files.get('boots.log') ?? ''}${new Date().toISOString()} ${m.id}\n`);
    }
    later(startMs, () => {
      if (m.state !== 'starting') return;
      m.state = 'started';
      m.updated_at = now();
      m.checks = [{ name: 'health', status: 'passing', output: 'ok', updated_at: now() }];
    });
  };

  const halt = (m: MachineRecord, requestedStop: boolean, exitCode: number) => {
    m.state = 'stopping';
    later(stopMs, () => {
      if (m.state !== 'stopping') return;
      m.state = 'stopped';
      m.checks = [];
      event(m, 'exit', 'stopped', { exit_event: { requested_stop: requestedStop, exit_code: exitCode } });
    });
  };

  const machineOf = (c: Context) => {
    const m = machineIn(c);
    return m && m.state !== 'destroyed' ? m : undefined;
  };
  const notFound = () => error(404, 'machine not found', 'not_found');

  /** Whether a guest fits the host a volume was placed on. */
  const fits = (guest: Json | undefined, host: VolumeRecord['host']) => {
    const g = { cpu_kind: guest?.cpu_kind ?? 'shared', cpus: guest?.cpus ?? 1, memory_mb: guest?.memory_mb ?? 256 };
    return (host.cpu_kind === 'performance' || g.cpu_kind === 'shared') && g.cpus <= host.cpus && g.memory_mb <= host.memory_mb;
  };

  /** A zone for a new volume, honouring `require_unique_zone` (Fly's default: true). */
  const zoneFor = (appName: string, body: Json, region: string, source?: VolumeRecord): string | null => {
    const zones = Array.from({ length: Math.max(1, behaviours.zonesPerRegion) }, (_, i) => `${region}${String(i + 1).padStart(2, '0')}`);
    if (body.require_unique_zone === false) return source && source.region === region ? source.zone : zones[0]!;
    const taken = new Set(
      [...volumes.values()].filter((v) => v.app === appName && v.region === region && !volumeGone(v) && (body.unique_zone_app_wide || v.name === body.name)).map((v) => v.zone),
    );
    return zones.find((zone) => !taken.has(zone)) ?? null;
  };

  const handlers: Record<string, (c: Context, request: BackendRequest) => ReturnType<typeof answer> | Promise<ReturnType<typeof answer>>> = {
    Machines_list: (c) => {
      const query = c.request.query as Record<string, string>;
      const filters = Object.entries(query).filter(([key]) => key.startsWith('metadata.'));
      const inApp = [...machines.values()].filter((m) => m.app === appOf(c));
      // machines-openapi3.json `Machines_list`: `include_deleted` lists destroyed machines too, `state`
      // is a comma-separated filter, `summary` omits config, checks, events, host_status and nonce.
      const flag = (value: unknown) => value === true || value === 'true';
      const states = typeof query.state === 'string' && query.state ? new Set(query.state.split(',')) : null;
      const all = listed(inApp, (m) => flag(query.include_deleted) || m.state !== 'destroyed', view)
        .filter((m) => filters.every(([key, value]) => m.config?.metadata?.[key.slice('metadata.'.length)] === value))
        .filter((m) => !states || states.has(m.state));
      const summarised = (m: Json): Json => {
        const { config: _config, checks: _checks, events: _events, host_status: _host, nonce: _nonce, ...rest } = m;
        return rest;
      };
      return answer(200, flag(query.summary) ? all.map(summarised) : all);
    },
    Machines_create: (c) => {
      const body = c.request.requestBody as Json;
      const name = (body.name as string | undefined) ?? flyId();
      // Machine names are unique within an app (Kilo-Org/cloud PR #1135: 409 `already_exists`, the id in the body).
      const holder = [...machines.values()].find((m) => m.app === appOf(c) && m.name === name && m.state !== 'destroyed');
      if (holder) return error(409, `already_exists: a machine named "${name}" already exists (machine ID ${holder.id})`, 'already_exists');
      for (const mount of body.config?.mounts ?? []) {
        const volume = volumeIn(c, mount.volume);
        if (!volume || volumeGone(volume)) return error(400, `volume not found: ${mount.volume}`);
        const bound = boundTo(volume);
        if (bound) return error(412, `failed_precondition: volume is currently bound to machine: ${bound}`, 'failed_precondition');
        if (behaviours.hostsSizedByHint && !fits(body.config?.guest, volume.host)) return error(412, 'insufficient resources to create new machine with existing volume');
      }
      const t = Date.now();
      const m: MachineRecord = {
        id: flyId(),
        app: appOf(c),
        name,
        region: body.region ?? 'ams',
        state: 'created',
        config: body.config ?? {},
        instance_id: randomUUID(),
        private_ip: 'fdaa::1',
        created_at: now(),
        updated_at: now(),
        events: [],
        checks: [],
        lease: null,
        visibleAt: t + behaviours.readAfterCreateMs,
        listedAt: t + behaviours.listLagMs,
        delistAt: null,
        listedView: null,
      };
      machines.set(m.id, m);
      for (const mount of m.config.mounts ?? []) volumes.get(mount.volume)!.attached_machine_id = m.id;
      event(m, 'launch', 'created');
      if (!body.skip_launch) boot(m);
      return answer(200, view(m));
    },
    Machines_show: (c) => {
      const m = machineIn(c);
      return m ? answer(200, view(m)) : notFound();
    },
    Machines_start: (c, request) => {
      const m = machineOf(c);
      if (!m) return notFound();
      const refused = fenced(m, request);
      if (refused) return refused;
      const previous = m.state;
      if (m.state === 'stopped' || m.state === 'created') boot(m);
      return answer(200, { previous_state: previous });
    },
    Machines_stop: (c, request) => {
      const m = machineOf(c);
      if (!m) return notFound();
      // Fly refuses a stop without a JSON body (superfly/docs issue #2187).
      if (c.request.requestBody === undefined || c.request.requestBody === null || c.request.requestBody === '') return error(400, 'json: cannot unmarshal into Go value of type main.stopRequest');
      const refused = fenced(m, request);
      if (refused) return refused;
      if (m.state === 'started' || m.state === 'starting') halt(m, true, 0);
      return answer(200, { ok: true });
    },
    Machines_delete: (c, request) => {
      const m = machineOf(c);
      if (!m) return notFound();
      const refused = fenced(m, request);
      if (refused) return refused;
      const force = String((c.request.query as Json).force) === 'true';
      if (!force && (m.state === 'started' || m.state === 'starting')) return error(412, 'failed_precondition: machine still active, refusing to destroy', 'failed_precondition');
      const last = view(m);
      m.state = 'destroyed';
      m.checks = [];
      m.lease = null;
      event(m, 'destroy', 'destroyed');
      delist(m, last);
      // The volume is let go of asynchronously: it stays bound for the detach window.
      for (const mount of m.config.mounts ?? []) {
        const volume = volumes.get(mount.volume);
        if (volume?.attached_machine_id === m.id) volume.boundUntil = Date.now() + behaviours.detachMs;
      }
      return answer(200, { ok: true });
    },
    Machines_create_lease: (c) => {
      const m = machineOf(c);
      if (!m) return notFound();
      if (leaseHeld(m)) return error(409, `lease currently held by another client (expires ${new Date(m.lease!.expiresAt).toISOString()})`);
      const ttl = Number((c.request.requestBody as Json)?.ttl ?? 30);
      m.lease = { nonce: randomBytes(8).toString('hex'), expiresAt: Date.now() + ttl * second };
      // Fly wraps the lease in an envelope although the spec says a bare Lease.
      return answer(201, { status: 'success', data: { nonce: m.lease.nonce, expires_at: Math.floor(m.lease.expiresAt / 1000), owner: 'slipway@test', description: 'slipway', version: 'v1' } });
    },
    Machines_release_lease: (c, request) => {
      const m = machineIn(c);
      if (!m) return notFound();
      if (m.lease && request.headers['fly-machine-lease-nonce'] !== m.lease.nonce) return error(409, 'wrong lease nonce');
      m.lease = null;
      return answer(200, {});
    },
    Machines_wait: async (c) => {
      const m = machineIn(c);
      if (!m) return notFound();
      const query = c.request.query as Json;
      const timeout = Number(query.timeout ?? 60);
      if (timeout > 60) return error(400, 'timeout must be at most 60 seconds');
      const wanted = String(query.state ?? 'started');
      const instanceId = query.instance_id as string | undefined;
      if (wanted === 'stopped' && !instanceId && behaviours.stoppedWaitNeedsInstanceId) return error(400, 'instance_id required when waiting for stopped machine');
      // A wait for an instance the machine has left behind (it started again since) is over: that instance stopped.
      const reached = () => m.state === wanted || (instanceId !== undefined && wanted === 'stopped' && m.instance_id !== instanceId);
      if (!reached()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, timeout * second);
          function done() {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
          function check() {
            if (reached() || closing) done();
          }
          waiters.add(check);
        });
      }
      return reached() ? answer(200, { ok: true, state: m.state }) : error(408, 'deadline_exceeded: machine did not reach the state in time', 'deadline_exceeded');
    },
    Volumes_list: (c) => answer(200, listed([...volumes.values()].filter((v) => v.app === appOf(c)), (v) => !volumeGone(v), (v) => (boundTo(v), volumeView(v)))),
    Volumes_create: (c) => {
      const body = c.request.requestBody as Json;
      const source = body.source_volume_id ? volumes.get(body.source_volume_id) : undefined;
      if (body.source_volume_id && (!source || volumeGone(source))) return error(404, `volume not found: ${body.source_volume_id}`);
      const region = body.region ?? source?.region ?? 'ams';
      const zone = zoneFor(appOf(c), body, region, source);
      if (zone === null) return error(400, 'no capacity');
      const t = Date.now();
      const v: VolumeRecord = {
        id: `vol_${flyId()}`,
        app: appOf(c),
        name: body.name,
        region,
        size_gb: body.size_gb ?? source?.size_gb ?? 1,
        state: source ? 'hydrating' : 'created',
        attached_machine_id: null,
        created_at: now(),
        encrypted: true,
        fstype: 'ext4',
        zone,
        files: new Map(source?.files ?? []),
        host: body.compute ? { cpu_kind: body.compute.cpu_kind ?? 'shared', cpus: body.compute.cpus ?? 1, memory_mb: body.compute.memory_mb ?? 256 } : { ...SMALLEST_GUEST },
        boundUntil: 0,
        listedAt: t + behaviours.listLagMs,
        delistAt: null,
        listedView: null,
      };
      if (!behaviours.hostsSizedByHint) v.host = { cpu_kind: 'performance', cpus: 64, memory_mb: 1 << 20 };
      volumes.set(v.id, v);
      if (source) later(startMs, () => (v.state = v.state === 'hydrating' ? 'created' : v.state));
      return answer(200, volumeView(v));
    },
    Volumes_get_by_id: (c) => {
      const v = volumeIn(c);
      if (v) boundTo(v);
      return v ? answer(200, volumeView(v)) : error(404, 'volume not found', 'not_found');
    },
    Volume_delete: (c) => {
      const v = volumeIn(c);
      if (!v || volumeGone(v)) return error(404, 'volume not found', 'not_found');
      const bound = boundTo(v);
      if (bound) return error(412, `failed_precondition: volume is currently bound to machine: ${bound}`);
      const last = volumeView(v);
      // Soft-deleted: readable for a while as pending_destroy, gone from lists after the lag.
      v.state = 'pending_destroy';
      delist(v, last);
      return answer(200, volumeView(v));
    },
    Volumes_list_snapshots: (c) => {
      const v = volumeIn(c);
      if (!v) return error(404, 'volume not found', 'not_found');
      const t = Date.now();
      return answer(200, (snapshots.get(v.id) ?? []).filter((s) => s.listedAt <= t).map(({ listedAt: _l, ...s }) => s));
    },
    createVolumeSnapshot: (c) => {
      const v = volumeIn(c);
      if (!v || volumeGone(v)) return error(404, 'volume not found', 'not_found');
      takeSnapshot(v, behaviours.snapshotStepMs > 0 ? 'waiting' : 'created');
      // The API answers 200 with no body: the snapshot's id is not returned.
      return answer(200, undefined);
    },
  };

  /** A snapshot that goes waiting → running → created, listed after the lag. */
  function takeSnapshot(v: VolumeRecord, status: string) {
    const list = snapshots.get(v.id) ?? [];
    const s: SnapshotRecord = { id: `vs_${flyId()}`, created_at: now(), size: [...v.files.values()].join('').length, status, digest: flyId(), retention_days: 5, volume_size: v.size_gb, listedAt: Date.now() + behaviours.listLagMs };
    list.push(s);
    snapshots.set(v.id, list);
    if (status === 'waiting') {
      later(behaviours.snapshotStepMs, () => {
        s.status = 'running';
        later(behaviours.snapshotStepMs, () => (s.status = 'created'));
      });
    }
  }

  /** A 429 when this action on this machine (or app) is over its rate; `null` within it. */
  function rateLimit(operationId: string, appName: string, machineId: string | undefined): ReturnType<typeof answer> | null {
    if (!behaviours.rateLimits) return null;
    const [rate, burst] = FAST_READS.has(operationId) ? [5, 10] : [1, 3];
    const key = `${operationId}:${appName}:${machineId ?? ''}`;
    const t = Date.now();
    const bucket = buckets.get(key) ?? { tokens: burst, at: t };
    bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * rate * behaviours.rateScale);
    bucket.at = t;
    buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return null;
    }
    // Retry-After is sent on some 429s and not on others (shared/fly/PROVENANCE.md): alternate.
    rateLimited += 1;
    return answer(429, { error: 'rate limit exceeded' }, rateLimited % 2 === 1 ? { 'retry-after': '1' } : {});
  }

  const server: Server = createServer((req, res) => void serve(req, res));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    let record: FakeFly['calls'][number] | undefined;
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      if (record) record.status = status;
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
      res.end(text);
    };
    // The scheme must fit the token's shape: `FlyV1` for macaroons, `Bearer` for the rest (fly-go auth.go).
    if (req.headers.authorization !== expectedAuthorization) return send(401, { error: 'unauthorized' });
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return send(400, { error: 'invalid JSON' });
    }
    const request: BackendRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers as Record<string, string>, body };
    const operation = api.matchOperation(request) as unknown as (Json & { operationId?: string }) | undefined;
    if (!operation?.operationId) return send(404, { error: `no route ${request.method} ${request.path}` });
    const operationId = operation.operationId;
    const nonce = (req.headers['fly-machine-lease-nonce'] as string | undefined) ?? null;
    record = { operationId, method: request.method, path: request.path, query: request.query as Record<string, string>, body, nonce };
    calls.push(record);

    // Validate against the strict spec; `metadata.*` list filters are real but undeclared.
    const validated = api.validateRequest({ ...request, query: Object.fromEntries(Object.entries(request.query as Json).filter(([key]) => !key.startsWith('metadata.'))) }, operation as never);
    if (!validated.valid) {
      rejected.push({ path: request.path, errors: validated.errors });
      return send(400, { error: `invalid request: ${JSON.stringify(validated.errors)}` });
    }

    const handler = handlers[operationId];
    if (!handler) return send(501, { error: `the fake does not implement ${operationId}` });
    const context = { request: { ...api.router.parseRequest(request, operation as never), requestBody: body }, operation } as unknown as Context;
    const limited = rateLimit(operationId, String(context.request.params.app_name), context.request.params.machine_id as string | undefined);
    if (limited) return send(limited.status, limited.body, limited.headers);
    const queue = faults.get(operationId);
    const fault = queue?.[0];
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) queue!.shift();
    }
    const faultAnswer = (f: Fault) => send(f.status, f.body ?? { error: `injected ${f.status}` }, f.retryAfter !== undefined ? { 'retry-after': String(f.retryAfter) } : {});
    if (fault && !fault.after) return faultAnswer(fault);
    const result = await handler(context, request);
    changed();
    if (fault) return faultAnswer(fault);
    send(result.status, result.body, result.headers);
  }

  await api.init();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    baseUrl: `${url}/v1`,
    token,
    app,
    behaviours,
    calls,
    rejected,
    inject(operationId, fault) {
      const queue = faults.get(operationId) ?? [];
      queue.push({ ...fault });
      faults.set(operationId, queue);
    },
    machine: (id) => machines.get(id),
    volume: (id) => volumes.get(id),
    machines: () => [...machines.values()],
    volumes: () => [...volumes.values()],
    snapshotsOf: (volumeId) => [...(snapshots.get(volumeId) ?? [])],
    snapshot(volumeId) {
      const v = volumes.get(volumeId);
      if (!v) throw new Error(`no volume ${volumeId}`);
      takeSnapshot(v, 'created');
    },
    seedStartedMachines(seeds) {
      return seeds.map((seed) => {
        const m: MachineRecord = {
          id: flyId(),
          app,
          name: seed.name,
          region: 'ams',
          state: 'started',
          config: { metadata: seed.metadata, mounts: [{ volume: seed.volumeId, path: '/data' }], image: 'slipway/hello:1', guest: { cpu_kind: 'shared', cpus: 1, memory_mb: 256 } },
          instance_id: randomUUID(),
          private_ip: 'fdaa::1',
          created_at: now(),
          updated_at: now(),
          events: [],
          checks: [],
          lease: null,
          visibleAt: 0,
          listedAt: 0,
          delistAt: null,
          listedView: null,
        };
        machines.set(m.id, m);
        return m.id;
      });
    },
    crash(machineId, exitCode = 137) {
      const m = machines.get(machineId);
      if (!m) throw new Error(`no machine ${machineId}`);
      m.state = 'stopped';
      m.checks = [];
      event(m, 'exit', 'stopped', { exit_event: { requested_stop: false, exit_code: exitCode } });
      changed();
    },
    holdLease(machineId, seconds = 30) {
      const m = machines.get(machineId);
      if (!m) throw new Error(`no machine ${machineId}`);
      m.lease = { nonce: randomBytes(8).toString('hex'), expiresAt: Date.now() + seconds * second };
      return m.lease.nonce;
    },
    setCheck(machineId, status) {
      const m = machines.get(machineId);
      if (!m) throw new Error(`no machine ${machineId}`);
      m.checks = [{ name: 'health', status, output: status, updated_at: now() }];
    },
    writeFile(volumeId, file, content) {
      volumes.get(volumeId)!.files.set(file, content);
    },
    readFile: (volumeId, file) => volumes.get(volumeId)?.files.get(file),
    reset() {
      faults.clear();
      buckets.clear();
      calls.length = 0;
      rejected.length = 0;
    },
    async close() {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      for (const wake of [...waiters]) wake();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
