import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Timeouts of every AWS SDK client slipway makes. Without them a frozen dependency holds each call
 * (and the API request above it) for as long as the socket stays open. A connection is made in
 * milliseconds or not at all; a table or workflow call answers in tens of milliseconds, so 5 s is
 * an outage, not a slow answer. With three attempts a call gives up within ~17 s, under API
 * Gateway's 29 s, and the API answers 503 `service_unavailable` instead of hanging.
 */
export const AWS_CLIENT_TIMEOUTS = { connectionTimeout: 2000, requestTimeout: 5000 } as const;

/** A DocumentClient that drops undefined attributes, so optional fields never need guarding. */
export function createDocumentClient(options: { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } }): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ region: options.region, endpoint: options.endpoint, credentials: options.credentials, maxAttempts: 3, requestHandler: { ...AWS_CLIENT_TIMEOUTS } });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

