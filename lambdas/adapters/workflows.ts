import {
  DescribeExecutionCommand,
  DescribeStateMachineForExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type DescribeStateMachineForExecutionCommandOutput,
  type ExecutionListItem,
  type GetExecutionHistoryCommandInput,
  type GetExecutionHistoryCommandOutput,
  type HistoryEvent,
  type ListExecutionsCommandInput,
  type ListExecutionsCommandOutput,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { HistoryEventView } from '../shared/execution-progress';

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

/**
 * Stop an execution (StopExecution). Its documented errors are ExecutionDoesNotExist, InvalidArn
 * and ValidationException (AWS API reference, StopExecution): none for an execution that has
 * already closed, which stays as it ended (the local endpoint does the same), so a repeated stop is
 * harmless. One that does not exist (never started, or the local endpoint restarted) answers false. A Task's Lambda invocation in flight is
 * not interrupted: its result is ignored, and the steps' fences refuse what it would still write.
 */
export async function stopExecution(sfn: SFNClient, executionArn: string, reason: { error: string; cause: string }): Promise<boolean> {
  try {
    await sfn.send(new StopExecutionCommand({ executionArn, error: reason.error, cause: reason.cause }));
    return true;
  } catch (error) {
    if (isExecutionDoesNotExist(error)) return false;
    throw error;
  }
}

/** A Step Functions history event as the API hands it on: its type, its one `<x>EventDetails` object, times in ISO 8601. */
export function historyEventView(event: HistoryEvent): HistoryEventView {
  const fields = event as unknown as Record<string, unknown>;
  const detailsKey = Object.keys(fields).find((key) => key.endsWith('EventDetails') && typeof fields[key] === 'object' && fields[key] !== null);
  return {
    id: event.id ?? 0,
    previousEventId: event.previousEventId ?? 0,
    timestamp: (event.timestamp ?? new Date(0)).toISOString(),
    type: event.type ?? 'Unknown',
    details: detailsKey ? (fields[detailsKey] as Record<string, unknown>) : null,
  };
}

/** True for Step Functions' "no such execution" answer. */
export function isExecutionDoesNotExist(error: unknown): boolean {
  return error instanceof ExecutionDoesNotExist || (error as { name?: string } | null)?.name === 'ExecutionDoesNotExist';
}

/** One listed execution, as ListExecutions answers it. */
export type { ExecutionListItem };

/** One page of a state machine's executions (ListExecutions). */
export function listExecutionsPage(sfn: SFNClient, input: ListExecutionsCommandInput): Promise<ListExecutionsCommandOutput> {
  return sfn.send(new ListExecutionsCommand(input));
}

/** One execution as Step Functions describes it (DescribeExecution); ExecutionDoesNotExist when there is none. */
export function describeExecution(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionCommandOutput> {
  return sfn.send(new DescribeExecutionCommand({ executionArn }));
}

/** The definition an execution ran (DescribeStateMachineForExecution). */
export function describeStateMachineForExecution(sfn: SFNClient, executionArn: string): Promise<DescribeStateMachineForExecutionCommandOutput> {
  return sfn.send(new DescribeStateMachineForExecutionCommand({ executionArn }));
}

/** One page of an execution's history (GetExecutionHistory). */
export function executionHistoryPage(sfn: SFNClient, input: GetExecutionHistoryCommandInput): Promise<GetExecutionHistoryCommandOutput> {
  return sfn.send(new GetExecutionHistoryCommand(input));
}

/** The workflow client with its DescribeExecution calls counted (what settling claims on evidence costs). */
export function countingDescribes(sfn: SFNClient): { sfn: SFNClient; calls: () => number } {
  let calls = 0;
  const counted = new Proxy(sfn, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver) as unknown;
      return (command: unknown, ...rest: unknown[]) => {
        if (command instanceof DescribeExecutionCommand) calls += 1;
        return (target.send as (...args: unknown[]) => unknown).call(target, command, ...rest);
      };
    },
  });
  return { sfn: counted, calls: () => calls };
}
