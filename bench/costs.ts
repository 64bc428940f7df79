/**
 * What one operation costs on AWS's meters, measured on the real ASL and handlers: Step Functions
 * state transitions (states entered), Lambda invocations (Task invocations, retries included) and
 * DynamoDB capacity units — for a provision (admission apart from its workflow) and each lifecycle
 * operation on a healthy local provider.
 */
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { recordCapacity, type CapacityTally } from './capacity';
import type { BenchWorld } from './world';

/** One operation's meters. */
export interface OperationCost {
  operation: string;
  status: string;
  stateTransitions: number;
  lambdaInvocations: number;
  /** Capacity units of the request that admitted or claimed it (the API). */
  request: CapacityTally;
  /** Capacity units of its workflow's steps. */
  workflow: CapacityTally;
}

async function historyOf(world: BenchWorld, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await world.runtime.deps.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Provision one instance, then stop, start, restart and destroy it, metering each. */
export async function costs(world: BenchWorld): Promise<OperationCost[]> {
  const meter = recordCapacity(world.runtime.deps.db);
  const token = await world.token('bench-costs');
  const results: OperationCost[] = [];

  const measure = async (operation: string, request: () => Promise<{ status: number; body: any }>) => {
    meter.take();
    const res = await request();
    if (res.status !== 202) throw new Error(`${operation} answered ${res.status}: ${JSON.stringify(res.body)}`);
    const requestTally = meter.take();
    const closed = await world.runtime.stepFunctions.waitForExecution(res.body.operation.executionArn);
    const workflowTally = meter.take();
    const events = await historyOf(world, res.body.operation.executionArn);
    results.push({
      operation,
      status: closed.status,
      stateTransitions: events.filter((e) => e.type?.endsWith('StateEntered')).length,
      lambdaInvocations: events.filter((e) => e.type === 'LambdaFunctionScheduled' || e.type === 'TaskScheduled').length,
      request: requestTally,
      workflow: workflowTally,
    });
    return res.body;
  };

  const admitted = await measure('provision', () => world.provision(token, 'bench-costs-0001'));
  const id = admitted.instance.id as string;
  const call = async (method: string, path: string) => {
    const res = await fetch(`${world.api.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: await res.json() };
  };
  await measure('stop', () => call('POST', `/v1/instances/${id}/stop`));
  await measure('start', () => call('POST', `/v1/instances/${id}/start`));
  await measure('restart', () => call('POST', `/v1/instances/${id}/restart`));
  await measure('destroy', () => call('DELETE', `/v1/instances/${id}`));
  return results;
}
