/**
 * Executions as operators and callers read them: every workflow's recent executions (ListExecutions,
 * merged newest first), one execution with the definition it ran (DescribeExecution +
 * DescribeStateMachineForExecution), its history (GetExecutionHistory, paged), and an operation's
 * progress step by step for its owner (no inputs, outputs or stack traces).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import {
  describeExecution,
  describeStateMachineForExecution,
  executionArnOf,
  executionHistoryPage,
  historyEventView,
  isExecutionDoesNotExist,
  listExecutionsPage,
  type ExecutionListItem,
} from '../adapters/workflows';
import { stateMachineArn, type Deps } from '../composition/deps';
import { InvalidCursorError } from '../shared/errors/http';
import { InstanceNotFoundError } from '../shared/errors/refusals';
import { ExecutionNotFoundError } from '../shared/errors/workflow';
import { causeMessage, parseExecutionName, stepsFromHistory, STEP_STATUSES, type HistoryEventView } from '../shared/execution-progress';
import { WORKFLOW_NAMES, type WorkflowName } from '../shared/workflows';
import { readInstance } from './instance-queries';
import { describeOperations, EXECUTION_STATUSES, executionViewSchema, type ExecutionView } from './operations-history';

/** Statuses Step Functions can filter ListExecutions by. */
export const LISTABLE_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const;

/** One execution in a listing. */
export const executionRowSchema = z
  .object({
    workflow: z.enum(WORKFLOW_NAMES),
    name: z.string(),
    instanceId: z.string().nullable().meta({ description: 'Read off the execution name; null for names slipway did not make' }),
    status: z.enum(EXECUTION_STATUSES),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    executionArn: z.string().nullable(),
    consoleUrl: z.string().nullable().meta({ description: 'Step Functions console link (AWS only)' }),
  })
  .meta({ id: 'ExecutionRow' });
export type ExecutionRow = z.infer<typeof executionRowSchema>;

/** A page of executions, newest first. */
export const executionsPageSchema = z.object({ items: z.array(executionRowSchema), nextCursor: z.string().nullable() }).meta({ id: 'ExecutionsPage' });
export type ExecutionsPage = z.infer<typeof executionsPageSchema>;

/** What a listing may be narrowed to. */
export interface ExecutionsQuery {
  workflow?: WorkflowName;
  status?: (typeof LISTABLE_STATUSES)[number];
  instanceId?: string;
  limit: number;
  cursor?: string;
}

/** One execution with the definition it ran. */
export const executionDetailSchema = z
  .object({
    workflow: z.enum(WORKFLOW_NAMES),
    name: z.string(),
    instanceId: z.string().nullable(),
    executionArn: z.string(),
    status: z.enum(EXECUTION_STATUSES),
    startedAt: z.string().nullable(),
    stoppedAt: z.string().nullable(),
    input: z.string().nullable(),
    output: z.string().nullable(),
    error: z.string().nullable(),
    cause: z.string().nullable().meta({ description: 'As Step Functions recorded it (a Lambda error payload includes its trace)' }),
    consoleUrl: z.string().nullable(),
    definition: z.string().meta({ description: 'The ASL the execution ran (DescribeStateMachineForExecution), as JSON text' }),
  })
  .meta({ id: 'ExecutionDetail' });
export type ExecutionDetail = z.infer<typeof executionDetailSchema>;

/** One history event. */
export const historyEventSchema = z
  .object({
    id: z.number().int(),
    previousEventId: z.number().int(),
    timestamp: z.string(),
    type: z.string(),
    details: z.record(z.string(), z.unknown()).nullable().meta({ description: "The event's <x>EventDetails, as Step Functions gives them" }),
  })
  .meta({ id: 'HistoryEvent' });

/** A page of an execution's history. */
export const historyPageSchema = z.object({ events: z.array(historyEventSchema), nextCursor: z.string().nullable() }).meta({ id: 'HistoryPage' });
export type HistoryPage = z.infer<typeof historyPageSchema>;

