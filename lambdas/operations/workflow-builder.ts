/**
 * A small builder for Amazon States Language, so every workflow is written once: a Task state's
 * timeout, retriers and parameters come from its step's `StepSpec` (timeout, the transient errors
 * its handler declares, the input schema), never from copied JSON. Plain TypeScript (no
 * aws-cdk-lib), so the local runtime and the `build:asl` script stay light.
 */
import type * as z from 'zod';
import { TRANSIENT_ERRORS, type RetryPolicy } from '../shared/errors/core';
import type { StepSpec } from './define-step';

/** One ASL state, as JSON. */
export type AslState = Record<string, unknown>;

/** A named state, in the order the file lists them (a Task also names the step it runs). */
export type NamedState = readonly [name: string, state: AslState, step?: StepSpec];

/** A whole state machine definition. */
export interface StateMachineDefinition {
  Comment: string;
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, AslState>;
}

/**
 * Seconds a Task waits beyond its function's own timeout. Lambda's init phase (a cold start, up to
 * 10 s) does not count against the function timeout, and the invoke itself takes time: with equal
 * timeouts a slow cold start trips `States.Timeout` while the handler still runs, and the Catch
 * would compensate underneath a live step.
 */
export const TASK_TIMEOUT_MARGIN_SECONDS = 15;

/** Lambda service errors AWS recommends retrying on every Lambda Task. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/** How Lambda service errors are retried. */
export const LAMBDA_SERVICE_RETRY: RetryPolicy = { intervalSeconds: 1, maxAttempts: 3, backoffRate: 2, maxDelaySeconds: 8 };

/**
 * Every fenced step receives who, which instance, its claim (the execution's own name) and the
 * correlation id every execution's input carries (so every step's log lines join the request's),
 * and when the execution started (final steps report the operation's duration).
 */
const FENCE_PARAMETERS = {
  'instanceId.$': '$.instanceId',
  'owner.$': '$.owner',
  'claim.$': '$$.Execution.Name',
  'correlationId.$': '$$.Execution.Input.correlationId',
  'executionStartedAt.$': '$$.Execution.StartTime',
} as const;

/** The input fields every Task gets from FENCE_PARAMETERS, never written per Task. */
type FenceField = 'instanceId' | 'owner' | 'claim' | 'correlationId' | 'executionStartedAt';

/** A path into the state (`$.volume.volumeId`) or the context object (`$$.Execution.Input.trigger`). */
export type JsonPath = `$${string}`;

/**
 * What a Task may pass for an input field of type T: a JsonPath, or a literal of T — except a free
 * string, which only a path can give (so `'.region'` for `'$.region'` does not compile); objects
 * field by field (`seedFrom: { provider: '$.from.provider', … }`).
 */
export type ParameterValue<T> = JsonPath | LiteralOf<T>;
type LiteralOf<T> = T extends string ? (string extends T ? never : T) : T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]: ParameterValue<T[K]> } : T;

type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type OptionalKeys<T> = Exclude<keyof T, RequiredKeys<T>>;

/**
 * A Task's parameters, typed by its step's input schema: every field beyond the fence ones, the
 * required ones required. A missing or misspelt field is a compile error, not a step that refuses
 * its input at run time. (Distributes over a union schema: any one of its members.)
 */
export type StepParameters<I> = I extends unknown
  ? { [K in Exclude<RequiredKeys<I>, FenceField>]-?: ParameterValue<I[K]> } & { [K in Exclude<OptionalKeys<I>, FenceField>]?: ParameterValue<Exclude<I[K], undefined>> }
  : never;

/** Where a Task goes when it fails for good. */
export interface CatchTarget {
  next: string;
  /** Where the failure (`{Error, Cause}`) is kept for the target. */
  resultPath: string;
}

/** A Task state invoking one step's function (its name is the state's, unless `as` says otherwise). */
export type TaskSpec<S extends z.ZodType> = {
  /**
   * Where one workflow runs a function twice, the second state's name: the function's name and
   * what is different (`WaitMachineStartedOnOldProvider`). State names must be unique.
   */
  as?: string;
  comment?: string;
  resultPath: string;
  /** The next state; the Task ends the execution when absent. */
  next?: string;
  catch: CatchTarget;
} & (object extends StepParameters<z.input<S>> ? { parameters?: StepParameters<z.input<S>> } : { parameters: StepParameters<z.input<S>> });

/** The ASL substitution variable that carries a step function's ARN. */
export function arnVariable(functionId: string): string {
  return `${functionId}FunctionArn`;
}

/** ASL parameters from typed ones: a JsonPath value becomes a `field.$` entry, objects field by field. */
function renderParameters(parameters: Record<string, unknown>): Record<string, unknown> {
  const rendered: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(parameters)) {
    if (typeof value === 'string' && value.startsWith('$')) rendered[`${field}.$`] = value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) rendered[field] = renderParameters(value as Record<string, unknown>);
    else rendered[field] = value;
  }
  return rendered;
}

