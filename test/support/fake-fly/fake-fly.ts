/**
 * A fake Fly Machines API for tests: a real HTTP server on loopback that routes and validates every
 * request against the Fly spec (openapi-backend, with every listed-properties object closed, see
 * strict-spec.ts) and keeps machines, volumes, snapshots, leases and events in memory. It
 * reproduces the behaviours PROVENANCE.md lists that the spec does not:
 * - lease answers wrapped in `{status, data}`; 409 for a mutation without the nonce while a lease is held;
 * - `/wait` holds at most 60 s (`timeout` in seconds; scaled by `secondMs` in tests) then 408
 *   `deadline_exceeded`;
 * - `stop` without a JSON body is refused; deleting an attached volume fails with `failed_precondition`;
 * - 429 with and without `Retry-After`, capacity errors (`insufficient_capacity`), any status: injected;
 * - a list that lags a create by a configurable number of list calls; soft-deleted volumes;
 * - `metadata.KEY=VALUE` list filters; `exit` events with `requested_stop`; checks that pass once started.
 * One fake is one Fly organisation: each app's machines and volumes are its own (lists, reads and
 * writes by id answer only within the app in the path), and a volume create may fork
 * (`source_volume_id`) a volume of any app of the organisation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAPIBackend, { type Context, type Request as BackendRequest } from 'openapi-backend';
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
  token?: string;
  /** Milliseconds a "second" of Fly's lasts here (wait timeouts, lease TTLs); default 1000. */
  secondMs?: number;
  /** How long a machine takes to start (ms). */
  startMs?: number;
  /** How long a machine takes to stop (ms). */
  stopMs?: number;
  /** How many list calls a just-created resource is missing from. */
  listLag?: number;
}

interface MachineRecord extends Json {
  id: string;
  app: string;
  state: string;
  config: Json;
  events: Json[];
  checks: Json[];
  listLag: number;
  lease: { nonce: string; expiresAt: number } | null;
}

interface VolumeRecord extends Json {
  id: string;
  app: string;
  state: string;
  files: Map<string, string>;
  listLag: number;
}

