/**
 * The sweeps' heartbeat: every run that holds its lease records the metric the "sweep stopped"
 * alarms watch (infra `SWEEP_HEARTBEAT_METRIC`, missing data breaching), with the dimensions those
 * alarms name, even when the provider fails the whole run. A sweep renamed or silenced here would
 * leave the alarms firing, or worse, watching nothing.
 */
import { SWEEP_HEARTBEAT_METRIC } from '../../infra/orchestration-stack';
import { runReconcile } from '../../lambdas/sweeps/reconcile/sweep';
import { runVolumeCleanup } from '../../lambdas/sweeps/volume-cleanup/sweep';
import { ProviderUnavailableError } from '../../lambdas/shared/errors/provider';
import type { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { startHarness, type Harness } from '../support/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});
beforeEach(() => h.provider.reset());

const heartbeats = (sweep: string) => (h.runtime.deps.metrics as RecordingMetrics).named(SWEEP_HEARTBEAT_METRIC).filter((point) => point.dimensions.sweep === sweep).length;

describe.each([
  ['reconcile', () => runReconcile(h.later(3600))],
  ['volume-cleanup', () => runVolumeCleanup(h.later(3600))],
] as const)('the %s sweep', (sweep, run) => {
  it('records one heartbeat per run that holds its lease', async () => {
    const before = heartbeats(sweep);

    const first = await run();
    const second = await run();

    expect([first.ran, second.ran]).toEqual([true, true]);
    expect(heartbeats(sweep) - before).toBe(2);
  });
});

describe('the reconcile sweep, its provider down', () => {
  it('still records its heartbeat: a failing run is running, only a stopped one is silent', async () => {
    for (const call of ['findMachines', 'findVolumes', 'inventory'] as const) h.provider.failNext(call, () => new ProviderUnavailableError('down'), { times: 1000 });
    const before = heartbeats('reconcile');

    // Hours on: the orphan scan is due, so the run calls the provider and fails there.
    const report = await runReconcile(h.later(6 * 3600));

    expect(report.ran).toBe(true);
    expect(report.errors).toContainEqual(expect.objectContaining({ target: 'orphans' }));
    expect(heartbeats('reconcile') - before).toBe(1);
  });
});
