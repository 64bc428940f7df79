import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { cursorCodecFromConfig, type CursorCodec } from '../adapters/cursors';
import { AWS_CLIENT_TIMEOUTS, createDocumentClient } from '../adapters/dynamo';
import { createEventBridgeClient, eventBridgeEvents } from '../adapters/event-bus';
import type { ComputeProvider, ProviderRegistry } from '../providers/compute-provider';
import { registryOf } from '../providers/registry';
import { WORKFLOW_NAMES, stateMachineArnEnvVar, type WorkflowName } from '../shared/workflows';
import { ConfigError, loadConfig, type Config } from '../shared/config';
import { DEFAULT_CLAIM_TIMEOUT_SECONDS, type Operation } from '../operations/registry';
import { offeringOf, type ProviderOffering } from '../shared/providers-config';
import { unpublishedEvents, type EventsPort } from '../shared/events';
import { powertoolsMetrics, type MetricsPort } from '../shared/telemetry';

/** Tunables the use cases read; configuration, with defaults in the config schema. */
export interface Settings {
  defaultInstanceLimit: number;
  reservationDeadlineSeconds: number;
  /** The providers callers may choose from (regions, sizes) and the default one. */
  providers: ProviderOffering[];
  defaultProvider: string | null;
  defaultImage: string;
  /**
   * How long a failed or destroyed instance is kept (TTL) after it ended. The instance item is its
   * provision's idempotency record (its id derives from the Idempotency-Key), so it must outlive
   * Step Functions' 90-day retention of execution names: a key reused after the item is gone makes
   * the same id and the same execution name, which must be free again by then.
   */
  endedRetentionSeconds: number;
  /** The longest the sweep waits between looks at a claim whose execution still runs (the first look is one sweep period after the claim). */
  claimTimeoutSeconds: Readonly<Record<Operation, number>>;
  /** How often the sweep's fleet inventory is the full audit (every machine, in full). */
  fleetAuditSeconds: number;
  /** Whether a provider that can push a machine's unrequested exit (local) has the runtime settle it at once. */
  machineExitPush: boolean;
  /** Age a provider resource nobody accounts for must reach before the sweep destroys it. */
  orphanGraceSeconds: number;
  /** How often the sweep inventories the providers for orphans. */
  orphanScanSeconds: number;
  /** Tries of a failing cleanup before it is left to an operator. */
  reconcileMaxTries: number;
  /** Period of the local sweep timer. */
  sweepPeriodSeconds: number;
  /** No automatic recovery of an instance for this long after its last one. */
  recoveryCooldownSeconds: number;
  /** How long a replaced volume with snapshots is retained. */
  volumeRetentionSeconds: number;
  /** Period of the local volume-cleanup timer. */
  volumeCleanupPeriodSeconds: number;
  /** Tries of a retained volume's delete before it is left to an operator. */
  volumeCleanupMaxTries: number;
  /**
   * Admission reads the key's instance and the owner item before every transaction, so a refused
   * request (reservation held, quota full, a replay) is answered without one. Off (the default):
   * an admission that finds no other of its owner in flight transacts at once and its conditions
   * decide; only those that wait for a turn, or lost one, read first (the bench measures both).
   */
  admissionReadsFirst: boolean;
  /** How long a cancel settles the stopped operation itself before it answers 202 and leaves the rest to the sweep (under API Gateway's 29 s). */
  cancelSettleMs: number;
}

/** Everything a handler needs from the outside world, injected so tests and the local runtime can supply their own. */
export interface Deps {
  db: DynamoDBDocumentClient;
  tableName: string;
  sfn: SFNClient;
  /** State machine ARN per workflow; empty when this function starts none. */
  stateMachines: Record<WorkflowName, string>;
  /** Prefix of console links to executions (AWS only). */
  consoleUrlPrefix?: string;
  providers: ProviderRegistry;
  now: () => Date;
  logger: Logger;
  metrics: MetricsPort;
  /** Lifecycle events for subscribers (EventBridge on AWS; the log and the admin view locally). */
  events: EventsPort;
  settings: Settings;
  /** Seals and opens pagination cursors (opaque, tamper-evident, bound to their listing). */
  cursors: CursorCodec;
  /** The request's (or execution's) correlation id, carried into executions and every log line. */
  correlationId?: string;
  /**
   * Who this process is to a sweep lease: a runtime name that survives its restarts and this boot
   * of it. The local runtime names itself (so a restart recognises its dead boot's lease); unset, a
   * process is its own runtime (a Lambda container never restarts under the same name).
   */
  runtimeIdentity?: RuntimeIdentity;
}

/** A runtime's name (stable across its restarts) and the current boot of it. */
export interface RuntimeIdentity {
  runtime: string;
  boot: string;
}

