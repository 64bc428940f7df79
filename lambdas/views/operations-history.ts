import { describeExecution, executionArnOf, isExecutionDoesNotExist } from '../adapters/workflows';
import { causeMessage } from '../shared/execution-progress';
import type { Deps } from '../composition/deps';
import { publicMessage } from '../shared/errors/core';
import { InvalidCursorError } from '../shared/errors/http';
import { InstanceNotFoundError } from '../shared/errors/refusals';
import type { WorkflowName } from '../shared/workflows';
import { readInstance } from './instance-queries';
import * as z from 'zod';
import { OPERATION_NAMES, type Operation, type OperationRecord } from '../domain/instance';

/**
 * Where an execution is. Step Functions' own statuses, plus `PENDING` (the operation was claimed a
 * moment ago and its execution does not exist yet), `LOST` (its execution does not exist and will
 * not: it never started, or the local endpoint that ran it restarted) and `UNKNOWN` (no state
 * machine is configured for the kind).
 */
export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE', 'PENDING', 'LOST', 'UNKNOWN'] as const;

/** How long after its request an execution that does not exist yet still counts as about to start. */
export const PENDING_GRACE_MS = 60_000;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** One operation's execution as operators see it: Step Functions' `cause` as it is (stack and all). */
export const executionViewSchema = z
  .object({
    name: z.string().meta({ description: 'Execution name: <instanceId>-<operation>-v<version>' }),
    kind: z.enum(OPERATION_NAMES),
    executionArn: z.string().nullable(),
    status: z.enum(EXECUTION_STATUSES).meta({ description: 'Step Functions status; PENDING: claimed a moment ago, not started yet; LOST: it does not exist and never will; UNKNOWN: no workflow configured for the kind' }),
    requestedAt: z.string().nullable(),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    error: z.string().nullable(),
    cause: z.string().nullable(),
    consoleUrl: z.string().nullable().meta({ description: 'Step Functions console link (AWS only)' }),
  })
  .meta({ id: 'Execution' });
export type ExecutionView = z.infer<typeof executionViewSchema>;

/** One operation's execution as callers see it: the error's type and message, never a stack trace or a server path. */
export const operationViewSchema = executionViewSchema
  .omit({ cause: true })
  .extend({ message: z.string().nullable().meta({ description: 'The error message (no stack trace, no file paths); null when there is none' }) })
  .meta({ id: 'Operation' });
export type OperationView = z.infer<typeof operationViewSchema>;

/** An execution as callers see it. */
export function toOperationView(execution: ExecutionView): OperationView {
  const { cause, ...rest } = execution;
  return { ...rest, message: cause ? publicMessage(cause) : null };
}

/** An instance's executions, newest first. */
export const operationsPageSchema = z
  .object({
    instanceId: z.string(),
    items: z.array(operationViewSchema).meta({ description: 'Newest first' }),
    nextCursor: z.string().nullable().meta({ description: 'Older operations follow: pass it as ?cursor=; null on the last page' }),
  })
  .meta({ id: 'OperationsPage' });
export type OperationsPage = z.infer<typeof operationsPageSchema>;

/** How many DescribeExecution calls run at once: enough to be quick, few enough not to be throttled. */
const DESCRIBE_CONCURRENCY = 5;

/** The state machine ARN of an operation's workflow, or null when none is configured for it. */
export function stateMachineOf(deps: Deps, kind: Operation): string | null {
  return deps.stateMachines[kind as WorkflowName] || null;
}

/** A console link to the execution, when a console prefix is configured (on AWS). */
function consoleUrlOf(deps: Deps, executionArn: string | null): string | null {
  // Read at call time, not load time, so the prefix can differ between deployments of one bundle.
  return executionArn && deps.consoleUrlPrefix ? `${deps.consoleUrlPrefix}${executionArn}` : null;
}

/**
 * Describe the execution of one operation with DescribeExecution. An execution that does not exist
 * is `PENDING` within a minute of its request (the claim is written before StartExecution), `LOST`
 * after that or once its claim is released (`ended`). Other SDK errors propagate.
 */
