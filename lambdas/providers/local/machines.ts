import http from 'node:http';
import { messageOf } from '../../shared/errors/core';
import { MachineNotReadyError, MachineStartFailedError, ProviderResourceNotFoundError, VolumeAttachedError } from '../../shared/errors/provider';
import type { FleetMachine, FleetPage, Machine, MachineHealth, MachineSpec, MachineState, TagFilter } from '../compute-provider';

/** States a fleet listing of machines not running leaves out. */
const RUNNING: ReadonlySet<MachineState> = new Set(['started', 'starting']);
import { byId, isSafeId, newId, now, type LocalLayout } from './layout';
import { withLock } from './local-store';
import { STOP_GRACE_MS, type MachineProcesses } from './processes';
import { PROCESS_STATES, inBatches, matchesTags, stoppedRecord, toMachine, type LocalRecords, type MachineRecord } from './records';

/** Fallback poll of `waitForState` for changes no event tells us about (a pid killed from outside). */
const WAIT_POLL_MS = 100;
const PROBE_TIMEOUT_MS = 2_000;

/**
 * Machines: records whose boots are real processes running the default image (whatever
 * `spec.image` says; the image name is only recorded). A destroyed machine stays as a tombstone
 * (`state: 'destroyed'`) that `getMachine` returns and `findMachines` leaves out.
 */
export class LocalMachines {
  constructor(
    private readonly layout: LocalLayout,
    private readonly records: LocalRecords,
    private readonly processes: MachineProcesses,
  ) {}

  async createMachine(spec: MachineSpec): Promise<Machine> {
    this.processes.assertOpen();
    const id = newId('m');
    const record = await withLock(this.layout.volumeKey(spec.volumeId), async () => {
      const volume = await this.records.readVolume(spec.volumeId);
      if (!volume || volume.state === 'destroyed') {
        throw new ProviderResourceNotFoundError(`volume ${spec.volumeId} not found`, {
          context: { volumeId: spec.volumeId },
        });
      }
      const holder = await this.records.attachedMachineId(spec.volumeId);
      if (holder) {
        throw new VolumeAttachedError(`volume ${spec.volumeId} is already attached to machine ${holder}`, {
          context: { volumeId: spec.volumeId, machineId: holder },
        });
      }
      const created: MachineRecord = {
        id,
        name: spec.name,
        region: spec.region,
        size: spec.size,
        image: spec.image,
        state: 'created',
        mount: { volumeId: spec.volumeId, path: spec.mountPath },
        tags: { ...spec.tags },
        env: { ...spec.env },
        pid: null,
        port: null,
        bootId: null,
        lastExit: null,
        createdAt: now(),
        updatedAt: now(),
      };
      // Written while holding the volume's lock, so a concurrent deleteVolume sees the mount.
      await this.records.writeMachine(created);
      return created;
    });
    if (spec.start === false) return toMachine(record);
    return this.startMachine(id);
  }

  async getMachine(machineId: string): Promise<Machine | null> {
    const record = await this.readMachineFresh(machineId);
    return record ? toMachine(record) : null;
  }

  /** Spawns the machine's process and returns at once (state `starting`); a no-op when it runs. */
  async startMachine(machineId: string): Promise<Machine> {
    this.processes.assertOpen();
    for (;;) {
      const outcome = await withLock(this.layout.machineKey(machineId), async () => {
        const record = await this.refreshLocked(await this.records.readMachineOrThrow(machineId));
        switch (record.state) {
          case 'destroying':
          case 'destroyed':
            throw new ProviderResourceNotFoundError(`machine ${machineId} is ${record.state}`, {
              context: { machineId },
            });
          case 'stopping':
            return 'wait-for-stop' as const;
          case 'starting':
          case 'started':
            return record;
          default:
            return this.processes.spawn(record);
        }
      });
      if (outcome !== 'wait-for-stop') return toMachine(outcome);
      // A stop is under way: let it finish, then start from `stopped`.
      await this.waitUntil(machineId, (state) => state !== 'stopping', STOP_GRACE_MS * 2);
    }
  }

