import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';

/** Result of asking Step Functions to run an execution. */
export interface StartedExecution {
  executionArn: string;
  /** False when an execution of that name already existed (a replay); the work is running or done. */
  started: boolean;
}

/** The ARN an execution of `name` has (or will have) under `stateMachineArn`. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
}

/**
 * Start an execution by its deterministic name. Step Functions treats the same name and input as
 * the same execution while it runs; a closed one answers ExecutionAlreadyExists — either way the
 * operation's execution exists exactly once, so both count as success. Every execution's input
 * carries a correlation id (the request's, or its own name), which every step logs.
 */
export async function startNamedExecution(
  sfn: SFNClient,
  stateMachineArn: string,
  name: string,
  input: Record<string, unknown>,
  correlationId?: string,
): Promise<StartedExecution> {
  try {
    const withCorrelation = { ...input, correlationId: input.correlationId ?? correlationId ?? name };
    const out = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(withCorrelation) }));
    return { executionArn: out.executionArn ?? executionArnOf(stateMachineArn, name), started: true };
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists || (error as { name?: string }).name === 'ExecutionAlreadyExists') {
      return { executionArn: executionArnOf(stateMachineArn, name), started: false };
    }
    throw error;
  }
}
