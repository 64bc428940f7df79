import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type EventsPort } from '../shared/events';
import { AWS_CLIENT_TIMEOUTS } from './dynamo';

/** An EventBridge client (created once per process by the composition root, so warm invocations reuse its connections). */
export function createEventBridgeClient(options: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } }): EventBridgeClient {
  return new EventBridgeClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 3, requestHandler: { ...AWS_CLIENT_TIMEOUTS } });
}

/**
 * Lifecycle events onto an EventBridge bus: `source` slipway, `detail-type` the event type, `detail`
 * the event itself, so a user's rule can match e.g. `{"detail-type": ["instance.recovery_failed"], "detail": {"owner": ["user:alice"]}}`.
 */
export function eventBridgeEvents(client: EventBridgeClient, eventBusName: string): EventsPort {
  return {
    async publish(event) {
      const out = await client.send(
        new PutEventsCommand({ Entries: [{ EventBusName: eventBusName, Source: EVENT_SOURCE, DetailType: event.type, Detail: JSON.stringify(event), Time: new Date(event.at) }] }),
      );
      // PutEvents answers 200 with per-entry failures: one failed entry is a failed publish.
      if ((out.FailedEntryCount ?? 0) > 0) {
        const entry = out.Entries?.[0];
        throw new Error(`EventBridge refused ${event.type}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
      }
    },
  };
}
