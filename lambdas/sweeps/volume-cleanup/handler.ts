import { runVolumeCleanup, VOLUME_CLEANUP } from './sweep';
import { scheduledSweepHandler } from '../scheduled';
import { providersFromConfig } from '../../providers/configured';
import { lambdaHandler } from '../../composition/deps';

/** Run the volume-cleanup sweep once per scheduled invocation (nothing but `{ "sweep": "volume-cleanup" }` is accepted). */
export const createHandler = scheduledSweepHandler(VOLUME_CLEANUP, 'VolumeCleanup', (deps) => runVolumeCleanup(deps));

/** The Lambda entry (EventBridge Scheduler, hourly). */
export const handler = lambdaHandler(createHandler, providersFromConfig);
