import * as z from 'zod';
import { runVolumeCleanup, VOLUME_CLEANUP } from './sweep';
import { providersFromConfig } from '../../providers/configured';
import { lambdaHandler, type Deps } from '../../composition/deps';
import { InvalidStepInputError } from '../../shared/errors/workflow';

/** What EventBridge Scheduler sends (the schedule's fixed input); nothing else is accepted. */
const scheduledEventSchema = z.strictObject({ sweep: z.literal(VOLUME_CLEANUP) });

/** Run the volume-cleanup sweep once per scheduled invocation. */
export const createHandler = (deps: Deps) => async (event: unknown) => {
  const parsed = scheduledEventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidStepInputError(`VolumeCleanup: ${parsed.error.message}`);
  return runVolumeCleanup(deps);
};

/** The Lambda entry (EventBridge Scheduler, hourly). */
export const handler = lambdaHandler(createHandler, providersFromConfig);
