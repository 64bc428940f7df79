/** The volume-cleanup sweep, whole: hourly, the volumes lane of the attention index (see `../spec.ts`). */
import { sweepLease, type SweepSpec } from '../spec';
import { runVolumeCleanup, VOLUME_CLEANUP, VOLUME_CLEANUP_LANE, VOLUME_CLEANUP_PERIOD } from './sweep';

/** The volume-cleanup sweep's spec. */
export const volumeCleanupSweep: SweepSpec<typeof VOLUME_CLEANUP> = {
  name: VOLUME_CLEANUP,
  lane: VOLUME_CLEANUP_LANE,
  // Hourly, within a 15-minute window.
  schedule: { setting: VOLUME_CLEANUP_PERIOD, variable: 'VOLUME_CLEANUP_PERIOD_SECONDS', windowSeconds: 900, maxEventAgeSeconds: 3600 },
  lease: sweepLease(VOLUME_CLEANUP, VOLUME_CLEANUP_PERIOD),
  run: (deps, options) => runVolumeCleanup(deps, options),
  // Runs are at most 75 minutes apart (hourly, 15-minute window), so one clock hour may see none; two cannot.
  stopped: { periodSeconds: 3600, description: 'slipway volume cleanup: the sweep has not run for two hours' },
  alarms: [
    {
      id: 'VolumeOwnershipUnverifiedAlarm',
      metric: 'VolumeOwnershipUnverified',
      statistic: 'Sum',
      perSweep: false,
      description: "slipway volume cleanup: a retained volume (or the machine on it) could not be proven to be its instance's; it was not deleted (GET /v1/admin/volumes?state=ownership_unverified)",
    },
    {
      id: 'VolumeCleanupExhaustedAlarm',
      metric: 'VolumeCleanupExhausted',
      statistic: 'Sum',
      perSweep: false,
      description: 'slipway volume cleanup: a retained volume could not be deleted after its capped tries (GET /v1/admin/volumes?state=cleanup_exhausted)',
    },
    { id: 'VolumeCleanupSweepErrorsAlarm', metric: 'SweepErrors', statistic: 'Sum', perSweep: true, description: 'slipway volume cleanup: volumes the sweep failed to handle' },
  ],
  function: {
    id: 'VolumeCleanup',
    entry: 'lambdas/sweeps/volume-cleanup/handler.ts',
    description: 'Volume-cleanup sweep: delete retained volumes past their date, ownership verified',
    timeoutSeconds: 300,
    memoryMb: 256,
    permissions: { table: ['GetItem', 'Query', 'UpdateItem'], usesProvider: true, publishesEvents: true },
  },
};
