/**
 * The local runtime's stand-in for EventBridge Scheduler: with `sweepTimer` it runs every sweep of
 * the registry on a timer at that sweep's own period setting, through the handler its schedule
 * invokes (so each run records its heartbeat).
 */
import { SWEEP_HEARTBEAT_METRIC } from '../../lambdas/sweeps/spec';
import { SWEEP_LIST } from '../../lambdas/sweeps/registry';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { startHarness, type Harness } from '../support/harness';

/** A period no test outlives: a timer at it never fires here. */
const NEVER_SECONDS = 3600;

describe.each(SWEEP_LIST.map((spec) => [spec.name, spec] as const))('the local timer of the %s sweep', (name, spec) => {
  let h: Harness;
  let heard: (() => void) | undefined;

  beforeAll(async () => {
    // This sweep's setting short, every other sweep's beyond the test: each timer must read its own.
    const settings = Object.fromEntries(SWEEP_LIST.map((other) => [other.schedule.setting, other === spec ? 0.2 : NEVER_SECONDS]));
    h = await startHarness({ sweepTimer: true, settings });
    const metrics = h.runtime.deps.metrics as RecordingMetrics;
    const record = metrics.duration.bind(metrics);
    metrics.duration = (metric, milliseconds, dimensions = {}) => {
      record(metric, milliseconds, dimensions);
      if (metric === SWEEP_HEARTBEAT_METRIC && dimensions.sweep === name) heard?.();
    };
  });
  afterAll(async () => {
    await h.close();
  });

  const nextHeartbeat = () => new Promise<void>((resolve) => (heard = resolve));
  const heartbeatsOf = (sweep: string) => (h.runtime.deps.metrics as RecordingMetrics).named(SWEEP_HEARTBEAT_METRIC).filter((point) => point.dimensions.sweep === sweep).length;

  it('runs it again and again at its own period, and no other sweep at that period', async () => {
    await nextHeartbeat();
    await nextHeartbeat();

    expect(heartbeatsOf(name)).toBeGreaterThanOrEqual(2);
    expect(SWEEP_LIST.filter((other) => other !== spec).map((other) => heartbeatsOf(other.name))).toEqual(SWEEP_LIST.filter((other) => other !== spec).map(() => 0));
  });
});
