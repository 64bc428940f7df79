import type { Harness } from './harness';

let sequence = 0;

/** Provision an instance for `sub` through the API and wait until its workflow closed. */
export async function provisionRunning(h: Harness, sub: string, body: Record<string, unknown> = {}): Promise<{ id: string; token: string }> {
  const token = await h.token({ sub });
  const res = await h.request('POST', '/v1/instances', { token, body, headers: { 'idempotency-key': `prov-${sub}-${++sequence}-${Date.now()}` } });
  if (res.status !== 202) throw new Error(`provision refused: ${res.status} ${JSON.stringify(res.body)}`);
  const closed = await h.waitForExecution(res.body.operation.executionArn);
  if (closed.status !== 'SUCCEEDED') throw new Error(`provision ${closed.status}: ${closed.error} ${closed.cause}`);
  return { id: res.body.instance.id, token };
}

/** Ask for a lifecycle operation; returns the HTTP answer. */
export function operate(h: Harness, token: string, id: string, operation: 'start' | 'stop' | 'restart' | 'destroy') {
  return operation === 'destroy' ? h.request('DELETE', `/v1/instances/${id}`, { token }) : h.request('POST', `/v1/instances/${id}/${operation}`, { token });
}

/** Ask for an operation, expect 202 and wait for its execution to close. */
export async function operateAndWait(h: Harness, token: string, id: string, operation: 'start' | 'stop' | 'restart' | 'destroy') {
  const res = await operate(h, token, id, operation);
  if (res.status !== 202) throw new Error(`${operation} refused: ${res.status} ${JSON.stringify(res.body)}`);
  return h.waitForExecution(res.body.operation.executionArn);
}
