import './polyfills';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { MACHINE_SIZES, type ComputeProvider } from '../../lambdas/providers/compute-provider';
import type { ProvidersSetting } from '../../lambdas/shared/providers-config';
import { defaultLocalProviders, localRuntimeProvider } from './providers';
import { registryOf } from '../../lambdas/providers/registry';
import { parseConfig } from '../../lambdas/shared/config';
import { RecordingMetrics } from '../../lambdas/shared/telemetry';
import { RecordingEvents } from '../../lambdas/shared/events';
import { machinesBeingDestroyed } from '../../lambdas/sweeps/reconcile/host-restart';
import { settlePushedExit } from '../../lambdas/sweeps/reconcile/inventory';
import { runReconcile, type ReconcileOptions } from '../../lambdas/sweeps/reconcile/sweep';
import type { SweepReport } from '../../lambdas/sweeps/report';
import { SWEEP_LIST, type SweepName } from '../../lambdas/sweeps/registry';
import { depsFromConfig, type Deps, type Settings } from '../../lambdas/composition/deps';
import { applySubstitutions, readWorkflowDefinition, substitutionsFor } from '../asl';
import { WORKFLOW_NAMES, stateMachineArnEnvVar } from '../../lambdas/shared/workflows';
import { FUNCTION_CATALOG } from '../function-catalog';
import { stateMachineNameOf } from '../workflows';
import { WORKFLOW_DEFINITIONS } from '../../lambdas/operations/workflows';
import { stepsOf } from '../../lambdas/operations/workflow-builder';
import { ensureTable, LOCAL_CREDENTIALS } from './dynamodb-local';
import { startLocalStepFunctions, type ExecutionClosedEvent, type LocalStepFunctions } from './stepfunctions';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The ARN a catalog function has in the local world (only ever a map key). */
export function localFunctionArn(functionId: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:slipway-${functionId}`;
}

/**
 * The PROVIDERS setting when the caller gave none: the explicit providers as `local` ones (tests),
 * else the two default local providers under the provider root.
 */
function providersSettingFor(options: LocalRuntimeOptions): ProvidersSetting {
  if (options.providers) {
    return {
      default: options.providers[0]!.name,
      providers: options.providers.map((provider) => ({ name: provider.name, kind: 'local' as const, root: 'unused', regions: ['local'], sizes: [...MACHINE_SIZES], dailySnapshots: false })),
    };
  }
  return defaultLocalProviders(options.providerRoot ?? path.join(REPO_ROOT, '.data', 'provider'));
}

/** What the local runtime is built from. */
export interface LocalRuntimeOptions {
  dynamoEndpoint: string;
  tableName: string;
  /**
   * Where the default providers keep their state (`<root>` and `<root>-west`) when neither
   * `env.PROVIDERS` nor `providers` says otherwise.
   */
  providerRoot?: string;
  /** Providers to use instead of building them from configuration (tests wrap them to inject faults). */
  providers?: ComputeProvider[];
  /** Wraps every provider built from configuration (tests record or inject faults). */
  wrapProvider?: (provider: ComputeProvider) => ComputeProvider;
  sfnPort?: number;
  host?: string;
  /** Scale Retry pauses (tests use ~0.01 so retries take milliseconds). */
  retryDelayScale?: number;
  settings?: Partial<Settings>;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  onExecutionClosed?: (event: ExecutionClosedEvent) => void | Promise<void>;
  /** Configuration as a Lambda reads it (e.g. `process.env`); endpoints and ARNs are set here. */
  env?: NodeJS.ProcessEnv;
  /**
   * Run each sweep of the registry on a timer at its period setting (reconcile every
   * `SWEEP_PERIOD_SECONDS`, volume cleanup every `VOLUME_CLEANUP_PERIOD_SECONDS`: what EventBridge
   * Scheduler does on AWS). Off unless asked: tests run the sweeps themselves.
   */
  sweepTimer?: boolean;
  /**
   * Settle at start everything the attention index holds: executions that ran when the previous
   * local runtime stopped are gone, and their claims and reservations must not wait for their due time.
   */
  settleOnStart?: boolean;
}

/** The stand-ins for AWS, wired with the same handlers and ASL that run there. */
export interface LocalRuntime {
  deps: Deps;
  stepFunctions: LocalStepFunctions;
  /** The default provider. */
  provider: ComputeProvider;
  /** Every configured provider. */
  providers: ComputeProvider[];
  /** The in-process step handlers by catalog id (tests replay steps with them). */
  taskHandlers: Record<string, (input: unknown) => Promise<unknown>>;
  /** Run the reconcile sweep now (the same handler the schedule invokes). */
  sweep(options?: ReconcileOptions): Promise<SweepReport>;
  /** Run the volume-cleanup sweep now (the same handler the schedule invokes). */
  sweepVolumes(): Promise<SweepReport>;
  /** The lifecycle events published so far (the local stand-in for the EventBridge bus). */
  events: RecordingEvents;
  close(): Promise<void>;
  /**
   * Die as a crashed host would: executions stop where they are without their Catch or any event,
   * machine processes die, the sweep timer stops. State on disk and in the table stays as it was.
   */
  crash(): Promise<void>;
}

type HandlerModule = { createHandler: (deps: Deps) => (input: unknown) => Promise<unknown> };

/**
 * Start the table, the provider and the local Step Functions endpoint. Every Task resource of
 * every workflow maps to the handler module the function catalog names, run in-process.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dynamoClient = new DynamoDBClient({ endpoint: options.dynamoEndpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
  await ensureTable(dynamoClient, options.tableName);
  dynamoClient.destroy();


  // The endpoint listens first (on a port of its choosing), so configuration can name it; Task
  // handlers are looked up per call, so they join once the deps exist.
  const taskHandlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const stepFunctions = await startLocalStepFunctions({
    host: options.host ?? '127.0.0.1',
    port: options.sfnPort ?? 0,
    region: REGION,
    accountId: ACCOUNT,
    stateMachines: WORKFLOW_NAMES.map((workflow) => ({
      name: stateMachineNameOf(workflow),
      definition: applySubstitutions(readWorkflowDefinition(workflow), substitutionsFor(workflow, localFunctionArn)),
    })),
    taskHandlers,
    retryDelayScale: options.retryDelayScale ?? 1,
    // What EventBridge delivers on AWS: the listener settles what a failed execution left behind.
    onExecutionClosed: async (event) => {
      await listener?.({ detail: event });
      await options.onExecutionClosed?.(event);
    },
  });
  let listener: ((event: unknown) => Promise<unknown>) | undefined;

  // The same parser a Lambda uses; only the endpoints (and the state machine ARNs) are local.
  const config = parseConfig({
    ...options.env,
    // Cursors are sealed with a secret; without one given, a fresh one per runtime (like a stack's generated secret).
    CURSOR_SECRET: options.env?.CURSOR_SECRET ?? (options.env?.CURSOR_SECRET_NAME ? undefined : randomBytes(32).toString('base64url')),
    AWS_REGION: REGION,
    TABLE_NAME: options.tableName,
    DYNAMODB_ENDPOINT: options.dynamoEndpoint,
    STEPFUNCTIONS_ENDPOINT: stepFunctions.endpoint,
    PROVIDERS: options.env?.PROVIDERS ?? JSON.stringify(providersSettingFor(options)),
    ...Object.fromEntries(WORKFLOW_NAMES.map((workflow) => [stateMachineArnEnvVar(workflow), stepFunctions.stateMachineArn(stateMachineNameOf(workflow))])),
  });
  const wrap = options.wrapProvider ?? ((provider: ComputeProvider) => provider);
  const providers = options.providers ?? config.PROVIDERS!.providers.map((settings) => wrap(localRuntimeProvider(settings, REGION)));
  const provider = providers.find((p) => p.name === config.PROVIDERS!.default) ?? providers[0]!;
  // 'SILENT' is the tests' choice; the config schema knows the four levels a deployment may set.
  const logger = new Logger({ serviceName: 'slipway', logLevel: options.logLevel ?? 'WARN' });
  // Lifecycle events go to the log and a short history the admin view shows (no bus to send them to).
  const events = new RecordingEvents(logger);
  const base = depsFromConfig(config, {
    providers: registryOf(providers),
    logger,
    // Kept in memory locally (no CloudWatch to send EMF to); tests and the admin views read them.
    metrics: new RecordingMetrics(),
    events,
    clientCredentials: LOCAL_CREDENTIALS,
  });
  // One name for this runtime across its restarts (its table), a new boot each start: a restart
  // recognises the sweep lease its dead boot left and takes it over instead of waiting it out.
  const runtimeIdentity = { runtime: `local:${options.dynamoEndpoint}/${options.tableName}`, boot: randomBytes(8).toString('hex') };
  const deps: Deps = { ...base, settings: { ...base.settings, ...options.settings }, runtimeIdentity };

  // The host came back: local providers restart machines that ran when it went down — except those
  // of instances being destroyed, which stay down for their destroy to remove.
  const destroying = await machinesBeingDestroyed(deps);
  for (const each of providers) {
    await (each as { resumeAfterHostRestart?: (options: { keepStopped: ReadonlySet<string> }) => Promise<unknown> }).resumeAfterHostRestart?.({ keepStopped: destroying.get(each.name) ?? new Set() });
  }

  const load = (id: string) => {
    const entry = FUNCTION_CATALOG.find((fn) => fn.id === id)!.entry;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require(path.join(REPO_ROOT, entry)) as HandlerModule).createHandler(deps);
  };
  listener = load('ExecutionClosed');
  // Each sweep through the handler its schedule invokes, with the event the schedule sends.
  const sweepHandlers = new Map(SWEEP_LIST.map((spec) => [spec.name, load(spec.function.id) as unknown as (event: unknown) => Promise<SweepReport>]));
  const runSweep = (name: SweepName) => sweepHandlers.get(name)!({ sweep: name });
  const sweep = (sweepOptions: ReconcileOptions = {}) => (sweepOptions.afterRestart ? runReconcile(deps, sweepOptions) : runSweep('reconcile'));
  const sweepVolumes = () => runSweep('volume-cleanup');

  const byId: Record<string, (input: unknown) => Promise<unknown>> = {};
  // Every step of every workflow, from the StepSpecs the workflows were built from (the same handler modules the bundles hold).
  for (const step of new Set(WORKFLOW_NAMES.flatMap((workflow) => stepsOf(WORKFLOW_DEFINITIONS[workflow])))) {
    const handler = step.createHandler(deps);
    byId[step.name] = handler;
    taskHandlers[localFunctionArn(step.name)] = handler;
  }

  // Push: a machine process that exits unasked is settled at once, by the sweep's own path for one
  // instance (settlePushedExit); MACHINE_EXIT_PUSH=false leaves it to the next sweep's inventory.
  const unsubscribe = deps.settings.machineExitPush
    ? providers.map((each) =>
        each.onUnrequestedExit?.((exit) => {
          void settlePushedExit(deps, each.name, exit)
            .then((report) => {
              for (const action of report.actions) deps.logger.info('machine exit settled', { ...action });
              for (const failure of report.errors) deps.logger.warn('machine exit not settled (the next sweep looks again)', { ...failure });
            })
            .catch((error: unknown) => deps.logger.warn('machine exit not settled (the next sweep looks again)', { error: error as Error }));
        }),
      )
    : [];
  const stopPush = () => {
    for (const each of unsubscribe) each?.();
  };

  if (options.settleOnStart) await sweep({ afterRestart: true }).catch((error: unknown) => deps.logger.error('start-up settle failed', { error: error as Error }));
  const timers = options.sweepTimer
    ? SWEEP_LIST.map((spec) => startSweepTimer(deps, () => runSweep(spec.name), () => deps.settings[spec.schedule.setting]))
    : [];

  return {
    deps,
    stepFunctions,
    provider,
    providers,
    taskHandlers: byId,
    sweep,
    sweepVolumes,
    events,
    async close() {
      stopPush();
      for (const timer of timers) await timer.stop();
      await stepFunctions.close();
      for (const each of providers) await (each as { shutdown?: () => Promise<void> }).shutdown?.();
      deps.sfn.destroy();
      deps.db.destroy();
    },
    async crash() {
      stopPush();
      for (const timer of timers) await timer.stop();
      await stepFunctions.crash();
      for (const each of providers) await (each as { shutdown?: () => Promise<void> }).shutdown?.();
    },
  };
}

/** The local stand-in for EventBridge Scheduler: a sweep every `period()` seconds, never two at once. */
function startSweepTimer(deps: Deps, sweep: () => Promise<SweepReport>, period: () => number): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let stopped = false;
  const tick = () => {
    if (stopped) return;
    running = sweep()
      .catch((error: unknown) => deps.logger.error('sweep failed', { error: error as Error }))
      .finally(() => {
        if (!stopped) handle = setTimeout(tick, period() * 1000);
      });
  };
  let handle = setTimeout(tick, period() * 1000);
  return {
    async stop() {
      stopped = true;
      clearTimeout(handle);
      await running;
    },
  };
}
