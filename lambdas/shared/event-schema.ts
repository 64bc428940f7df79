/**
 * The lifecycle event's schema, for the OpenAPI document and the admin view: apart from the port
 * (`events.ts`), so the step bundles that only publish events carry no schema they never parse.
 */
import * as z from 'zod';
import { LIFECYCLE_EVENT_TYPES, type LifecycleEvent } from './events';

/** One lifecycle event (the EventBridge `detail`). */
export const lifecycleEventSchema = z
  .object({
    id: z.string().meta({ description: 'Unique per emission; a retried step may emit the same fact twice, so subscribers de-duplicate on executionName + type' }),
    type: z.enum(LIFECYCLE_EVENT_TYPES),
    at: z.string(),
    instanceId: z.string(),
    owner: z.string(),
    provider: z.string(),
    detail: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'LifecycleEvent' }) satisfies z.ZodType<LifecycleEvent>;