/** One step of an operation as its owner sees it: no input, output or stack trace. */
export const operationStepSchema = z
  .object({
    name: z.string(),
    type: z.string(),
    status: z.enum(STEP_STATUSES),
    attempts: z.number().int(),
    enteredAt: z.string(),
    exitedAt: z.string().nullable(),
    error: z.string().nullable(),
    message: z.string().nullable().meta({ description: 'The last failure, in words (never a stack)' }),
  })
  .meta({ id: 'OperationStep' });

/** An operation's execution and its steps so far. */
export const operationProgressSchema = z
  .object({ instanceId: z.string(), execution: executionViewSchema, steps: z.array(operationStepSchema).meta({ description: 'In the order they were entered' }) })
  .meta({ id: 'OperationProgress' });
export type OperationProgress = z.infer<typeof operationProgressSchema>;

/** Most history events read for one progress answer (a slipway execution has a few dozen). */
const PROGRESS_EVENT_LIMIT = 2000;

/** The listing the operator's execution cursors continue (sealed like every cursor: `adapters/cursors.ts`). */
const CURSOR_SCOPE = 'admin:executions';
const encode = (deps: Deps, value: object): Promise<string> => deps.cursors.seal(value as Record<string, unknown>, CURSOR_SCOPE);
async function decode<T>(deps: Deps, cursor: string, valid: (value: unknown) => value is T): Promise<T> {
  const value = await deps.cursors.open(cursor, CURSOR_SCOPE);
  if (valid(value)) return value;
  throw new InvalidCursorError();
}

const iso = (date: Date | undefined): string | null => date?.toISOString() ?? null;
const consoleUrl = (deps: Deps, arn: string | null): string | null => (arn && deps.consoleUrlPrefix ? `${deps.consoleUrlPrefix}${arn}` : null);

/** The workflows with a configured state machine, and each one's ARN. */
function configuredWorkflows(deps: Deps, only?: WorkflowName): Array<{ workflow: WorkflowName; arn: string }> {
  return WORKFLOW_NAMES.filter((workflow) => (only ? workflow === only : true) && deps.stateMachines[workflow]).map((workflow) => ({ workflow, arn: deps.stateMachines[workflow] }));
}

function rowOf(deps: Deps, workflow: WorkflowName, item: ExecutionListItem): ExecutionRow {
  const name = item.name ?? '';
  return {
    workflow,
    name,
    instanceId: parseExecutionName(name)?.instanceId ?? null,
    status: (item.status ?? 'UNKNOWN') as ExecutionRow['status'],
    startedAt: iso(item.startDate),
    stoppedAt: iso(item.stopDate),
    executionArn: item.executionArn ?? null,
    consoleUrl: consoleUrl(deps, item.executionArn ?? null),
  };
}

/** Where one workflow's stream of executions stands: the page to read again and the last execution taken from it. */
interface StreamPosition {
  /** ListExecutions token of the page holding the next execution; absent for the first page. */
  t?: string;
  /** Name and start (epoch ms) of the last execution taken from that page. */
  a?: [string, number];
  /** Nothing left. */
  d?: true;
}
interface MergedCursor {
  k: 'merged';
  q: [string | null, string | null];
  s: Record<string, StreamPosition>;
}
interface InstanceCursor {
  k: 'instance';
  q: [string, string | null, string | null];
  o: number;
}
const isMergedCursor = (v: unknown): v is MergedCursor => typeof v === 'object' && v !== null && (v as MergedCursor).k === 'merged' && typeof (v as MergedCursor).s === 'object';
const isInstanceCursor = (v: unknown): v is InstanceCursor => typeof v === 'object' && v !== null && (v as InstanceCursor).k === 'instance' && Number.isInteger((v as InstanceCursor).o);

/** Newest first; a shared start breaks ties by name, so every listing orders the same way. */
const newestFirst = (a: ExecutionListItem, b: ExecutionListItem) =>
  (b.startDate?.getTime() ?? 0) - (a.startDate?.getTime() ?? 0) || (a.name ?? '').localeCompare(b.name ?? '');