function retrier(errors: readonly string[], policy: RetryPolicy): AslState {
  return {
    ErrorEquals: [...errors],
    IntervalSeconds: policy.intervalSeconds,
    MaxAttempts: policy.maxAttempts,
    BackoffRate: policy.backoffRate,
    MaxDelaySeconds: policy.maxDelaySeconds,
    JitterStrategy: 'FULL',
  };
}

/** A Task state: timeout, retriers and fence parameters derived from the step's spec. */
export function task<S extends z.ZodType>(step: StepSpec<S, unknown>, spec: TaskSpec<S>): NamedState {
  const parameters = (spec.parameters ?? {}) as Record<string, unknown>;
  const state: AslState = {
    Type: 'Task',
    ...(spec.comment ? { Comment: spec.comment } : {}),
    Resource: `\${${arnVariable(step.name)}}`,
    Parameters: { ...FENCE_PARAMETERS, ...renderParameters(parameters) },
    ResultPath: spec.resultPath,
    TimeoutSeconds: step.timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS,
    Retry: [
      retrier(LAMBDA_SERVICE_ERRORS, LAMBDA_SERVICE_RETRY),
      ...step.transientErrors.map((name) => retrier([name], TRANSIENT_ERRORS[name])),
    ],
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: spec.catch.resultPath, Next: spec.catch.next }],
    ...(spec.next ? { Next: spec.next } : { End: true }),
  };
  if (spec.as !== undefined && !spec.as.startsWith(step.name)) throw new Error(`State ${spec.as} must start with the name of its function ${step.name}`);
  return [spec.as ?? step.name, state, step as StepSpec];
}

/** A Choice state: the first rule whose variable equals its value picks the next state, else `otherwise`. */
export function choice(name: string, comment: string, rules: ReadonlyArray<{ variable: string; equals: string | boolean; next: string }>, otherwise: string): NamedState {
  return [
    name,
    {
      Type: 'Choice',
      Comment: comment,
      Choices: rules.map((rule) => ({ Variable: rule.variable, [typeof rule.equals === 'boolean' ? 'BooleanEquals' : 'StringEquals']: rule.equals, Next: rule.next })),
      Default: otherwise,
    },
  ];
}

/** A Pass state that puts a fixed result at `resultPath`. */
export function pass(name: string, comment: string, result: unknown, resultPath: string, next: string): NamedState {
  return [name, { Type: 'Pass', Comment: comment, Result: result, ResultPath: resultPath, Next: next }];
}

/** A Fail state that passes on the error caught at `failurePath` (`{Error, Cause}`). */
export function failWith(name: string, comment: string, failurePath: string): NamedState {
  return [name, { Type: 'Fail', Comment: comment, ErrorPath: `${failurePath}.Error`, CausePath: `${failurePath}.Cause` }];
}

/** A Fail state with its own error name and the cause caught at `failurePath`. */
export function failAs(name: string, error: string, comment: string, failurePath: string): NamedState {
  return [name, { Type: 'Fail', Error: error, Comment: comment, CausePath: `${failurePath}.Cause` }];
}

/** Seconds the longest run of one Task can take: every attempt times out, every retry waits its longest. */
export function worstCaseSeconds(state: AslState): number {
  if (state.Type !== 'Task') return 0;
  const timeout = state.TimeoutSeconds as number;
  const retriers = (state.Retry ?? []) as Array<{ IntervalSeconds: number; MaxAttempts: number; BackoffRate: number; MaxDelaySeconds: number }>;
  let total = timeout;
  for (const r of retriers) {
    for (let attempt = 0; attempt < r.MaxAttempts; attempt++) {
      total += timeout + Math.min(r.IntervalSeconds * r.BackoffRate ** attempt, r.MaxDelaySeconds);
    }
  }
  return total;
}

/**
 * A state machine from its states, the first one starting it. Its own `TimeoutSeconds` is the
 * worst case of every Task in it, rounded up to a minute: no legitimate run can exceed it, so an
 * execution that does is stuck, times out, raises the timed-out alarm and is settled by the sweep.
 */
export function stateMachine(comment: string, states: readonly NamedState[]): StateMachineDefinition {
  const first = states[0];
  if (!first) throw new Error('A state machine needs at least one state');
  const byName: Record<string, AslState> = {};
  const steps: StepSpec[] = [];
  for (const [name, state, step] of states) {
    if (Object.hasOwn(byName, name)) throw new Error(`State ${name} is defined twice`);
    byName[name] = state;
    if (step && !steps.includes(step)) steps.push(step);
  }
  const worstCase = Object.values(byName).reduce((sum, state) => sum + worstCaseSeconds(state), 0);
  const definition: StateMachineDefinition = { Comment: comment, StartAt: first[0], TimeoutSeconds: Math.ceil(worstCase / 60) * 60, States: byName };
  STEPS.set(definition, steps);
  return definition;
}

/** The steps each built definition's Task states run (kept beside the definition, out of its JSON). */
const STEPS = new WeakMap<StateMachineDefinition, readonly StepSpec[]>();

/** The steps a definition's Task states run, in the order they first appear. */
export function stepsOf(definition: StateMachineDefinition): readonly StepSpec[] {
  const steps = STEPS.get(definition);
  if (!steps) throw new Error('Not a definition stateMachine() built');
  return steps;
}