export async function describeOperation(deps: Deps, record: { kind: Operation; executionName: string; requestedAt?: string; ended?: boolean }): Promise<ExecutionView> {
  const stateMachineArn = stateMachineOf(deps, record.kind);
  const base = {
    name: record.executionName,
    kind: record.kind,
    requestedAt: record.requestedAt ?? null,
    startedAt: null,
    stoppedAt: null,
    error: null,
    cause: null,
  };
  if (!stateMachineArn) return { ...base, executionArn: null, status: 'UNKNOWN', consoleUrl: null };
  const executionArn = executionArnOf(stateMachineArn, record.executionName);
  try {
    const out = await describeExecution(deps.sfn, executionArn);
    return {
      ...base,
      executionArn,
      status: (out.status ?? 'UNKNOWN') as ExecutionStatus,
      startedAt: out.startDate?.toISOString() ?? null,
      stoppedAt: out.stopDate?.toISOString() ?? null,
      error: out.error ?? null,
      // A Lambda error payload carries a stack trace; callers get its message only (ARCHITECTURE §5).
      cause: causeMessage(out.cause),
      consoleUrl: consoleUrlOf(deps, executionArn),
    };
  } catch (error) {
    if (!isExecutionDoesNotExist(error)) throw error;
    const requested = record.requestedAt ? Date.parse(record.requestedAt) : Number.NaN;
    // A claim already released (`ended`) is never about to start.
    const pending = !record.ended && Number.isFinite(requested) && deps.now().getTime() - requested < PENDING_GRACE_MS;
    return { ...base, executionArn, status: pending ? 'PENDING' : 'LOST', consoleUrl: consoleUrlOf(deps, executionArn) };
  }
}

/** Map over items with at most `limit` calls in flight, keeping the input order. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Describe an operation log, newest first. Only the operation that holds the claim can still be
 * about to start: an older one whose execution does not exist is LOST, whatever its age.
 */
export function describeOperations(deps: Deps, log: readonly OperationRecord[], currentClaim?: string): Promise<ExecutionView[]> {
  // The log is appended to, so newest is last.
  return mapWithConcurrency([...log].reverse(), DESCRIBE_CONCURRENCY, (record) =>
    describeOperation(deps, record.executionName === currentClaim ? record : { kind: record.kind, executionName: record.executionName, requestedAt: record.requestedAt, ended: true }),
  );
}

/** What an operations cursor continues: one instance's log. */
const operationsScope = (instanceId: string) => `operations:${instanceId}`;

/**
 * `GET /v1/instances/{id}/operations`: a page of the executions of an instance the caller owns,
 * newest first — a destroyed one's too (its tombstone keeps the log, and the owner keeps its
 * history). Only the page is described (one DescribeExecution each). The cursor names the last
 * operation answered, so a page boundary holds while newer operations are appended; an operation
 * the log has since dropped (it keeps the latest ones) ends the listing.
 */
export async function listOperations(deps: Deps, instanceId: string, owners: readonly string[], page: { limit: number; cursor?: string } = { limit: 50 }): Promise<OperationsPage> {
  // The cursor is checked first: a forged one is refused the same whether or not the instance exists.
  const after = page.cursor ? (await deps.cursors.open(page.cursor, operationsScope(instanceId))).after : undefined;
  if (page.cursor && typeof after !== 'string') throw new InvalidCursorError();
  const item = await readInstance(deps, instanceId);
  if (!item || !owners.includes(item.owner)) throw new InstanceNotFoundError(instanceId);
  const newestFirst = [...(item.operations ?? [])].reverse();
  const at = after === undefined ? -1 : newestFirst.findIndex((record) => record.executionName === after);
  const from = after === undefined ? 0 : at === -1 ? newestFirst.length : at + 1;
  const records = newestFirst.slice(from, from + page.limit);
  const more = from + page.limit < newestFirst.length;
  const nextCursor = more ? await deps.cursors.seal({ after: records.at(-1)!.executionName }, operationsScope(instanceId)) : null;
  // describeOperations takes the log oldest first.
  return { instanceId, items: (await describeOperations(deps, [...records].reverse(), item.claim)).map(toOperationView), nextCursor };
}
