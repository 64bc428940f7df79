import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { startApiServer, type LocalApiServer } from '../../infra/local/api-server';
import { ensureDevKey, mintDevToken, type DevKey, type DevTokenClaims } from '../../infra/local/dev-auth';
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from '../../infra/local/runtime';
import { keys } from '../../lambdas/store/keys';
import type { InstanceItem } from '../../lambdas/domain/instance';
import type { ComputeProvider } from '../../lambdas/providers/compute-provider';
import type { Deps } from '../../lambdas/composition/deps';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';
import { afterListLag } from './consistent';
import { FaultInjectingProvider } from './fault-injecting-provider';
import { fakeMachineAnswer, flyProviderFor, startFakeFly, type FakeFly } from './fake-fly';

/** Which provider a harness runs on: `SLIPWAY_TEST_PROVIDER` (set per Jest project), `local` by default. */
export type ProviderKind = 'local' | 'fly';

/** The provider kind of this Jest project. */
export function testProviderKind(): ProviderKind {
  return process.env.SLIPWAY_TEST_PROVIDER === 'fly' ? 'fly' : 'local';
}

/** A whole local slipway for one test file: its own table, provider root and servers. */
export interface Harness {
  runtime: LocalRuntime;
  api: LocalApiServer;
  /** The provider the workflows use: the backend behind a fault injector. */
  provider: FaultInjectingProvider;
  /** The provider itself (the local one, or the Fly adapter against the fake), for direct inspection. */
  backend: ComputeProvider;
  kind: ProviderKind;
  /** A region the provider offers. */
  region: string;
  /** The fake Fly server, on the Fly run. */
  fakeFly?: FakeFly;
  /**
   * The second provider (`secondProvider: true`): another local root, or another app of the fake's
   * organisation, so an instance can switch between the two.
   */
  west?: { name: string; region: string; provider: FaultInjectingProvider; backend: ComputeProvider };
  /** What the machine at `endpoint` answers: its instance, its id, the boot log on its volume. */
  answer(endpoint: string): Promise<{ instanceId: string; machineId: string; volumeFile: string }>;
  key: DevKey;
  token(claims: DevTokenClaims): Promise<string>;
  request(method: string, urlPath: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; body: any }>;
  instanceItem(instanceId: string): Promise<InstanceItem | undefined>;
  item(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined>;
  waitForExecution(executionArn: string): ReturnType<LocalRuntime['stepFunctions']['waitForExecution']>;
  /** Kill a machine's process behind slipway's back (local: SIGKILL; Fly: an unrequested exit). */
  killMachine(machineId: string): Promise<void>;
  /** The runtime's deps with a clock `seconds` ahead: everything due by then is due, every claim old. */
  later(seconds: number): Deps;
  /**
   * Crash the whole local stack (executions stop without Catch or events, machines die with the
   * host) and start a fresh one over the same table and provider state, as `kill -9` + `npm start` would.
   */
  crashAndRestart(options?: { settleOnStart?: boolean }): Promise<void>;
  /** The API process dies (in-flight requests cut) and a new one serves; the workflows run on. */
  crashApi(): Promise<void>;
  close(): Promise<void>;
}

/** Start a harness against the Jest-wide DynamoDB Local. */
export async function startHarness(
  options: Partial<LocalRuntimeOptions> & { wrap?: (p: ComputeProvider) => ComputeProvider; kind?: ProviderKind; secondProvider?: boolean } = {},
): Promise<Harness> {
  const endpoint = process.env.SLIPWAY_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('SLIPWAY_TEST_DYNAMODB_ENDPOINT is unset: this test needs the dynamo global setup');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-test-'));
  const kind = options.kind ?? testProviderKind();
  const fakeFly = kind === 'fly' ? await startFakeFly() : undefined;
  const tableName = `t-${randomUUID()}`;
  const region = kind === 'fly' ? 'ams' : 'local';
  const { wrap: _wrap, kind: _kind, secondProvider, ...runtimeOptions } = options;
  const westName = kind === 'fly' ? 'fly-west' : 'local-west';
  const westRegion = kind === 'fly' ? 'fra' : 'local-west';
  type Backend = ComputeProvider & { shutdown?: () => Promise<void> };
  const makeBackend = (): Backend => (fakeFly ? flyProviderFor(fakeFly) : new LocalComputeProvider({ rootDir: path.join(dir, 'provider') }));
  const makeWest = (): Backend | undefined =>
    !secondProvider ? undefined : fakeFly ? flyProviderFor(fakeFly, westName, `${fakeFly.app}-west`) : new LocalComputeProvider({ name: westName, rootDir: path.join(dir, 'provider-west') });
  const wrapped = (inner: Backend) => new FaultInjectingProvider(options.wrap ? options.wrap(inner) : inner);
  let backend = makeBackend();
  let provider = wrapped(backend);
  let westBackend = makeWest();
  let westProvider = westBackend ? wrapped(westBackend) : undefined;
  const start = (main: FaultInjectingProvider, west: FaultInjectingProvider | undefined, extra: Partial<LocalRuntimeOptions> = {}) =>
    startLocalRuntime({
      dynamoEndpoint: endpoint,
      tableName,
      providers: west ? [main, west] : [main],
      env: {
        PROVIDERS: JSON.stringify({
          default: main.name,
          providers: [
            { name: main.name, kind: 'local', root: 'unused', regions: [region] },
            ...(west ? [{ name: west.name, kind: 'local', root: 'unused', regions: [westRegion] }] : []),
          ],
        }),
        // Tests that kill a machine see what the sweep does; those about the push turn it on.
        MACHINE_EXIT_PUSH: 'false',
        ...options.env,
      },
      retryDelayScale: 0.01,
      logLevel: 'SILENT' as 'ERROR',
      ...runtimeOptions,
      ...extra,
    });
  let runtime = await start(provider, westProvider);
  const key = await ensureDevKey(dir);
  let api = await startApiServer(runtime, { jwks: key.jwks });
  const harness: Harness = {
    runtime,
    api,
    provider,
    backend,
    kind,
    region,
    fakeFly,
    west: westProvider && westBackend ? { name: westName, region: westRegion, provider: westProvider, backend: westBackend } : undefined,
    async answer(machineEndpoint) {
      if (fakeFly) return fakeMachineAnswer(fakeFly, machineEndpoint);
      return (await fetch(machineEndpoint).then((r) => r.json())) as { instanceId: string; machineId: string; volumeFile: string };
    },
    key,
    token: (claims) => mintDevToken(key, claims),
    async request(method, urlPath, { token, body, headers = {} } = {}) {
      const res = await fetch(`${harness.api.url}${urlPath}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep text */
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async instanceItem(instanceId) {
      return (await harness.item(keys.instance(instanceId))) as InstanceItem | undefined;
    },
    async item(key) {
      const out = await harness.runtime.deps.db.send(new GetCommand({ TableName: harness.runtime.deps.tableName, Key: key, ConsistentRead: true }));
      return out.Item;
    },
    waitForExecution: (arn) => harness.runtime.stepFunctions.waitForExecution(arn),
    async killMachine(machineId) {
      if (fakeFly) {
        await fakeFly.crash(machineId);
        // Fly's lists lag creates: a machine younger than the lag is not listed yet, so the sweep's
        // inventory would first see this death a period later. A test's death stands for one the
        // next sweep can see, so it happens to a machine older than the lag.
        return afterListLag(backend);
      }
      const pid = await (backend as LocalComputeProvider).processId(machineId);
      if (pid === null) throw new Error(`machine ${machineId} has no process`);
      process.kill(pid, 'SIGKILL');
      await backend.waitForState(machineId, 'stopped', 10_000);
    },
    later(seconds) {
      const base = harness.runtime.deps;
      return { ...base, now: () => new Date(Date.now() + seconds * 1000) };
    },
    async crashAndRestart(restartOptions = {}) {
      await api.close();
      await harness.runtime.crash();
      backend = makeBackend();
      provider = wrapped(backend);
      westBackend = makeWest();
      westProvider = westBackend ? wrapped(westBackend) : undefined;
      runtime = await start(provider, westProvider, { settleOnStart: restartOptions.settleOnStart ?? false });
      api = await startApiServer(runtime, { jwks: key.jwks });
      Object.assign(harness, {
        runtime,
        api,
        provider,
        backend,
        west: westProvider && westBackend ? { name: westName, region: westRegion, provider: westProvider, backend: westBackend } : undefined,
      });
    },
    async crashApi() {
      await api.close();
      api = await startApiServer(runtime, { jwks: key.jwks });
      harness.api = api;
    },
    async close() {
      await harness.api.close();
      await harness.runtime.close();
      await backend.shutdown?.();
      await westBackend?.shutdown?.();
      await fakeFly?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
