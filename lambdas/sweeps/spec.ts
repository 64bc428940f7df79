/**
 * What a sweep is, said once in its folder (`<name>/spec.ts`) and listed once in `registry.ts`:
 * its name, the attention lane it reads, the setting that gives its period, its lease, its run,
 * the alarms that watch it and its function's catalog entry. The CDK stack (schedule, alarms,
 * function), the local runtime (timers) and `POST /v1/admin/sweeps/{name}` read the registry, so a
 * sweep added there is scheduled, watched and runnable by an operator everywhere at once.
 */
import type { AttentionLane } from '../store/keys';
import type { Deps, Settings } from '../composition/deps';
import type { TransactItem } from '../domain/fence';
import type { FunctionEntry } from '../shared/function-permissions';
import { leaseKey, leaseTiming } from './lease';
import type { SweepReport } from './report';

/** The metric every run that holds its lease records; a sweep's "stopped" alarm watches for its silence. */
export const SWEEP_HEARTBEAT_METRIC = 'SweepDuration';

/** The settings that give a sweep's period, in seconds (the local timer's, and the lease's). */
export type SweepPeriodSetting = 'sweepPeriodSeconds' | 'volumeCleanupPeriodSeconds';
/** The configuration variables behind them; a deployment runs each sweep at the variable's default. */
export type SweepPeriodVariable = 'SWEEP_PERIOD_SECONDS' | 'VOLUME_CLEANUP_PERIOD_SECONDS';

/** How a sweep is scheduled: its period, and how EventBridge Scheduler may spread and retry the runs. */
export interface SweepSchedule {
  /** The setting the local timer and the lease read. */
  setting: SweepPeriodSetting;
  /** Its configuration variable: the scheduled rate on AWS is its default (deployed functions keep the default). */
  variable: SweepPeriodVariable;
  /** Scheduler's flexible window: a run starts within this long of its time. */
  windowSeconds: number;
  /** How long Scheduler and Lambda keep retrying an invocation before it goes to a dead-letter queue. */
  maxEventAgeSeconds: number;
}

/** An alarm on one of the sweep's metrics (namespace `slipway`, dimension `service`), notifying the operators. */
export interface SweepAlarm {
  /** Its construct id (its logical id in the template). */
  id: string;
  metric: string;
  statistic: 'Sum' | 'Maximum';
  /** Whether the metric carries the sweep's own dimension (`sweep: <name>`), not only the service's. */
  perSweep: boolean;
  /** Fires at or above this in one 5-minute period (default 1). */
  threshold?: number;
  description: string;
}

/** The sweep's function, as the function catalog lists it; its id also names its schedule and "stopped" alarm. */
export type SweepFunction = FunctionEntry;

/** What the operator's "run now" passes a run: items written in the transaction that takes the lease (its audit record). */
export interface SweepRunOptions {
  alsoWrite?: TransactItem[];
}

/** One sweep, whole. */
export interface SweepSpec<N extends string = string> {
  /** Its name: its lease, its metrics dimension, `POST /v1/admin/sweeps/<name>`, the scheduled event's `sweep`. */
  name: N;
  /** The attention index lane it reads its due items from. */
  lane: AttentionLane;
  schedule: SweepSchedule;
  /** Its lease item, and how long the lease lasts and is renewed at the configured period. */
  lease: { key: { pk: string; sk: string }; timing(settings: Settings): { seconds: number; heartbeatMs: number } };
  /** Run it once (what the schedule, the timer and the operator all do). */
  run(deps: Deps, options?: SweepRunOptions): Promise<SweepReport>;
  /** The "stopped" alarm: no heartbeat sample for two of these periods running. */
  stopped: { periodSeconds: number; description: string };
  alarms: readonly SweepAlarm[];
  function: SweepFunction;
}

/** A sweep's lease as its spec states it: its item, and its timing at the period `setting` gives. */
export function sweepLease(name: string, setting: SweepPeriodSetting): SweepSpec['lease'] {
  return { key: leaseKey(name), timing: (settings) => leaseTiming(settings[setting]) };
}
