/**
 * `GET /v1/instances/{id}/operations/{name}?wait=N`: the request holds until the operation ends or
 * the wait runs out, and answers the operation's state either way; while it holds, it reads the
 * table once at each end and never polls it.
 */
import type { ComputeProvider } from '../../lambdas/providers/compute-provider';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';

let h: Harness;
/** While set, every stopMachine call waits for it. */
let gate: Promise<void> | undefined;
let open: () => void = () => undefined;
/** Resolved when a stop reaches the closed gate. */
let reached: () => void = () => undefined;

/** A provider whose stops wait at the gate while it is closed. */
function gated(inner: ComputeProvider): ComputeProvider {
  return new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'stopMachine' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: unknown[]) => {
        if (gate) reached();
        await gate;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

beforeAll(async () => {
  h = await startHarness({ wrap: gated });
}, 60_000);
afterAll(async () => {
  open();
  await h.close();
});

/** Count the table calls the app makes while `run` runs. */
async function countingTableCalls<T>(run: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const calls: string[] = [];
  const name = `count-${Math.random()}`;
  h.runtime.deps.db.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await run(), calls };
  } finally {
    h.runtime.deps.db.middlewareStack.remove(name);
  }
}

describe('waiting for an operation', () => {
  it('answers once the operation has ended, in the same request', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'wait-ends');
    const stop = await h.request('POST', `/v1/instances/${id}/stop`, { token });

    // Act
    const waited = await h.request('GET', `${stop.headers.get('location')}?wait=20`, { token });

    // Assert
    expect(waited.status).toBe(200);
    expect(waited.body.execution.status).toBe('SUCCEEDED');
    expect((await h.request('GET', `/v1/instances/${id}`, { token })).body.status).toBe('stopped');
  });

  it('answers the running state when the wait runs out, reading the table only at its ends', async () => {
    // Arrange: the stop is held at the provider.
    const { id, token } = await provisionRunning(h, 'wait-expires');
    gate = new Promise((resolve) => (open = resolve));
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const stop = await h.request('POST', `/v1/instances/${id}/stop`, { token });
    await atGate;

    // Act
    const { result: expired, calls } = await countingTableCalls(() => h.request('GET', `${stop.headers.get('location')}?wait=2`, { token }));
    open();
    gate = undefined;
    const ended = await h.request('GET', `${stop.headers.get('location')}?wait=20`, { token });

    // Assert
    expect([expired.status, expired.body.execution.status]).toEqual([200, 'RUNNING']);
    expect(calls).toEqual(['GetItemCommand', 'GetItemCommand']);
    expect([ended.status, ended.body.execution.status]).toEqual([200, 'SUCCEEDED']);
  });

  it.each(['26', '-1', '1.5', '1e1', 'soon'])('refuses wait=%s', async (wait) => {
    // Arrange
    const { id, token } = await provisionRunning(h, `wait-bad-${wait}`);
    const ops = await h.request('GET', `/v1/instances/${id}/operations`, { token });

    // Act
    const res = await h.request('GET', `/v1/instances/${id}/operations/${ops.body.items[0].name}?wait=${encodeURIComponent(wait)}`, { token });

    // Assert
    expect([res.status, res.body.code, res.body.errors[0].path]).toEqual([400, 'validation_failed', 'query.wait']);
  });
});
