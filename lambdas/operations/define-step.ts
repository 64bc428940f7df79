import path from 'node:path';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { lambdaHandler, type Deps, type ProvidersFactory } from '../composition/deps';
import type { TransientErrorName } from '../shared/errors/core';
import { InvalidStepInputError } from '../shared/errors/workflow';
import type { StepPermissions } from '../shared/function-permissions';

/** A step: one zod schema for its input, one use case, the same in Lambda and in the local runtime. */
export interface StepModule<O> {
  /** Used by the local runtime and tests, which inject their own dependencies. */
  createHandler: (deps: Deps) => (input: unknown) => Promise<O>;
  /** The Lambda entry. */
  handler: (input: unknown, context?: Context) => Promise<O>;
}

/**
 * Everything about a step, stated once in its handler module: the function catalog, the workflow
 * builder (Task timeout, retriers, typed parameters) and the local runtime all read it from here.
 */
export interface StepSpec<S extends z.ZodType = z.ZodType, O = unknown> extends StepModule<O> {
  /** The catalog id, the Task state's name and the ASL substitution `${<name>FunctionArn}`. */
  name: string;
  /** One line for the Lambda function's description. */
  description: string;
  /** The handler module, relative to the repository root (the Lambda's bundle entry). */
  entry: string;
  /** The input schema; the workflow builder types a Task's parameters by it. */
  input: S;
  timeoutSeconds: number;
  memoryMb: number;
  /** The transient errors its use case throws; its Task state retries exactly these (and Lambda's own). */
  transientErrors: readonly TransientErrorName[];
  permissions: StepPermissions;
}

/** What a handler module states about its step; the rest has the defaults most steps share. */
export interface StepDefinition<S extends z.ZodType, O> {
  name: string;
  description: string;
  /** The handler module's own `__filename` (so its catalog entry can never name another file). */
  file: string;
  input: S;
  run: (deps: Deps, input: z.infer<S>) => Promise<O>;
  /** Default 30. */
  timeoutSeconds?: number;
  /** Default 256. */
  memoryMb?: number;
  /** Default none. */
  transientErrors?: readonly TransientErrorName[];
  /** Default: reads and writes the instance (GetItem, UpdateItem) and calls the provider. */
  permissions?: StepPermissions;
  /** How the Lambda entry builds its providers (only for steps that call one). */
  providers?: ProvidersFactory;
}

/** Repository root: a step's entry is stated relative to it. */
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Define a step from its input schema, its use case and what its function needs. */
export function defineStep<S extends z.ZodType, O>(definition: StepDefinition<S, O>): StepSpec<S, O> {
  const { name, input: schema, run } = definition;
  const createHandler = (deps: Deps) => async (raw: unknown): Promise<O> => {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) throw new InvalidStepInputError(`${name}: ${parsed.error.message}`);
    const input = parsed.data as Record<string, unknown>;
    // Every log line carries owner, instance, operation and execution name (ARCHITECTURE §6).
    const correlationId = typeof input.correlationId === 'string' ? input.correlationId : undefined;
    const logger = deps.logger.createChild({ persistentKeys: { step: name, owner: input.owner, instanceId: input.instanceId, executionName: input.claim, correlationId } });
    try {
      const output = await run({ ...deps, logger, correlationId }, parsed.data);
      logger.info('step succeeded');
      return output;
    } catch (error) {
      logger.warn('step failed', { error: error as Error });
      throw error;
    }
  };
  return {
    name,
    description: definition.description,
    // In a Lambda bundle `__filename` is the bundle's; only infra (which runs on the sources) reads this.
    entry: path.relative(REPO_ROOT, definition.file).split(path.sep).join('/'),
    input: schema,
    timeoutSeconds: definition.timeoutSeconds ?? 30,
    memoryMb: definition.memoryMb ?? 256,
    transientErrors: definition.transientErrors ?? [],
    permissions: definition.permissions ?? { table: ['GetItem', 'UpdateItem'], usesProvider: true },
    createHandler,
    handler: lambdaHandler(createHandler, definition.providers),
  };
}

/** Steps that only read and write the table (conditional updates, alone or in transactions). */
export const TABLE_ONLY: StepPermissions = { table: ['GetItem', 'UpdateItem'] };
/** Steps that read the instance (the claim) and call the provider, never writing the table. */
export const READS_AND_CALLS_PROVIDER: StepPermissions = { table: ['GetItem'], usesProvider: true };
/** Steps that clean up by ownership tags: they read the instance and which tagged volumes are retained (BatchGetItem). */
export const CLEANS_UP_BY_TAGS: StepPermissions = { table: ['GetItem', 'BatchGetItem'], usesProvider: true };
