import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

/**
 * Turns ASL text into what the local endpoint runs: the definition is validated as written, then
 * a runtime copy is adjusted so aws-local-stepfunctions behaves like Step Functions Standard.
 */

/** A state as read from the ASL (only the fields the local endpoint looks at are typed). */
export interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Error?: string;
  ErrorPath?: string;
  Cause?: string;
  CausePath?: string;
  ResultPath?: string | null;
  Retry?: AslRetrier[];
  Catch?: Array<{ ErrorEquals: string[]; Next: string; ResultPath?: string | null }>;
  Branches?: AslMachine[];
  Iterator?: AslMachine;
  ItemProcessor?: AslMachine;
  [field: string]: unknown;
}

/** One `Retry` entry. */
export interface AslRetrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  MaxAttempts?: number;
  BackoffRate?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: 'FULL' | 'NONE';
}

/** A state machine or a nested one (Parallel branch, Map item processor). */
export interface AslMachine {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

/** A state machine ready to run. */
export interface PreparedDefinition {
  /** The runtime copy: retry pauses scaled, library quirks neutralised; validated as written. */
  runtime: StateMachine;
  /** The adjusted definition `runtime` executes (kept for inspection and tests). */
  runtimeDefinition: AslMachine;
  /** Every state by name, nested ones included (ASL state names are unique machine-wide). */
  states: ReadonlyMap<string, AslState>;
}

/**
 * Step Functions lets a Task run up to a year when TimeoutSeconds is absent; the library would
 * stop it after 60 s. This is the longest delay `setTimeout` accepts (~24.8 days).
 */
const UNBOUNDED_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Step Functions' default `IntervalSeconds`. */
const DEFAULT_RETRY_INTERVAL_SECONDS = 1;

/** Parse, validate and prepare one definition; throws with the state machine's name when invalid. */
export function prepareDefinition(name: string, definitionText: string, retryDelayScale: number): PreparedDefinition {
  let parsed: AslMachine;
  try {
    parsed = JSON.parse(definitionText) as AslMachine;
  } catch (error) {
    throw new Error(`State machine ${name}: definition is not JSON`, { cause: error });
  }
  try {
    // Resources are whatever the substitutions produced (keys of taskHandlers), not always ARNs.
    new StateMachine(parsed as unknown as StateMachineDefinition, { validationOptions: { checkArn: false } });
  } catch (error) {
    throw new Error(`State machine ${name}: ${(error as Error).message}`, { cause: error });
  }

  const states = new Map<string, AslState>();
  const runtimeDefinition = adjustMachine(parsed, retryDelayScale, (stateName, state) => {
    if (states.has(stateName)) {
      throw new Error(`State machine ${name}: state name ${stateName} is used twice`);
    }
    states.set(stateName, state);
  });
  const runtime = new StateMachine(runtimeDefinition as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  return { runtime, runtimeDefinition, states };
}

/** A copy of `machine` with every state (recursively) adjusted; `visit` sees each original state. */
function adjustMachine(
  machine: AslMachine,
  retryDelayScale: number,
  visit: (stateName: string, state: AslState) => void,
): AslMachine {
  const states: Record<string, AslState> = {};
  for (const [stateName, state] of Object.entries(machine.States)) {
    visit(stateName, state);
    states[stateName] = adjustState(state, retryDelayScale, visit);
  }
  return { ...machine, States: states };
}

function adjustState(
  state: AslState,
  retryDelayScale: number,
  visit: (stateName: string, state: AslState) => void,
): AslState {
  const copy: AslState = { ...state };
  // The library reads ResultPath "$" as a field named "$"; absent means the same thing to it.
  if (copy.ResultPath === '$') delete copy.ResultPath;
  if (copy.Catch) {
    copy.Catch = copy.Catch.map((catcher) => {
      if (catcher.ResultPath !== '$') return catcher;
      const { ResultPath: _replaceWholeInput, ...rest } = catcher;
      return rest;
    });
  }
  if (copy.Retry) {
    // Scaling interval and cap keeps the library's own backoff, MaxAttempts and jitter intact.
    copy.Retry = copy.Retry.map((retrier) => ({
      ...retrier,
      IntervalSeconds: (retrier.IntervalSeconds ?? DEFAULT_RETRY_INTERVAL_SECONDS) * retryDelayScale,
      ...(retrier.MaxDelaySeconds === undefined ? {} : { MaxDelaySeconds: retrier.MaxDelaySeconds * retryDelayScale }),
    }));
  }
  if (copy.Type === 'Task' && copy.TimeoutSeconds === undefined && copy.TimeoutSecondsPath === undefined) {
    copy.TimeoutSeconds = UNBOUNDED_TASK_TIMEOUT_SECONDS;
  }
  if (copy.Branches) copy.Branches = copy.Branches.map((branch) => adjustMachine(branch, retryDelayScale, visit));
  if (copy.Iterator) copy.Iterator = adjustMachine(copy.Iterator, retryDelayScale, visit);
  if (copy.ItemProcessor) copy.ItemProcessor = adjustMachine(copy.ItemProcessor, retryDelayScale, visit);
  return copy;
}
