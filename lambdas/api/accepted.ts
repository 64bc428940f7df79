import type { Context } from 'hono';
import type { ApiEnv } from './auth';

/** A 202 for an accepted operation, with `Location` naming where to follow it. */
export function accepted<T extends { instance: { id: string }; operation: { executionName: string } }>(c: Context<ApiEnv>, result: T) {
  c.header('location', operationLocation(result.instance.id, result.operation.executionName));
  return c.json(result, 202);
}

/** The URL of an operation of an instance. */
export function operationLocation(instanceId: string, executionName: string): string {
  return `/v1/instances/${instanceId}/operations/${executionName}`;
}