/** Items of a page that come after the last one taken (by position in the newest-first order). */
function after(page: ExecutionListItem[], last: [string, number] | undefined): ExecutionListItem[] {
  if (!last) return page;
  const [name, start] = last;
  return page.filter((item) => {
    const at = item.startDate?.getTime() ?? 0;
    return at < start || (at === start && (item.name ?? '').localeCompare(name) > 0);
  });
}

/**
 * Every workflow's executions merged newest first. Each workflow is one ListExecutions stream; the
 * cursor remembers, per stream, the page to read again and the last execution taken from it, so
 * a page is exact (never an execution twice or out of order) at the cost of at most two
 * ListExecutions calls per workflow.
 */
async function listMerged(deps: Deps, query: ExecutionsQuery): Promise<ExecutionsPage> {
  const filters: MergedCursor['q'] = [query.workflow ?? null, query.status ?? null];
  const cursor = query.cursor ? await decode(deps, query.cursor, isMergedCursor) : undefined;
  if (cursor && (cursor.q[0] !== filters[0] || cursor.q[1] !== filters[1])) throw new InvalidCursorError();
  const streams = await Promise.all(
    configuredWorkflows(deps, query.workflow).map(async ({ workflow, arn }) => {
      const position = cursor?.s[workflow] ?? {};
      const items: Array<{ item: ExecutionListItem; token?: string }> = [];
      let token = position.t;
      let last = position.a;
      let exhausted = position.d === true;
      while (!exhausted && items.length < query.limit) {
        const out = await listExecutionsPage(deps.sfn, { stateMachineArn: arn, statusFilter: query.status, maxResults: query.limit, nextToken: token });
        for (const item of after(out.executions ?? [], last)) items.push({ item, token });
        last = undefined;
        if (!out.nextToken) exhausted = true;
        else token = out.nextToken;
      }
      return { workflow, position, items, exhausted };
    }),
  );
  const all = streams.flatMap((stream) => stream.items.map((entry) => ({ ...entry, stream })));
  all.sort((x, y) => newestFirst(x.item, y.item));
  const taken = all.slice(0, query.limit);
  const next: Record<string, StreamPosition> = {};
  let more = false;
  for (const stream of streams) {
    const mine = taken.filter((entry) => entry.stream === stream);
    const lastTaken = mine[mine.length - 1];
    const remaining = stream.items.length > mine.length || !stream.exhausted;
    if (!remaining) next[stream.workflow] = { d: true };
    else if (lastTaken) next[stream.workflow] = { ...(lastTaken.token ? { t: lastTaken.token } : {}), a: [lastTaken.item.name ?? '', lastTaken.item.startDate?.getTime() ?? 0] };
    else next[stream.workflow] = stream.position;
    more ||= remaining;
  }
  return {
    items: taken.map(({ item, stream }) => rowOf(deps, stream.workflow, item)),
    nextCursor: more ? await encode(deps, { k: 'merged', q: filters, s: next } satisfies MergedCursor) : null,
  };
}

/** One instance's executions from its operations log (tombstones too), filtered, newest first. */
async function listForInstance(deps: Deps, instanceId: string, query: ExecutionsQuery): Promise<ExecutionsPage> {
  const filters: InstanceCursor['q'] = [instanceId, query.workflow ?? null, query.status ?? null];
  const cursor = query.cursor ? await decode(deps, query.cursor, isInstanceCursor) : undefined;
  if (cursor && cursor.q.join('\n') !== filters.join('\n')) throw new InvalidCursorError();
  const item = await readInstance(deps, instanceId);
  if (!item) throw new InstanceNotFoundError(instanceId);
  const log = (item.operations ?? []).filter((record) => !query.workflow || record.kind === query.workflow);
  const views = await describeOperations(deps, log);
  const matching = views.filter((view) => !query.status || view.status === query.status);
  const offset = cursor?.o ?? 0;
  const page = matching.slice(offset, offset + query.limit);
  return {
    items: page.map((view) => rowFromView(view, instanceId)),
    nextCursor: offset + query.limit < matching.length ? await encode(deps, { k: 'instance', q: filters, o: offset + query.limit } satisfies InstanceCursor) : null,
  };
}

