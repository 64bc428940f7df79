/**
 * A `ComputeProvider` decorator for tests: it records every call and throws scripted faults, either
 * before the inner provider is called (`failNext`) or after it succeeded (`failAfter`, an
 * ambiguous result: the resource exists although the caller saw an error).
 */
import type {
  ComputeProvider,
  FleetPage,
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
} from '../../lambdas/providers/compute-provider';

/** The provider methods a fault can target. */
export type ProviderMethod = Exclude<keyof ComputeProvider, 'name'>;

/** A fault: the error to throw, or a factory for a fresh one each time. */
export type Fault = Error | (() => Error);

/** One recorded call. `args` are the arguments as passed. */
export interface ProviderCall {
  method: ProviderMethod;
  args: unknown[];
  at: string;
}

interface ScriptedFault {
  method: ProviderMethod;
  when: 'before' | 'after';
  fault: Fault;
  remaining: number;
}

/** Wraps a provider; see the module comment. */
export class FaultInjectingProvider implements ComputeProvider {
  /** Every call in order, including those that failed. */
  readonly calls: ProviderCall[] = [];
  private faults: ScriptedFault[] = [];

  constructor(readonly inner: ComputeProvider) {}

  get name(): string {
    return this.inner.name;
  }

  /** The inner provider's list lag: the domain sizes its waits by it. */
  get listLagMs(): number | undefined {
    return this.inner.listLagMs;
  }

  /** The next `times` (default 1) calls of `method` throw without reaching the inner provider. */
  failNext(method: ProviderMethod, fault: Fault, options: { times?: number } = {}): this {
    this.faults.push({ method, when: 'before', fault, remaining: options.times ?? 1 });
    return this;
  }

  /** The next `times` (default 1) calls of `method` reach the inner provider, then throw. */
  failAfter(method: ProviderMethod, fault: Fault, options: { times?: number } = {}): this {
    this.faults.push({ method, when: 'after', fault, remaining: options.times ?? 1 });
    return this;
  }

  /** The recorded calls of one method. */
  callsTo(method: ProviderMethod): ProviderCall[] {
    return this.calls.filter((call) => call.method === method);
  }

  /** Forgets recorded calls and pending faults. */
  reset(): void {
    this.calls.length = 0;
    this.faults = [];
  }

  createVolume(spec: VolumeSpec): Promise<Volume> {
    return this.invoke('createVolume', [spec], () => this.inner.createVolume(spec));
  }
  forkVolume(spec: ForkVolumeSpec): Promise<Volume> {
    return this.invoke('forkVolume', [spec], () => this.inner.forkVolume(spec));
  }
  seedOf(volumeId: string): Promise<VolumeSeed> {
    return this.invoke('seedOf', [volumeId], () => this.inner.seedOf(volumeId));
  }
  importVolume(spec: ImportVolumeSpec): Promise<Volume> {
    return this.invoke('importVolume', [spec], () => this.inner.importVolume(spec));
  }
  getVolume(volumeId: string): Promise<Volume | null> {
    return this.invoke('getVolume', [volumeId], () => this.inner.getVolume(volumeId));
  }
  deleteVolume(volumeId: string): Promise<void> {
    return this.invoke('deleteVolume', [volumeId], () => this.inner.deleteVolume(volumeId));
  }
  findVolumes(filter: TagFilter): Promise<Volume[]> {
    return this.invoke('findVolumes', [filter], () => this.inner.findVolumes(filter));
  }
  listSnapshots(volumeId: string): Promise<Snapshot[]> {
    return this.invoke('listSnapshots', [volumeId], () => this.inner.listSnapshots(volumeId));
  }
  createSnapshot(volumeId: string): Promise<Snapshot> {
    return this.invoke('createSnapshot', [volumeId], () => this.inner.createSnapshot(volumeId));
  }
  createMachine(spec: MachineSpec): Promise<Machine> {
    return this.invoke('createMachine', [spec], () => this.inner.createMachine(spec));
  }
  getMachine(machineId: string): Promise<Machine | null> {
    return this.invoke('getMachine', [machineId], () => this.inner.getMachine(machineId));
  }
  startMachine(machineId: string): Promise<Machine> {
    return this.invoke('startMachine', [machineId], () => this.inner.startMachine(machineId));
  }
  stopMachine(machineId: string): Promise<Machine> {
    return this.invoke('stopMachine', [machineId], () => this.inner.stopMachine(machineId));
  }
  destroyMachine(machineId: string): Promise<void> {
    return this.invoke('destroyMachine', [machineId], () => this.inner.destroyMachine(machineId));
  }
  /** The inner provider's push, when it has one (calls are not faulted: a push is the provider's, not a call). */
  get onUnrequestedExit(): ComputeProvider['onUnrequestedExit'] {
    const inner = this.inner;
    return inner.onUnrequestedExit ? (listener) => inner.onUnrequestedExit!(listener) : undefined;
  }
  listNotRunning(cursor?: string): Promise<FleetPage> {
    return this.invoke('listNotRunning', [cursor], () => this.inner.listNotRunning(cursor));
  }
  findMachines(filter: TagFilter): Promise<Machine[]> {
    return this.invoke('findMachines', [filter], () => this.inner.findMachines(filter));
  }
  waitForState(machineId: string, state: MachineState, timeoutMs: number): Promise<Machine> {
    return this.invoke('waitForState', [machineId, state, timeoutMs], () =>
      this.inner.waitForState(machineId, state, timeoutMs),
    );
  }
  probeHealth(machineId: string): Promise<MachineHealth> {
    return this.invoke('probeHealth', [machineId], () => this.inner.probeHealth(machineId));
  }
  /** The host came back (the local provider restarts machines that ran); not counted as a call. */
  async resumeAfterHostRestart(options: { keepStopped?: ReadonlySet<string> } = {}): Promise<void> {
    await (this.inner as { resumeAfterHostRestart?: (o: { keepStopped?: ReadonlySet<string> }) => Promise<unknown> }).resumeAfterHostRestart?.(options);
  }

  /** The host goes down (the local provider kills its machines, leaving their records as they are). */
  async shutdown(): Promise<void> {
    await (this.inner as { shutdown?: () => Promise<void> }).shutdown?.();
  }

  /** The calls that change something at the provider (creates, starts, stops, destroys, deletes). */
  writes(): ProviderCall[] {
    return this.calls.filter((call) => /^(create|fork|import|start|stop|destroy|delete)/.test(call.method));
  }

  inventory(filter: TagFilter): Promise<Inventory> {
    return this.invoke('inventory', [filter], () => this.inner.inventory(filter));
  }

  private async invoke<T>(method: ProviderMethod, args: unknown[], call: () => Promise<T>): Promise<T> {
    this.calls.push({ method, args, at: new Date().toISOString() });
    this.throwIfScripted(method, 'before');
    const result = await call();
    this.throwIfScripted(method, 'after');
    return result;
  }

  private throwIfScripted(method: ProviderMethod, when: ScriptedFault['when']): void {
    const scripted = this.faults.find((fault) => fault.method === method && fault.when === when);
    if (!scripted) return;
    scripted.remaining -= 1;
    if (scripted.remaining <= 0) this.faults = this.faults.filter((fault) => fault !== scripted);
    throw typeof scripted.fault === 'function' ? scripted.fault() : scripted.fault;
  }
}
