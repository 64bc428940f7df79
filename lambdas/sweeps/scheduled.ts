/** The Lambda side of a scheduled sweep: EventBridge Scheduler's fixed input checked, then one run. */
import * as z from 'zod';
import type { Deps } from '../composition/deps';
import { InvalidStepInputError } from '../shared/errors/workflow';
import type { SweepReport } from './report';

/** A sweep's `createHandler`: accepts exactly `{ "sweep": <name> }` (what its schedule sends) and runs the sweep once. */
export function scheduledSweepHandler(name: string, label: string, run: (deps: Deps) => Promise<SweepReport>) {
  const scheduledEventSchema = z.strictObject({ sweep: z.literal(name) });
  return (deps: Deps) => async (event: unknown) => {
    const parsed = scheduledEventSchema.safeParse(event);
    if (!parsed.success) throw new InvalidStepInputError(`${label}: ${parsed.error.message}`);
    return run(deps);
  };
}