function rowFromView(view: ExecutionView, instanceId: string): ExecutionRow {
  return {
    workflow: view.kind as WorkflowName,
    name: view.name,
    instanceId,
    status: view.status,
    startedAt: view.startedAt ?? view.requestedAt,
    stoppedAt: view.stoppedAt,
    executionArn: view.executionArn,
    consoleUrl: view.consoleUrl,
  };
}

/** `GET /v1/admin/executions`: recent executions of every workflow (or one), newest first, optionally of one instance or status. */
export function listExecutions(deps: Deps, query: ExecutionsQuery): Promise<ExecutionsPage> {
  return query.instanceId ? listForInstance(deps, query.instanceId, query) : listMerged(deps, query);
}

/** `GET /v1/admin/executions/{workflow}/{name}`: the execution and the definition it ran. */
export async function executionDetail(deps: Deps, workflow: WorkflowName, name: string): Promise<ExecutionDetail> {
  const executionArn = executionArnOf(stateMachineArn(deps, workflow), name);
  try {
    const [execution, machine] = await Promise.all([
      describeExecution(deps.sfn, executionArn),
      describeStateMachineForExecution(deps.sfn, executionArn),
    ]);
    return {
      workflow,
      name,
      instanceId: parseExecutionName(name)?.instanceId ?? null,
      executionArn,
      status: (execution.status ?? 'UNKNOWN') as ExecutionDetail['status'],
      startedAt: iso(execution.startDate),
      stoppedAt: iso(execution.stopDate),
      input: execution.input ?? null,
      output: execution.output ?? null,
      error: execution.error ?? null,
      cause: execution.cause ?? null,
      consoleUrl: consoleUrl(deps, executionArn),
      definition: machine.definition ?? '{}',
    };
  } catch (error) {
    if (isExecutionDoesNotExist(error)) throw new ExecutionNotFoundError(name, { cause: error });
    throw error;
  }
}

interface HistoryCursor {
  n: string;
  r: boolean;
  t: string;
}
const isHistoryCursor = (v: unknown): v is HistoryCursor => typeof v === 'object' && v !== null && typeof (v as HistoryCursor).t === 'string' && typeof (v as HistoryCursor).n === 'string';

/** `GET /v1/admin/executions/{workflow}/{name}/history`: one page of the history, oldest first unless reversed. */
export async function executionHistory(deps: Deps, workflow: WorkflowName, name: string, page: { limit: number; cursor?: string; reverse: boolean }): Promise<HistoryPage> {
  const executionArn = executionArnOf(stateMachineArn(deps, workflow), name);
  const cursor = page.cursor ? await decode(deps, page.cursor, isHistoryCursor) : undefined;
  if (cursor && (cursor.n !== name || cursor.r !== page.reverse)) throw new InvalidCursorError();
  try {
    const out = await executionHistoryPage(deps.sfn, { executionArn, maxResults: page.limit, reverseOrder: page.reverse, nextToken: cursor?.t, includeExecutionData: true });
    return {
      events: (out.events ?? []).map(historyEventView),
      nextCursor: out.nextToken ? await encode(deps, { n: name, r: page.reverse, t: out.nextToken } satisfies HistoryCursor) : null,
    };
  } catch (error) {
    if (isExecutionDoesNotExist(error)) throw new ExecutionNotFoundError(name, { cause: error });
    throw error;
  }
}