/** A running fake. */
export interface FakeFly {
  url: string;
  /** The base URL an adapter uses (`<url>/v1`). */
  baseUrl: string;
  token: string;
  app: string;
  /** Answer the next call(s) of an operation (its spec operationId, e.g. `Machines_create`) with a fault. */
  inject(operationId: string, fault: Fault): void;
  /** Every request seen: operation id, method, path, body. */
  calls: Array<{ operationId: string; method: string; path: string; body: unknown; nonce: string | null }>;
  /** Requests the spec refused (400 from validation). */
  rejected: Array<{ path: string; errors: unknown }>;
  machine(id: string): MachineRecord | undefined;
  volume(id: string): VolumeRecord | undefined;
  machines(): MachineRecord[];
  volumes(): VolumeRecord[];
  /** The machine's process dies on its own: `stopped` with an `exit` event, `requested_stop: false`. */
  crash(machineId: string, exitCode?: number): void;
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

/** Start the fake on a free loopback port. */
export async function startFakeFly(options: FakeFlyOptions = {}): Promise<FakeFly> {
  const app = options.app ?? 'slipway-test';
  const token = options.token ?? `fake-${randomUUID()}`;
  const second = options.secondMs ?? 1000;
  const startMs = options.startMs ?? 20;
  const stopMs = options.stopMs ?? 20;
  const machines = new Map<string, MachineRecord>();
  const volumes = new Map<string, VolumeRecord>();
  const snapshots = new Map<string, Json[]>();
  const faults = new Map<string, Fault[]>();
  const calls: FakeFly['calls'] = [];
  const rejected: FakeFly['rejected'] = [];
  const timers = new Set<NodeJS.Timeout>();
  const waiters = new Set<() => void>();
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

  const visible = (record: { listLag: number }) => {
    if (record.listLag > 0) {
      record.listLag -= 1;
      return false;
    }
    return true;
  };

  const view = (m: MachineRecord) => {
    const { listLag: _lag, lease: _lease, app: _app, ...rest } = m;
    return rest;
  };
  const volumeView = (v: VolumeRecord) => {
    const { files: _files, listLag: _lag, app: _app, ...rest } = v;
    return rest;
  };
  /** The app in the request's path; every record answers only within its own app. */
  const appOf = (c: Context) => c.request.params.app_name as string;
  const machineIn = (c: Context) => {
    const m = machines.get(c.request.params.machine_id as string);
    return m && m.app === appOf(c) ? m : undefined;
  };
  const volumeIn = (c: Context, id = c.request.params.volume_id as string) => {
    const v = volumes.get(id);
    return v && v.app === appOf(c) ? v : undefined;
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

  const handlers: Record<string, (c: Context, request: BackendRequest) => ReturnType<typeof answer> | Promise<ReturnType<typeof answer>>> = {
    Machines_list: (c) => {
      const query = c.request.query as Record<string, string>;
      const filters = Object.entries(query).filter(([key]) => key.startsWith('metadata.'));
      const listed = [...machines.values()].filter((m) => m.app === appOf(c) && m.state !== 'destroyed' && filters.every(([key, value]) => m.config.metadata?.[key.slice('metadata.'.length)] === value)).filter(visible);
      return answer(200, listed.map(view));
    },
    Machines_create: (c) => {
      const body = c.request.requestBody as Json;
      for (const mount of body.config?.mounts ?? []) {
        const volume = volumeIn(c, mount.volume);
        if (!volume || volume.state.includes('destroy')) return error(404, `volume ${mount.volume} not found`);
        if (volume.attached_machine_id) return error(400, `volume ${mount.volume} is already attached`, 'failed_precondition');
      }
      const m: MachineRecord = {
        id: flyId(),
        app: appOf(c),
        name: body.name ?? flyId(),
        region: body.region ?? 'ams',
        state: 'created',
        config: body.config ?? {},
        instance_id: randomUUID(),
        private_ip: 'fdaa::1',
        created_at: now(),
        updated_at: now(),
        events: [],
        checks: [],
        listLag: options.listLag ?? 0,
        lease: null,
      };
      machines.set(m.id, m);
      for (const mount of m.config.mounts ?? []) volumes.get(mount.volume)!.attached_machine_id = m.id;
      event(m, 'launch', 'created');
      if (!body.skip_launch) boot(m);
      return answer(200, view(m));
    },
    Machines_show: (c) => {
      const m = machineIn(c);
      return m ? answer(200, view(m)) : error(404, 'machine not found');
    },
    Machines_start: (c, request) => {
      const m = machineOf(c);
      if (!m) return error(404, 'machine not found');
      const refused = fenced(m, request);
      if (refused) return refused;
      if (m.state === 'stopped' || m.state === 'created') boot(m);
      return answer(200, { previous_state: m.state });
    },
    Machines_stop: (c, request) => {
      const m = machineOf(c);
      if (!m) return error(404, 'machine not found');
      // Fly refuses a stop without a JSON body.
      if (c.request.requestBody === undefined || c.request.requestBody === null || c.request.requestBody === '') return error(400, 'stop needs a JSON body');
      const refused = fenced(m, request);
      if (refused) return refused;
      if (m.state === 'started' || m.state === 'starting') halt(m, true, 0);
      return answer(200, { ok: true });
    },
    Machines_delete: (c, request) => {
      const m = machineOf(c);
      if (!m) return error(404, 'machine not found');
      const refused = fenced(m, request);
      if (refused) return refused;
      const force = String((c.request.query as Json).force) === 'true';
      if (!force && (m.state === 'started' || m.state === 'starting')) return error(412, 'machine still active, refusing to destroy', 'failed_precondition');
      m.state = 'destroyed';
      m.checks = [];
      m.lease = null;
      event(m, 'destroy', 'destroyed');
      for (const mount of m.config.mounts ?? []) {
        const volume = volumes.get(mount.volume);
        if (volume?.attached_machine_id === m.id) volume.attached_machine_id = null;
      }
      return answer(200, { ok: true });
    },
    Machines_create_lease: (c) => {
      const m = machineOf(c);
      if (!m) return error(404, 'machine not found');
      if (leaseHeld(m)) return error(409, 'lease currently held by another client');
      const ttl = Number((c.request.requestBody as Json)?.ttl ?? 30);
      m.lease = { nonce: randomBytes(8).toString('hex'), expiresAt: Date.now() + ttl * second };
      // Fly wraps the lease in an envelope although the spec says a bare Lease.
      return answer(201, { status: 'success', data: { nonce: m.lease.nonce, expires_at: Math.floor(m.lease.expiresAt / 1000), owner: 'slipway@test', description: 'slipway', version: 'v1' } });
    },
    Machines_release_lease: (c, request) => {
      const m = machineIn(c);
      if (!m) return error(404, 'machine not found');
      if (m.lease && request.headers['fly-machine-lease-nonce'] !== m.lease.nonce) return error(409, 'wrong lease nonce');
      m.lease = null;
      return answer(200, {});
    },
    Machines_wait: async (c) => {
      const m = machineIn(c);
      if (!m) return error(404, 'machine not found');
      const query = c.request.query as Json;
      const timeout = Number(query.timeout ?? 60);
      if (timeout > 60) return error(400, 'timeout must be at most 60 seconds');
      const wanted = String(query.state ?? 'started');
      const reached = () => m.state === wanted;
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
    Volumes_list: (c) => answer(200, [...volumes.values()].filter((v) => v.app === appOf(c) && !v.state.includes('destroy')).filter(visible).map(volumeView)),
    Volumes_create: (c) => {
      const body = c.request.requestBody as Json;
      const source = body.source_volume_id ? volumes.get(body.source_volume_id) : undefined;
      if (body.source_volume_id && (!source || source.state.includes('destroy'))) return error(404, `volume ${body.source_volume_id} not found`);
      const v: VolumeRecord = {
        id: `vol_${flyId()}`,
        app: appOf(c),
        name: body.name,
        region: body.region ?? source?.region ?? 'ams',
        size_gb: body.size_gb ?? source?.size_gb ?? 1,
        state: source ? 'hydrating' : 'created',
        attached_machine_id: null,
        created_at: now(),
        encrypted: true,
        fstype: 'ext4',
        zone: 'z1',
        files: new Map(source?.files ?? []),
        listLag: options.listLag ?? 0,
      };
      volumes.set(v.id, v);
      if (source) later(startMs, () => (v.state = v.state === 'hydrating' ? 'created' : v.state));
      return answer(200, volumeView(v));
    },
    Volumes_get_by_id: (c) => {
      const v = volumeIn(c);
      return v ? answer(200, volumeView(v)) : error(404, 'volume not found');
    },
    Volume_delete: (c) => {
      const v = volumeIn(c);
      if (!v || v.state.includes('destroy')) return error(404, 'volume not found');
      if (v.attached_machine_id) return error(400, `failed_precondition: volume is attached to machine ${v.attached_machine_id}`, 'failed_precondition');
      // Soft-deleted: readable for a while, gone from lists.
      v.state = 'pending_destroy';
      return answer(200, volumeView(v));
    },
    Volumes_list_snapshots: (c) => {
      const v = volumeIn(c);
      return v ? answer(200, snapshots.get(v.id) ?? []) : error(404, 'volume not found');
    },
    createVolumeSnapshot: (c) => {
      const v = volumeIn(c);
      if (!v || v.state.includes('destroy')) return error(404, 'volume not found');
      const list = snapshots.get(v.id) ?? [];
      list.push({ id: `vs_${flyId()}`, created_at: now(), size: [...v.files.values()].join('').length, status: 'created', digest: flyId(), retention_days: 5, volume_size: v.size_gb });
      snapshots.set(v.id, list);
      return answer(200, undefined);
    },
  };

  const server: Server = createServer((req, res) => void serve(req, res));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
      res.end(text);
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'unauthorized' });
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
    calls.push({ operationId, method: request.method, path: request.path, body, nonce });

    // Validate against the strict spec; `metadata.*` list filters are real but undeclared.
    const validated = api.validateRequest({ ...request, query: Object.fromEntries(Object.entries(request.query as Json).filter(([key]) => !key.startsWith('metadata.'))) }, operation as never);
    if (!validated.valid) {
      rejected.push({ path: request.path, errors: validated.errors });
      return send(400, { error: `invalid request: ${JSON.stringify(validated.errors)}` });
    }

    const queue = faults.get(operationId);
    const fault = queue?.[0];
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) queue!.shift();
    }
    const handler = handlers[operationId];
    if (!handler) return send(501, { error: `the fake does not implement ${operationId}` });
    const context = { request: { ...api.router.parseRequest(request, operation as never), requestBody: body }, operation } as unknown as Context;
    if (fault && !fault.after) return send(fault.status, fault.body ?? { error: `injected ${fault.status}` }, fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
    const result = await handler(context, request);
    changed();
    if (fault) return send(fault.status, fault.body ?? { error: `injected ${fault.status}` }, fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
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