  /** SIGTERM, wait for the exit (SIGKILL after a grace period); `stopped` with `requestedStop: true`. */
  async stopMachine(machineId: string): Promise<Machine> {
    const target = await withLock(this.layout.machineKey(machineId), async () => {
      const record = await this.refreshLocked(await this.records.readMachineOrThrow(machineId));
      if (record.state === 'starting' || record.state === 'started') {
        await this.records.writeMachine({ ...record, state: 'stopping' });
      } else if (record.state !== 'stopping') {
        return null; // created, stopped, destroying, destroyed: nothing to stop.
      }
      return { pid: record.pid, bootId: record.bootId };
    });
    if (target) {
      const exitCode = await this.processes.terminate(target.pid, target.bootId);
      await withLock(this.layout.machineKey(machineId), async () => {
        const record = await this.records.readMachine(machineId);
        // The exit handler may have recorded it already; a concurrent destroy owns it otherwise.
        if (record && record.bootId === target.bootId && record.state === 'stopping') {
          await this.records.writeMachine(stoppedRecord(record, { requestedStop: true, exitCode, at: now() }));
        }
      });
    }
    return toMachine(await this.records.readMachineOrThrow(machineId));
  }

  async destroyMachine(machineId: string): Promise<void> {
    if (!isSafeId(machineId)) return;
    const target = await withLock(this.layout.machineKey(machineId), async () => {
      const found = await this.records.readMachine(machineId);
      if (!found || found.state === 'destroyed') return null;
      const record = await this.refreshLocked(found);
      // `destroying` first, so a concurrent start refuses instead of spawning behind our back.
      await this.records.writeMachine({ ...record, state: 'destroying' });
      const running = record.pid !== null && (await this.processes.isAlive(record));
      return { pid: record.pid, bootId: record.bootId, running };
    });
    if (!target) return;
    const exitCode = target.running ? await this.processes.terminate(target.pid, target.bootId) : null;
    await withLock(this.layout.machineKey(machineId), async () => {
      const record = await this.records.readMachine(machineId);
      if (!record || record.state !== 'destroying') return;
      const lastExit = target.running ? { requestedStop: true, exitCode, at: now() } : record.lastExit;
      await this.records.writeMachine({ ...record, state: 'destroyed', pid: null, port: null, lastExit });
    });
  }

  async findMachines(filter: TagFilter): Promise<Machine[]> {
    const records = await this.records.readMachines();
    const matching = records.filter((record) => record.state !== 'destroyed' && matchesTags(record.tags, filter));
    const fresh = await inBatches(matching, (record) => this.readMachineFresh(record.id));
    return fresh
      .filter((record): record is MachineRecord => record !== null && record.state !== 'destroyed')
      .sort(byId)
      .map(toMachine);
  }

  /**
   * One page of the records (`pageSize` of them, in id order) as a listing of those not running:
   * a record that names a process that is gone reads as stopped here, as a GET would show it, but
   * the listing writes nothing (the GET by id that confirms it records the exit).
   */
  async listNotRunning(cursor: string | undefined, pageSize: number): Promise<FleetPage> {
    const { records, more } = await this.records.readMachinePage(cursor, pageSize);
    const listed = await inBatches(records, async (record): Promise<FleetMachine> => {
      const alive = PROCESS_STATES.has(record.state) ? await this.processes.isAlive(record) : true;
      return { id: record.id, instanceId: record.tags.instance || null, state: alive ? record.state : 'stopped' };
    });
    const last = records.at(-1)?.id;
    return { machines: listed.filter((machine) => !RUNNING.has(machine.state)), cursor: more && last ? last : null };
  }

  async waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine> {
    const machine = await this.waitUntil(machineId, (current) => {
      if (current === state) return true;
      if (state === 'started' && (current === 'stopped' || current === 'destroying' || current === 'destroyed')) {
        return true; // Settled elsewhere: report the failed start below.
      }
      return false;
    }, timeoutMs, state);
    if (machine.state !== state) {
      const exit = machine.lastExit;
      const detail = exit ? ` (last exit: code ${exit.exitCode}, requested ${exit.requestedStop})` : '';
      throw new MachineStartFailedError(`machine ${machineId} is ${machine.state} instead of started${detail}`, {
        context: { machineId, state: machine.state, lastExit: exit },
      });
    }
    return machine;
  }

