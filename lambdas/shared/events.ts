/**
 * Lifecycle events: what happened to an instance or a volume that a user may want to act on
 * (a recovery started, succeeded or failed; a volume was retained or deleted). The domain says what
 * happened through this port; the composition root decides where it goes — an EventBridge bus on
 * AWS (`adapters/event-bus.ts`), the log plus a short in-memory history locally, which the admin
 * view shows. Each event is also counted as a metric (`domain/lifecycle-events.ts`).
 */
import type { Logger } from '@aws-lambda-powertools/logger';

/** Every lifecycle event type, as subscribers match it (the EventBridge `detail-type`). */
export const LIFECYCLE_EVENT_TYPES = [
  'instance.recovery_started',
  'instance.recovery_succeeded',
  'instance.recovery_failed',
  'volume.retained',
  'volume.deleted',
] as const;
export type LifecycleEventType = (typeof LIFECYCLE_EVENT_TYPES)[number];

/** The EventBridge `source` of slipway's events. */
export const EVENT_SOURCE = 'slipway';

/** One lifecycle event (the EventBridge `detail`; its schema, for the OpenAPI document, is in `event-schema.ts`). */
export interface LifecycleEvent {
  /** Unique per emission; a retried step may emit the same fact twice, so subscribers de-duplicate on executionName + type. */
  id: string;
  type: LifecycleEventType;
  at: string;
  instanceId: string;
  owner: string;
  provider: string;
  detail: Record<string, unknown>;
}

/** Where lifecycle events go. */
export interface EventsPort {
  /** Publish one event (throws when it could not be published; the caller decides). */
  publish(event: LifecycleEvent): Promise<void>;
  /** Recent events, newest first, where this port keeps them (the local world); undefined where it does not. */
  recent?(filter: { instanceId?: string; limit?: number }): LifecycleEvent[];
}

/** Events kept in memory and written to the log: the local runtime's stand-in for the bus. */
export class RecordingEvents implements EventsPort {
  private readonly events: LifecycleEvent[] = [];

  constructor(
    private readonly logger?: Logger,
    private readonly limit = 1000,
  ) {}

  async publish(event: LifecycleEvent): Promise<void> {
    this.logger?.info('lifecycle event', { event });
    this.events.push(event);
    if (this.events.length > this.limit) this.events.splice(0, this.events.length - this.limit);
  }

  recent(filter: { instanceId?: string; limit?: number } = {}): LifecycleEvent[] {
    const matching = this.events.filter((event) => filter.instanceId === undefined || event.instanceId === filter.instanceId);
    return matching.reverse().slice(0, filter.limit ?? 50);
  }

  /** Every kept event of one type, oldest first (tests). */
  named(type: LifecycleEventType): LifecycleEvent[] {
    return this.events.filter((event) => event.type === type);
  }
}

/** A function that names no bus: events are logged, never sent (a deployment wires a bus to every function that publishes). */
export function unpublishedEvents(logger: Logger): EventsPort {
  return {
    async publish(event) {
      logger.warn('lifecycle event not published: this function has no EVENT_BUS_NAME', { event });
    },
  };
}
