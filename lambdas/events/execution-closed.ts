import * as z from 'zod';
import { executionClosedSchema, settleAfterExecution } from '../sweeps/reconcile/execution-closed';
import { providersFromConfig } from '../providers/configured';
import { lambdaHandler, type Deps } from '../composition/deps';
import { InvalidStepInputError } from '../shared/errors/workflow';

/** The EventBridge event "Step Functions Execution Status Change" (its detail is the execution). */
const eventSchema = z.object({ detail: executionClosedSchema });

/** Settle what a failed, timed-out or aborted execution left behind (locally: the same handler, fed by the local endpoint). */
export const createHandler = (deps: Deps) => async (event: unknown) => {
  const parsed = eventSchema.safeParse(event);
  if (!parsed.success) throw new InvalidStepInputError(`ExecutionClosed: ${parsed.error.message}`);
  return settleAfterExecution(deps, parsed.data.detail);
};

/** The Lambda entry (EventBridge rule on Step Functions execution status changes). */
export const handler = lambdaHandler(createHandler, providersFromConfig);