  async probeHealth(machineId: string): Promise<MachineHealth> {
    const machine = await this.getMachine(machineId);
    if (!machine) {
      throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
    }
    if (machine.state !== 'started' || !machine.endpoint) {
      return { healthy: false, status: null, body: null, error: `machine is ${machine.state}` };
    }
    try {
      const { status, body } = await httpGetJson(`${machine.endpoint}/healthz`, PROBE_TIMEOUT_MS);
      // A recycled port could answer for another machine: healthy means "this machine answered 200".
      const answeredMachine = (body as { machineId?: unknown } | null)?.machineId;
      if (status !== 200) return { healthy: false, status, body, error: `health check answered ${status}` };
      if (answeredMachine !== machineId) {
        return { healthy: false, status, body, error: `answered as machine ${String(answeredMachine)}` };
      }
      return { healthy: true, status, body, error: null };
    } catch (error) {
      return { healthy: false, status: null, body: null, error: messageOf(error) };
    }
  }

  /** The OS pid of the machine's process while one should run (for tests and debugging). */
  /**
   * After the host restarts (slipway's local runtime was killed or stopped): machines whose record
   * says they ran, but whose process died with the host without an exit being seen, boot again —
   * like a Fly host that comes back. A machine that crashed on its own while the host ran has its
   * exit recorded and stays stopped (the sweep sees an unexpected stop). Stops under way finish, and
   * so do the machines in `keepStopped` (their instance is being destroyed): stopped, as if asked.
   */
  async resumeAfterHostRestart(options: { keepStopped?: ReadonlySet<string> } = {}): Promise<string[]> {
    const resumed: string[] = [];
    for (const found of await this.records.readMachines()) {
      if (!PROCESS_STATES.has(found.state)) continue;
      await withLock(this.layout.machineKey(found.id), async () => {
        const record = await this.records.readMachine(found.id);
        if (!record || !PROCESS_STATES.has(record.state) || (await this.processes.isAlive(record))) return;
        if (record.state === 'stopping' || options.keepStopped?.has(record.id)) {
          await this.records.writeMachine(stoppedRecord(record, { requestedStop: true, exitCode: null, at: now() }));
          return;
        }
        await this.processes.spawn({ ...record, state: 'stopped' });
        resumed.push(record.id);
      });
    }
    return resumed;
  }

  async processId(machineId: string): Promise<number | null> {
    return (await this.readMachineFresh(machineId))?.pid ?? null;
  }

  /**
   * A record that says a process runs, whose process is gone, becomes `stopped` (persisted):
   * unexpected unless a stop was under way. Caller holds the machine's lock.
   */
  private async refreshLocked(record: MachineRecord): Promise<MachineRecord> {
    if (!PROCESS_STATES.has(record.state) || (await this.processes.isAlive(record))) return record;
    const exitCode = this.processes.exitCodeOf(record.bootId);
    const stopped = stoppedRecord(record, { requestedStop: record.state === 'stopping', exitCode, at: now() });
    await this.records.writeMachine(stopped);
    return stopped;
  }

  /** The machine record, reconciled with its process when it claims one. */
  private async readMachineFresh(machineId: string): Promise<MachineRecord | null> {
    const record = await this.records.readMachine(machineId);
    if (!record || !PROCESS_STATES.has(record.state)) return record;
    return withLock(this.layout.machineKey(machineId), async () => {
      const current = await this.records.readMachine(machineId);
      return current ? this.refreshLocked(current) : null;
    });
  }

  /** Polls the machine (woken early by any write to it) until `done(state)` or the timeout. */
  private async waitUntil(
    machineId: string,
    done: (state: MachineState) => boolean,
    timeoutMs: number,
    wanted?: MachineState,
  ): Promise<Machine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const machine = await this.getMachine(machineId);
      if (!machine) {
        throw new ProviderResourceNotFoundError(`machine ${machineId} not found`, { context: { machineId } });
      }
      if (done(machine.state)) return machine;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const goal = wanted ? `${wanted}` : 'the expected state';
        throw new MachineNotReadyError(`machine ${machineId} is ${machine.state}, not ${goal}, after ${timeoutMs} ms`, {
          context: { machineId, state: machine.state, wanted, timeoutMs },
        });
      }
      await this.records.nextChange(machineId, Math.min(remaining, WAIT_POLL_MS));
    }
  }
}

/** One GET with `Connection: close` (no pooled sockets outliving the call); JSON body when it parses. */
export function httpGetJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: keep the text.
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}
