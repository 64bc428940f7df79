import * as z from 'zod';
import type { ExecutionRecord, StepFunctionsEngine } from './engine';
import { historyEventToWire } from './history';
import { SfnServiceError } from './service-error';

/**
 * The Step Functions actions the local endpoint answers, each a zod schema for its request and a
 * function from the parsed request to the response body, shaped as the JSON 1.0 protocol does
 * (timestamps as epoch seconds, so SDKs parse them into dates).
 */

const arn = z.string().min(1).max(2048);
const maxResults = z.number().int().min(0).max(1000).optional();
const nextToken = z.string().min(1).max(1024).optional();

const startExecutionSchema = z.object({
  stateMachineArn: arn,
  name: z.string().optional(),
  input: z.string().optional(),
  traceHeader: z.string().optional(),
});
const executionArnSchema = z.object({ executionArn: arn });
const listExecutionsSchema = z.object({
  stateMachineArn: arn,
  statusFilter: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']).optional(),
  maxResults,
  nextToken,
});
const getExecutionHistorySchema = z.object({
  executionArn: arn,
  maxResults,
  reverseOrder: z.boolean().optional(),
  nextToken,
  includeExecutionData: z.boolean().optional(),
});
const stopExecutionSchema = z.object({
  executionArn: arn,
  error: z.string().max(256).optional(),
  cause: z.string().max(32768).optional(),
});
const listStateMachinesSchema = z.object({ maxResults, nextToken });
const stateMachineArnSchema = z.object({ stateMachineArn: arn });

/** Step Functions' default page size. */
const DEFAULT_PAGE_SIZE = 100;

type Action = (engine: StepFunctionsEngine, body: unknown) => Promise<Record<string, unknown>> | Record<string, unknown>;

/** Parse a request body, answering ValidationException the way Step Functions does. */
function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `'${issue.path.join('.') || 'body'}': ${issue.message}`);
  throw new SfnServiceError('ValidationException', `${problems.length} validation error(s) detected: ${problems.join('; ')}`);
}

const seconds = (epochMs: number | undefined): number | undefined => (epochMs === undefined ? undefined : epochMs / 1000);

/** One page of `items` after the opaque `token`; tokens carry the offset and what they page over. */
function page<T>(items: T[], scope: string, token: string | undefined, size: number | undefined): { items: T[]; nextToken?: string } {
  let offset = 0;
  if (token !== undefined) {
    const decoded = decodeToken(token);
    if (!decoded || decoded.scope !== scope || decoded.offset > items.length) {
      throw new SfnServiceError('InvalidToken', `Invalid Token: '${token}'`);
    }
    offset = decoded.offset;
  }
  const limit = size === undefined || size === 0 ? DEFAULT_PAGE_SIZE : size;
  const end = offset + limit;
  return {
    items: items.slice(offset, end),
    ...(end < items.length ? { nextToken: Buffer.from(JSON.stringify({ scope, offset: end })).toString('base64url') } : {}),
  };
}

function decodeToken(token: string): { scope: string; offset: number } | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { scope?: unknown; offset?: unknown };
    if (typeof value.scope === 'string' && typeof value.offset === 'number' && Number.isInteger(value.offset) && value.offset >= 0) {
      return { scope: value.scope, offset: value.offset };
    }
  } catch {
    // Falls through to InvalidToken.
  }
  return undefined;
}

function describeExecution(record: ExecutionRecord): Record<string, unknown> {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    stopDate: seconds(record.stopDate),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output === undefined ? {} : { output: record.output, outputDetails: { included: true } }),
    error: record.error,
    cause: record.cause,
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

/** Every action the endpoint answers, by the name after `AWSStepFunctions.`. */
export const ACTIONS: Readonly<Record<string, Action>> = {
  StartExecution: (engine, body) => {
    const request = parse(startExecutionSchema, body);
    const record = engine.startExecution(request.stateMachineArn, request.name, request.input);
    return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
  },

  DescribeExecution: (engine, body) => describeExecution(engine.execution(parse(executionArnSchema, body).executionArn)),

  ListExecutions: (engine, body) => {
    const request = parse(listExecutionsSchema, body);
    const all = engine
      .executionsOf(request.stateMachineArn)
      .filter((record) => request.statusFilter === undefined || record.status === request.statusFilter);
    const scope = `executions:${request.stateMachineArn}:${request.statusFilter ?? '*'}`;
    const { items, nextToken: next } = page(all, scope, request.nextToken, request.maxResults);
    return {
      executions: items.map((record) => ({
        executionArn: record.executionArn,
        stateMachineArn: record.stateMachineArn,
        name: record.name,
        status: record.status,
        startDate: seconds(record.startDate),
        stopDate: seconds(record.stopDate),
        redriveCount: 0,
      })),
      nextToken: next,
    };
  },

  GetExecutionHistory: (engine, body) => {
    const request = parse(getExecutionHistorySchema, body);
    const record = engine.execution(request.executionArn);
    const events = request.reverseOrder ? [...record.journal.events].reverse() : [...record.journal.events];
    const scope = `history:${record.executionArn}:${request.reverseOrder ? 'reverse' : 'forward'}`;
    const { items, nextToken: next } = page(events, scope, request.nextToken, request.maxResults);
    return {
      events: items.map((event) => historyEventToWire(event, request.includeExecutionData ?? true)),
      nextToken: next,
    };
  },

  StopExecution: async (engine, body) => {
    const request = parse(stopExecutionSchema, body);
    const record = await engine.stopExecution(request.executionArn, request.error, request.cause);
    return { stopDate: seconds(record.stopDate) };
  },

  ListStateMachines: (engine, body) => {
    const request = parse(listStateMachinesSchema, body);
    const { items, nextToken: next } = page(engine.listStateMachines(), 'stateMachines', request.nextToken, request.maxResults);
    return {
      stateMachines: items.map((machine) => ({
        stateMachineArn: machine.arn,
        name: machine.name,
        type: 'STANDARD',
        creationDate: seconds(machine.creationDate),
      })),
      nextToken: next,
    };
  },

  DescribeStateMachine: (engine, body) => {
    const machine = engine.stateMachine(parse(stateMachineArnSchema, body).stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: machine.definition,
      roleArn: machine.roleArn,
      type: 'STANDARD',
      creationDate: seconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  },

  DescribeStateMachineForExecution: (engine, body) => {
    const record = engine.execution(parse(executionArnSchema, body).executionArn);
    const machine = engine.stateMachine(record.stateMachineArn);
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      definition: machine.definition,
      roleArn: machine.roleArn,
      updateDate: seconds(machine.creationDate),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  },
};
