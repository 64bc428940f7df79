import * as z from 'zod';
import { RECONCILE, runReconcile } from './sweep';
import { providersFromConfig } from '../../providers/configured';
import { lambdaHandler, type Deps } from '../../composition/deps';
import { InvalidStepInputError } from '../../shared/errors/workflow';

/** What EventBridge Scheduler sends (the schedule's fixed input); nothing else is accepted. */
const scheduledEventSchema = z.strictObject({ sweep: z.literal(RECONCILE) });

/** Run the sweep once per scheduled invocation. */
export const createHandler = (deps: Deps) => async (event: unknown) => {
  const parsed = scheduledEventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidStepInputError(`Reconcile: ${parsed.error.message}`);
  return runReconcile(deps);
};

/** The Lambda entry (EventBridge Scheduler, every minute). */
export const handler = lambdaHandler(createHandler, providersFromConfig);