/** Every history event of an execution, oldest first (bounded). */
async function wholeHistory(deps: Deps, executionArn: string): Promise<HistoryEventView[]> {
  const events: HistoryEventView[] = [];
  let nextToken: string | undefined;
  do {
    const out = await executionHistoryPage(deps.sfn, { executionArn, maxResults: 1000, nextToken, includeExecutionData: false });
    events.push(...(out.events ?? []).map(historyEventView));
    nextToken = out.nextToken;
  } while (nextToken && events.length < PROGRESS_EVENT_LIMIT);
  return events;
}

/**
 * `GET /v1/instances/{id}/operations/{name}`: one of the caller's operations, step by step, for
 * following it (`slipway … --wait`). Its own instances only, tombstones included so a destroy can be
 * followed to its end; any other instance, or a name not in its operations log, is not found.
 */
export async function operationProgress(deps: Deps, instanceId: string, name: string, owners: readonly string[]): Promise<OperationProgress> {
  const item = await readInstance(deps, instanceId);
  if (!item || !owners.includes(item.owner)) throw new InstanceNotFoundError(instanceId);
  const record = (item.operations ?? []).find((operation) => operation.executionName === name);
  if (!record) throw new ExecutionNotFoundError(name);
  // The instance's current claim is described as such: just claimed and not started yet is PENDING, not LOST.
  const [execution] = await describeOperations(deps, [record], item.claim);
  const steps =
    execution!.executionArn && execution!.status !== 'PENDING' && execution!.status !== 'LOST' && execution!.status !== 'UNKNOWN'
      ? stepsFromHistory(await wholeHistory(deps, execution!.executionArn)).map((step) => ({
          name: step.name,
          type: step.type,
          status: step.status,
          attempts: step.attempts,
          enteredAt: step.enteredAt,
          exitedAt: step.exitedAt,
          error: step.error,
          message: causeMessage(step.cause),
        }))
      : [];
  return { instanceId, execution: execution!, steps };
}

/** The longest a request may hold for an operation to end: under API Gateway's 29 s integration timeout, with room for the answer. */
export const MAX_WAIT_SECONDS = 25;
/** Statuses after which an operation changes no more (UNKNOWN: no workflow runs its kind here). */
const FINAL_STATUSES: readonly string[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'LOST', 'UNKNOWN'];
/** How often a wait looks: soon at first (most operations end in seconds), then every 2 s at most. */
const WAIT_FIRST_LOOK_MS = 250;
const WAIT_LONGEST_GAP_MS = 2000;

/**
 * `GET …/operations/{name}?wait=N`: hold until the operation ends or N seconds pass, then answer
 * its progress either way (the caller reads `execution.status`). It looks at the execution with
 * DescribeExecution only (never the table, never the history) at growing gaps — 0.25, 0.375, …
 * up to 2 s — about 17 calls over a whole 25 s wait, so a waiting client costs Step Functions at
 * most one call every 2 s. A caller that goes away (`signal`) ends the wait.
 */
export async function waitForOperation(deps: Deps, instanceId: string, name: string, owners: readonly string[], waitSeconds: number, signal?: AbortSignal): Promise<OperationProgress> {
  const item = await readInstance(deps, instanceId);
  if (!item || !owners.includes(item.owner)) throw new InstanceNotFoundError(instanceId);
  const record = (item.operations ?? []).find((operation) => operation.executionName === name);
  if (!record) throw new ExecutionNotFoundError(name);
  const deadline = Date.now() + Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000;
  for (let gap = WAIT_FIRST_LOOK_MS; ; gap = Math.min(gap * 1.5, WAIT_LONGEST_GAP_MS)) {
    // As the claim it may still be: not started yet reads PENDING (keep waiting), not LOST.
    const [execution] = await describeOperations(deps, [record], item.claim);
    const left = deadline - Date.now();
    if (FINAL_STATUSES.includes(execution!.status) || left <= 0 || signal?.aborted) break;
    try {
      await sleep(Math.min(gap, left), undefined, { signal });
    } catch {
      break; // the caller went away
    }
  }
  return operationProgress(deps, instanceId, name, owners);
}
