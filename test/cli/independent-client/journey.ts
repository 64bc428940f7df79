/**
 * The README's journey written against a client that slipway does not ship: `@hey-api/openapi-ts`
 * generates it from `/openapi.json` into `./generated` (git-ignored; `independent-client.test.ts`
 * generates it, type-checks this file with it, then runs it). No casts: every call and answer is
 * typed by what the generator made of the document.
 */
import { createClient } from './generated/client';
import { cancelOperation, createInstance, destroyInstance, getInstance, getOperation, listOperations, listProviders, startInstance, stopInstance, switchInstanceProvider } from './generated/sdk.gen';

/** Where the journey runs, and the hold it asks for while a provision is slow. */
export interface JourneyOptions {
  baseUrl: string;
  token: string;
  /** Make the next provision's machine create hang: `entered` once it hangs, `open` lets it go. */
  holdNextMachineCreate(): { entered: Promise<void>; open(): void };
}

/** What the journey saw, step by step, for the test to assert. */
export interface JourneySeen {
  provisioned: string;
  afterProvision: string | undefined;
  stop: string;
  start: string;
  switchedTo: string | undefined;
  switchTarget: string;
  cancel: { status: number; settled: boolean | undefined; instanceStatus: string | undefined; code: string | undefined };
  cancelAgain: { status: number; sameRequest: boolean };
  destroy: string;
  history: string[];
  afterDestroy: string | undefined;
}

/** Run provision → running → stop → start → switch → cancel a slow provision → destroy. */
export async function runJourney(options: JourneyOptions): Promise<JourneySeen> {
  const client = createClient({ baseUrl: options.baseUrl, auth: options.token });

  /** Follow an operation to its end with the server-side wait; its final status. */
  const finished = async (id: string, name: string): Promise<string> => {
    for (;;) {
      const { data, error } = await getOperation({ client, path: { id, name }, query: { wait: 20 } });
      if (error) throw new Error(`${error.code}: ${error.detail}`);
      if (data.execution.status !== 'RUNNING' && data.execution.status !== 'PENDING') return data.execution.status;
    }
  };

  const created = await createInstance({ client, headers: { 'idempotency-key': `heyapi-${Date.now()}` }, body: { name: 'heyapi-journey' } });
  if (!created.data) throw new Error(`provision refused: ${created.error?.code}`);
  const id = created.data.instance.id;
  const provisioned = await finished(id, created.data.operation.executionName);
  const running = await getInstance({ client, path: { id } });

  const stopped = await stopInstance({ client, path: { id }, body: {} });
  if (!stopped.data) throw new Error(`stop refused: ${stopped.error?.code}`);
  const stop = await finished(id, stopped.data.operation.executionName);
  const started = await startInstance({ client, path: { id } });
  if (!started.data) throw new Error(`start refused: ${started.error?.code}`);
  const start = await finished(id, started.data.operation.executionName);

  const providers = await listProviders({ client });
  const switchTarget = providers.data?.items.map((provider) => provider.name).find((name) => name !== running.data?.provider) ?? '';
  const switched = await switchInstanceProvider({ client, path: { id }, body: { provider: switchTarget, data: 'fresh' } });
  if (!switched.data) throw new Error(`switch refused: ${switched.error?.code}`);
  await finished(id, switched.data.operation.executionName);
  const afterSwitch = await getInstance({ client, path: { id } });

  // Cancel a slow provision: its machine create hangs until the cancel has settled it.
  const hold = options.holdNextMachineCreate();
  const slow = await createInstance({ client, headers: { 'idempotency-key': `heyapi-slow-${Date.now()}` }, body: { name: 'heyapi-slow' } });
  if (!slow.data) throw new Error(`slow provision refused: ${slow.error?.code}`);
  await hold.entered;
  const operation = { id: slow.data.instance.id, name: slow.data.operation.executionName };
  const cancelled = await cancelOperation({ client, path: operation });
  hold.open();
  const again = await cancelOperation({ client, path: operation });

  const destroyed = await destroyInstance({ client, path: { id } });
  if (!destroyed.data) throw new Error(`destroy refused: ${destroyed.error?.code}`);
  const destroy = await finished(id, destroyed.data.operation.executionName);
  const history = await listOperations({ client, path: { id } });
  const gone = await getInstance({ client, path: { id } });

  return {
    provisioned,
    afterProvision: running.data?.status,
    stop,
    start,
    switchedTo: afterSwitch.data?.provider,
    switchTarget,
    cancel: { status: cancelled.response.status, settled: cancelled.data?.settled, instanceStatus: cancelled.data?.instance.status, code: cancelled.data?.instance.lastStartError?.code },
    cancelAgain: { status: again.response.status, sameRequest: again.data?.cancel.requestedAt === cancelled.data?.cancel.requestedAt },
    destroy,
    history: history.data?.items.map((item) => item.kind) ?? [],
    afterDestroy: gone.error?.code,
  };
}
