/**
 * Emit a lifecycle event: counted as a metric (Powertools EMF on AWS) and published on the events
 * port (EventBridge on AWS, the log and the admin view locally). Publishing is best effort: a
 * recovery or a cleanup never fails because a notification could not be sent; the failure is logged
 * and counted (`EventPublishFailed`, alarmed).
 */
import { randomUUID } from 'node:crypto';
import type { Deps } from '../composition/deps';
import type { LifecycleEvent, LifecycleEventType } from '../shared/events';

/** The metric each event is counted as. */
export const EVENT_METRICS: Readonly<Record<LifecycleEventType, string>> = {
  'instance.recovery_started': 'RecoveryStarted',
  'instance.recovery_succeeded': 'RecoverySucceeded',
  'instance.recovery_failed': 'RecoveryFailed',
  'volume.retained': 'VolumeRetained',
  'volume.deleted': 'VolumeDeleted',
};

/** What an event is about. */
export interface EventSubject {
  instanceId: string;
  owner: string;
  provider: string;
}

/** Count and publish one lifecycle event. */
export async function emitLifecycleEvent(deps: Deps, type: LifecycleEventType, subject: EventSubject, detail: Record<string, unknown>): Promise<LifecycleEvent> {
  // node:crypto rather than ulid: step bundles stay under their size budget, and event ids need no order.
  const event: LifecycleEvent = { id: randomUUID(), type, at: deps.now().toISOString(), instanceId: subject.instanceId, owner: subject.owner, provider: subject.provider, detail };
  deps.metrics.count(EVENT_METRICS[type], { provider: subject.provider });
  try {
    await deps.events.publish(event);
  } catch (error) {
    deps.metrics.count('EventPublishFailed');
    deps.logger.error('lifecycle event not published', { event, error: error as Error });
  }
  return event;
}
