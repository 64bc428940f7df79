import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApiServer, type LocalApiServer } from '../infra/local/api-server';
import { ensureDevKey, mintDevToken, type DevKey } from '../infra/local/dev-auth';
import { startDynamoDbLocal, type DynamoDbLocal } from '../infra/local/dynamodb-local';
import { startLocalRuntime, type LocalRuntime } from '../infra/local/runtime';
import type { Settings } from '../lambdas/composition/deps';
import type { ComputeProvider } from '../lambdas/providers/compute-provider';
import { FaultInjectingProvider } from '../test/support/fault-injecting-provider';
import { LocalComputeProvider } from '../lambdas/providers/local/local-provider';

/** A whole local slipway for the bench: in-memory DynamoDB Local, runtime, API, dev key. */
export interface BenchWorld {
  dynamo: DynamoDbLocal;
  runtime: LocalRuntime;
  api: LocalApiServer;
  /** The provider the runtime sees: gate → fault injection → local provider. */
  faults: FaultInjectingProvider;
  local: LocalComputeProvider;
  /** While closed, `createVolume` waits (so a provision keeps its reservation). */
  gate: Gate;
  /** Mint a token for a fresh owner `user:<sub>` (do it outside any timed region). */
  token(sub: string): Promise<string>;
  /** `POST /v1/instances` with an empty body; resolves once the whole response is read. */
  provision(token: string, idempotencyKey: string): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** A latch that holds callers while closed. */
export class Gate {
  private opened: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;

  /** Hold later `pass()` callers until `open()`. */
  close(): void {
    this.opened = new Promise((resolve) => (this.release = resolve));
  }
  /** Let every held and later caller through. */
  open(): void {
    this.release();
    this.opened = Promise.resolve();
  }
  /** Resolves when the gate is open. */
  pass(): Promise<void> {
    return this.opened;
  }
}

/** Wrap `inner` so that `createVolume` first passes `gate`; every other call goes straight through. */
function gated(inner: ComputeProvider, gate: Gate): ComputeProvider {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'createVolume') return async (...args: Parameters<ComputeProvider['createVolume']>) => (await gate.pass(), target.createVolume(...args));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Start DynamoDB Local (in memory), the runtime with real retry timings, and the API on port 0 (the sweeps on their timers when asked). */
export async function startBenchWorld(options: { settings?: Partial<Settings>; sweepTimer?: boolean } = {}): Promise<BenchWorld> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-bench-'));
  const dynamo = await startDynamoDbLocal();
  const local = new LocalComputeProvider({ rootDir: path.join(dir, 'provider') });
  const faults = new FaultInjectingProvider(local);
  const gate = new Gate();
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({
      dynamoEndpoint: dynamo.endpoint,
      tableName: 'slipway-bench',
      providers: [gated(faults, gate)],
      retryDelayScale: 1,
      logLevel: 'SILENT',
      settings: options.settings,
      sweepTimer: options.sweepTimer,
    });
    const key: DevKey = await ensureDevKey(dir);
    const api = await startApiServer(runtime, { jwks: key.jwks });
    const rt = runtime;
    return {
      dynamo,
      runtime: rt,
      api,
      faults,
      local,
      gate,
      token: (sub) => mintDevToken(key, { sub }),
      async provision(token, idempotencyKey) {
        const res = await fetch(`${api.url}/v1/instances`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: '{}',
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      },
      async close() {
        gate.open();
        await api.close();
        await rt.close();
        await local.shutdown();
        await dynamo.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await runtime?.close().catch(() => undefined);
    await local.shutdown();
    await dynamo.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
