import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { lambdaHandler, type Deps, type ProvidersFactory } from '../composition/deps';
import { InvalidStepInputError } from '../shared/errors/workflow';

/** A step: one zod schema for its input, one use case, the same in Lambda and in the local runtime. */
export interface StepModule<O> {
  /** Used by the local runtime and tests, which inject their own dependencies. */
  createHandler: (deps: Deps) => (input: unknown) => Promise<O>;
  /** The Lambda entry. */
  handler: (input: unknown, context?: Context) => Promise<O>;
}

/** Define a step from its input schema and its use case. */
export function defineStep<S extends z.ZodType, O>(
  name: string,
  schema: S,
  run: (deps: Deps, input: z.infer<S>) => Promise<O>,
  options: { providers?: ProvidersFactory } = {},
): StepModule<O> {
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
  return { createHandler, handler: lambdaHandler(createHandler, options.providers) };
}