/** Settings from configuration. */
export function settingsFrom(config: Config): Settings {
  return {
    defaultInstanceLimit: config.DEFAULT_INSTANCE_LIMIT,
    reservationDeadlineSeconds: config.RESERVATION_DEADLINE_SECONDS,
    providers: (config.PROVIDERS?.providers ?? []).map(offeringOf),
    defaultProvider: config.PROVIDERS?.default ?? null,
    defaultImage: config.DEFAULT_IMAGE,
    endedRetentionSeconds: 100 * 24 * 3600,
    claimTimeoutSeconds: { ...DEFAULT_CLAIM_TIMEOUT_SECONDS, ...config.CLAIM_TIMEOUT_SECONDS },
    fleetAuditSeconds: config.FLEET_AUDIT_SECONDS,
    machineExitPush: config.MACHINE_EXIT_PUSH,
    orphanGraceSeconds: config.ORPHAN_GRACE_SECONDS,
    orphanScanSeconds: config.ORPHAN_SCAN_SECONDS,
    reconcileMaxTries: config.RECONCILE_MAX_TRIES,
    sweepPeriodSeconds: config.SWEEP_PERIOD_SECONDS,
    recoveryCooldownSeconds: config.RECOVERY_COOLDOWN_SECONDS,
    volumeRetentionSeconds: config.VOLUME_RETENTION_SECONDS,
    volumeCleanupPeriodSeconds: config.VOLUME_CLEANUP_PERIOD_SECONDS,
    volumeCleanupMaxTries: config.VOLUME_CLEANUP_MAX_TRIES,
    admissionReadsFirst: false,
    cancelSettleMs: 10_000,
  };
}

/** The configured state machine ARN of every workflow ('' when this function starts none). */
export function stateMachinesFrom(config: Config): Record<WorkflowName, string> {
  return Object.fromEntries(WORKFLOW_NAMES.map((workflow) => [workflow, config[stateMachineArnEnvVar(workflow)] ?? ''])) as Record<WorkflowName, string>;
}

/** What a composition root may supply instead of what configuration builds. */
export type DepsOverrides = Partial<Deps> & {
  /** Static credentials for the SDK clients (DynamoDB Local and the local Step Functions endpoint accept any). */
  clientCredentials?: { accessKeyId: string; secretAccessKey: string };
};

/** Build dependencies from configuration (the Lambda path). Clients are created once per process. */
export function depsFromConfig(config: Config = loadConfig(), overrides: DepsOverrides = {}): Deps {
  const credentials = overrides.clientCredentials;
  const logger = overrides.logger ?? new Logger({ serviceName: 'slipway', logLevel: config.LOG_LEVEL });
  return {
    // X-Ray subsegments for every table call (a no-op where tracing is off, e.g. locally).
    db: overrides.db ?? traced(config, createDocumentClient({ region: config.AWS_REGION, endpoint: config.DYNAMODB_ENDPOINT, credentials })),
    tableName: config.TABLE_NAME,
    sfn: overrides.sfn ?? traced(config, new SFNClient({ region: config.AWS_REGION, endpoint: config.STEPFUNCTIONS_ENDPOINT, credentials, requestHandler: { ...AWS_CLIENT_TIMEOUTS } })),
    stateMachines: overrides.stateMachines ?? stateMachinesFrom(config),
    consoleUrlPrefix: config.EXECUTION_CONSOLE_URL_PREFIX,
    // A function that calls no provider gets none; those that do pass theirs (lambdaHandler).
    providers: overrides.providers ?? registryOf([]),
    now: overrides.now ?? (() => new Date()),
    logger,
    metrics: overrides.metrics ?? powertoolsMetrics(),
    events:
      overrides.events ??
      (config.EVENT_BUS_NAME
        ? eventBridgeEvents(createEventBridgeClient({ region: config.AWS_REGION, endpoint: config.EVENTBRIDGE_ENDPOINT, credentials }), config.EVENT_BUS_NAME)
        : unpublishedEvents(logger)),
    settings: overrides.settings ?? settingsFrom(config),
    cursors: overrides.cursors ?? cursorCodecFromConfig(config),
  };
}

/** A state machine ARN a use case needs, or a clear configuration error. */
export function stateMachineArn(deps: Deps, workflow: keyof Deps['stateMachines']): string {
  const arn = deps.stateMachines[workflow];
  if (!arn) throw new ConfigError(`Missing configuration: the ${workflow} state machine ARN`);
  return arn;
}

/** Builds the provider registry of a Lambda function from configuration (handlers that call providers pass one). */
export type ProvidersFactory = (config: Config) => ProviderRegistry;

/**
 * Wrap a handler factory so the Lambda entry builds its dependencies once, on the first
 * invocation, and warm invocations reuse them.
 */
export function lambdaHandler<I, O>(create: (deps: Deps) => (input: I) => Promise<O>, providers?: ProvidersFactory): (input: I, context?: Context) => Promise<O> {
  let built: { deps: Deps; handler: (input: I) => Promise<O> } | undefined;
  return async (input: I, context?: Context) => {
    if (!built) {
      const config = loadConfig();
      const deps = depsFromConfig(config, providers ? { providers: providers(config) } : {});
      built = { deps, handler: create(deps) };
    }
    // Request id, function name and the cold-start flag on every log line of this invocation.
    if (context) built.deps.logger.addContext(context);
    try {
      return await built.handler(input);
    } finally {
      built.deps.metrics.flush();
    }
  };
}

/**
 * The client with X-Ray subsegments for every call when the function is traced (`TRACING=xray`,
 * set on every deployed function), else as it is. The tracer is loaded only then (`tracing.ts`):
 * importing it loads the X-Ray SDK, whose context tracking (async hooks on every promise) made each
 * `await` several times slower in the whole process — for nothing where no trace is sent.
 */
function traced<C extends object>(config: Config, client: C): C {
  if (config.TRACING !== 'xray') return client;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('./tracing') as typeof import('./tracing')).captureClient(client);
}

export type { ComputeProvider };
