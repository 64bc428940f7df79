import './polyfills';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { createDocumentClient } from '../../lambdas/adapters/dynamo';
import type { ComputeProvider } from '../../lambdas/providers/compute-provider';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';
import { registryOf } from '../../lambdas/providers/registry';
import type { Deps, Settings } from '../../lambdas/shared/deps';
import { applySubstitutions, readWorkflowDefinition, substitutionsFor } from '../asl';
import { WORKFLOW_NAMES, type WorkflowName } from '../../lambdas/shared/workflows';
import { FUNCTION_CATALOG } from '../function-catalog';
import { stateMachineNameOf, workflowsInvoking } from '../workflows';
import { ensureTable, LOCAL_CREDENTIALS } from './dynamodb-local';
import { startLocalStepFunctions, type ExecutionClosedEvent, type LocalStepFunctions } from './stepfunctions';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The ARN a catalog function has in the local world (only ever a map key). */
export function localFunctionArn(functionId: string): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:slipway-${functionId}`;
}

/** What the local runtime is built from. */
export interface LocalRuntimeOptions {
  dynamoEndpoint: string;
  tableName: string;
  /** The `local` provider's state directory (ignored when `provider` is given). */
  providerRoot?: string;
  /** A provider to use instead (tests wrap the local one to inject faults). */
  provider?: ComputeProvider;
  sfnPort?: number;
  host?: string;
  /** Scale Retry pauses (tests use ~0.01 so retries take milliseconds). */
  retryDelayScale?: number;
  settings?: Partial<Settings>;
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  onExecutionClosed?: (event: ExecutionClosedEvent) => void | Promise<void>;
}

/** The stand-ins for AWS, wired with the same handlers and ASL that run there. */
export interface LocalRuntime {
  deps: Deps;
  stepFunctions: LocalStepFunctions;
  provider: ComputeProvider;
  /** The in-process step handlers by catalog id (tests replay steps with them). */
  taskHandlers: Record<string, (input: unknown) => Promise<unknown>>;
  close(): Promise<void>;
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

  const provider = options.provider ?? new LocalComputeProvider({ rootDir: options.providerRoot ?? path.join(REPO_ROOT, '.data', 'provider') });
  const logger = new Logger({ serviceName: 'slipway', logLevel: options.logLevel ?? 'WARN' });
  const stateMachineArns: Record<WorkflowName, string> = Object.fromEntries(
    WORKFLOW_NAMES.map((workflow) => [workflow, `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineNameOf(workflow)}`]),
  ) as Record<WorkflowName, string>;

  // The deps the handlers see; `sfn` points at the local endpoint once it listens.
  const deps: Deps = {
    db: createDocumentClient({ region: REGION, endpoint: options.dynamoEndpoint, credentials: LOCAL_CREDENTIALS }),
    tableName: options.tableName,
    sfn: undefined as unknown as SFNClient,
    stateMachines: stateMachineArns,
    providers: registryOf([provider]),
    now: () => new Date(),
    logger,
    settings: {
      defaultInstanceLimit: 5,
      reservationDeadlineSeconds: 900,
      defaultProvider: provider.name,
      defaultRegion: 'local',
      defaultImage: 'slipway/hello:1',
      failedRetentionSeconds: 7 * 24 * 3600,
      idempotencyTtlSeconds: 24 * 3600,
      ...options.settings,
    },
  };

  const byId: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const fn of FUNCTION_CATALOG.filter((f) => workflowsInvoking(f.id).length > 0)) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(REPO_ROOT, fn.entry)) as HandlerModule;
    byId[fn.id] = mod.createHandler(deps);
  }
  const taskHandlers = Object.fromEntries(Object.entries(byId).map(([id, handler]) => [localFunctionArn(id), handler]));

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
    onExecutionClosed: options.onExecutionClosed,
  });
  deps.sfn = new SFNClient({ region: REGION, endpoint: stepFunctions.endpoint, credentials: LOCAL_CREDENTIALS });

  return {
    deps,
    stepFunctions,
    provider,
    taskHandlers: byId,
    async close() {
      await stepFunctions.close();
      const closable = provider as { shutdown?: () => Promise<void> };
      await closable.shutdown?.();
      deps.sfn.destroy();
      deps.db.destroy();
    },
  };
}
