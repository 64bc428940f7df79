import * as z from 'zod';
import { causeMessage } from '../shared/execution-progress';

/** Fields every fenced step receives: who, which instance, and the claim (the execution name). */
export const fencedStepInput = z.object({
  instanceId: z.string().min(1),
  owner: z.string().min(1),
  claim: z.string().min(1),
  /** The request that started the execution (every execution input carries one). */
  correlationId: z.string().min(1).max(200).optional(),
  /** When the execution started (ISO 8601), for the operation's duration metric. */
  executionStartedAt: z.string().optional(),
});

/** Fields of every fenced step that calls the instance's compute provider. */
export const providerStepInput = fencedStepInput.extend({ provider: z.string().min(1) });

/** A failure as Step Functions hands it to a Catch target. */
export const stepFailureSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
export type StepFailure = z.infer<typeof stepFailureSchema>;

/** A readable message from a Catch result: the Lambda error message inside Cause (or Cause itself), else the error name. */
export function failureMessage(failure: StepFailure): string {
  return causeMessage(failure.Cause) || failure.Error;
}

/** The error to record for a caught failure: its readable message and its stable name. */
export function failureRecord(failure: StepFailure): { message: string; code: string } {
  return { message: failureMessage(failure), code: failure.Error };
}

/** Who a fenced step acts for and under which claim: the input of every step, inferred from its schema. */
export type FencedStepInput = z.infer<typeof fencedStepInput>;

/** A fenced step that calls the instance's compute provider. */
export type ProviderStepInput = z.infer<typeof providerStepInput>;
