/**
 * Lints every `statemachines/*.asl.json` against the rules of ARCHITECTURE.md §3: every Task has a
 * timeout, the AWS-recommended Lambda service retrier and a Catch; retries only transient errors;
 * error names are stable constants; the graph is closed and reachable; Tasks invoke only catalog
 * functions that declare the workflow.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { STATEMACHINES_DIR } from '../../infra/asl';
import { FUNCTION_CATALOG, WORKFLOWS, arnVariable, type WorkflowName } from '../../infra/function-catalog';
import * as errors from '../../lambdas/shared/errors';

const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
/** Lambda errors Step Functions may report besides the service errors above. */
const OTHER_LAMBDA_ERRORS = ['Lambda.Unknown'];
/** The predefined error names of the States language (a typo such as `States.Al` matches nothing). */
const STATES_ERRORS = [
  'States.ALL',
  'States.DataLimitExceeded',
  'States.ExceedToleratedFailureThreshold',
  'States.HeartbeatTimeout',
  'States.Http.Socket',
  'States.IntrinsicFailure',
  'States.ItemReaderFailed',
  'States.NoChoiceMatched',
  'States.ParameterPathFailure',
  'States.Permissions',
  'States.QueryEvaluationError',
  'States.ResultPathMatchFailure',
  'States.ResultWriterFailed',
  'States.Runtime',
  'States.TaskFailed',
  'States.Timeout',
  'States.BranchFailed',
];

type Json = Record<string, unknown>;
interface Retrier {
  ErrorEquals: string[];
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface Catcher {
  ErrorEquals: string[];
  Next: string;
}
interface State extends Json {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Array<{ Next?: string }>;
  Resource?: string;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: Catcher[];
  Branches?: Machine[];
  ItemProcessor?: Machine;
  Iterator?: Machine;
  Error?: string;
  ErrorPath?: string;
}
interface Machine {
  StartAt: string;
  States: Record<string, State>;
}
/** One state with where it sits: `Outer/branch[0]/Inner` for nested states. */
interface Located {
  where: string;
  name: string;
  state: State;
}

/** The machine and every nested Parallel branch or Map processor, each with its own scope. */
function scopesOf(machine: Machine, where = ''): Array<{ where: string; machine: Machine }> {
  const found = [{ where, machine }];
  for (const [name, state] of Object.entries(machine.States)) {
    const inner = `${where}${name}/`;
    (state.Branches ?? []).forEach((branch, i) => found.push(...scopesOf(branch, `${inner}branch[${i}]/`)));
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) found.push(...scopesOf(processor, `${inner}processor/`));
  }
  return found;
}

/** Every state of every scope. */
function statesOf(machine: Machine): Located[] {
  return scopesOf(machine).flatMap(({ where, machine: scope }) =>
    Object.entries(scope.States).map(([name, state]) => ({ where, name, state })),
  );
}

/** The states a state can move to inside its own scope. */
function targetsOf(state: State): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).flatMap((choice) => (choice.Next ? [choice.Next] : [])),
    ...(state.Catch ?? []).map((catcher) => catcher.Next),
  ];
}

/** Transient error names: those whose SlipwayError subclass says a retry may fix it. */
function transientErrorNames(): Set<string> {
  const names = new Set<string>();
  for (const exported of Object.values(errors)) {
    if (typeof exported !== 'function' || !(exported.prototype instanceof errors.SlipwayError)) continue;
    try {
      const probe = new (exported as new (message: string) => errors.SlipwayError)('probe');
      if (errors.isTransient(probe)) names.add(probe.name);
    } catch {
      // A subclass with another constructor shape cannot be probed; its name is then not retriable here.
    }
  }
  return names;
}

const files = readdirSync(STATEMACHINES_DIR).filter((file) => file.endsWith('.asl.json')).sort();
const workflowOfFile = new Map(Object.entries(WORKFLOWS).map(([name, wf]) => [wf.file as string, name as WorkflowName]));
const knownErrorNames = new Set<string>([...Object.values(errors.ErrorNames), ...STATES_ERRORS, ...LAMBDA_SERVICE_ERRORS, ...OTHER_LAMBDA_ERRORS]);
const catalogById = new Map(FUNCTION_CATALOG.map((fn) => [fn.id, fn]));
const where = (s: Located) => `${s.where}${s.name}`;

describe('statemachines', () => {
  it('holds exactly the workflow files the catalog names', () => {
    const expected = Object.values(WORKFLOWS).map((wf) => wf.file as string).sort();

    expect(files).toEqual(expected);
  });
});

describe.each(files)('%s', (file) => {
  const machine = JSON.parse(readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8')) as Machine;
  const workflow = workflowOfFile.get(file) as WorkflowName;
  const states = statesOf(machine);
  const tasks = states.filter((s) => s.state.Type === 'Task');

  it('has Task states to lint', () => {
    expect(tasks.length).toBeGreaterThan(0);
  });

  it('gives every Task a TimeoutSeconds at least its function timeout', () => {
    const problems = tasks.flatMap((task) => {
      const timeout = task.state.TimeoutSeconds;
      if (typeof timeout !== 'number') return [`${where(task)}: no TimeoutSeconds`];
      const fnId = /^\$\{(.+)FunctionArn\}$/.exec(task.state.Resource ?? '')?.[1];
      const fn = fnId === undefined ? undefined : catalogById.get(fnId);
      // A shorter Task timeout abandons a still-running Lambda and retries it concurrently.
      return fn && timeout < fn.timeoutSeconds ? [`${where(task)}: TimeoutSeconds ${timeout} < function timeout ${fn.timeoutSeconds}`] : [];
    });

    expect(problems).toEqual([]);
  });

  it('retries Lambda service errors on every Task with MaxDelaySeconds and full jitter', () => {
    const problems = tasks.flatMap((task) => {
      const retrier = (task.state.Retry ?? []).find((r) => LAMBDA_SERVICE_ERRORS.every((e) => r.ErrorEquals.includes(e)));
      if (!retrier) return [`${where(task)}: no Retry for ${LAMBDA_SERVICE_ERRORS.join(', ')}`];
      return [
        ...(typeof retrier.MaxDelaySeconds === 'number' ? [] : [`${where(task)}: Lambda retrier has no MaxDelaySeconds`]),
        ...(retrier.JitterStrategy === 'FULL' ? [] : [`${where(task)}: Lambda retrier JitterStrategy is ${String(retrier.JitterStrategy)}`]),
      ];
    });

    expect(problems).toEqual([]);
  });

  it('catches failures of every Task', () => {
    const problems = tasks.filter((task) => (task.state.Catch ?? []).length === 0).map((task) => `${where(task)}: no Catch`);

    expect(problems).toEqual([]);
  });

  it('names only States errors, Lambda errors and ErrorNames constants', () => {
    const problems = states.flatMap((s) =>
      [...(s.state.Retry ?? []), ...(s.state.Catch ?? [])]
        .flatMap((rule) => rule.ErrorEquals)
        .filter((name) => !knownErrorNames.has(name))
        .map((name) => `${where(s)}: unknown error name ${name}`),
    );

    expect(problems).toEqual([]);
  });

  it('retries only Lambda service errors and errors declared transient', () => {
    const transient = transientErrorNames();
    const problems = states.flatMap((s) =>
      (s.state.Retry ?? [])
        .flatMap((rule) => rule.ErrorEquals)
        .filter((name) => !LAMBDA_SERVICE_ERRORS.includes(name) && !transient.has(name))
        .map((name) => `${where(s)}: retries ${name}, which no transient error class in lambdas/shared/errors.ts declares`),
    );

    expect(problems).toEqual([]);
  });

  it('puts States.ALL alone and in the last rule of its Retry or Catch', () => {
    const problems = states.flatMap((s) =>
      (['Retry', 'Catch'] as const).flatMap((field) => {
        const rules = s.state[field] ?? [];
        return rules.flatMap((rule, i) =>
          rule.ErrorEquals.includes('States.ALL') && (rule.ErrorEquals.length > 1 || i !== rules.length - 1)
            ? [`${where(s)}: ${field}[${i}] has States.ALL not alone or not last`]
            : [],
        );
      }),
    );

    expect(problems).toEqual([]);
  });

  it('points every StartAt, Next, Default and Catch at a state of the same scope', () => {
    const problems = scopesOf(machine).flatMap(({ where: scope, machine: m }) => [
      ...(m.States[m.StartAt] ? [] : [`${scope}StartAt: no state ${m.StartAt}`]),
      ...Object.entries(m.States).flatMap(([name, state]) =>
        targetsOf(state)
          .filter((target) => !m.States[target])
          .map((target) => `${scope}${name}: no state ${target}`),
      ),
    ]);

    expect(problems).toEqual([]);
  });

  it('reaches every state from StartAt', () => {
    const problems = scopesOf(machine).flatMap(({ where: scope, machine: m }) => {
      const reached = new Set<string>();
      const queue = [m.StartAt];
      while (queue.length > 0) {
        const name = queue.pop() as string;
        if (reached.has(name) || !m.States[name]) continue;
        reached.add(name);
        queue.push(...targetsOf(m.States[name]));
      }
      return Object.keys(m.States)
        .filter((name) => !reached.has(name))
        .map((name) => `${scope}${name}: unreachable`);
    });

    expect(problems).toEqual([]);
  });

  it('ends or continues every state that is not Choice, Succeed or Fail', () => {
    const problems = states
      .filter((s) => !['Choice', 'Succeed', 'Fail'].includes(s.state.Type))
      .filter((s) => (s.state.Next === undefined) === (s.state.End !== true))
      .map((s) => `${where(s)}: needs exactly one of Next or End`);

    expect(problems).toEqual([]);
  });

  it('invokes only catalog functions that declare this workflow', () => {
    const problems = tasks.flatMap((task) => {
      const fnId = /^\$\{(.+)FunctionArn\}$/.exec(task.state.Resource ?? '')?.[1];
      if (fnId === undefined) return [`${where(task)}: Resource ${String(task.state.Resource)} is not a \${<Id>FunctionArn} variable`];
      const fn = catalogById.get(fnId);
      if (!fn) return [`${where(task)}: ${fnId} is not in the function catalog`];
      if (task.state.Resource !== `\${${arnVariable(fn.id)}}`) return [`${where(task)}: Resource is not \${${arnVariable(fn.id)}}`];
      return fn.invokedBy.includes(workflow) ? [] : [`${where(task)}: ${fnId} does not list ${workflow} in invokedBy`];
    });

    expect(problems).toEqual([]);
  });

  it('uses every function that declares this workflow, so its invoke grant is needed', () => {
    const used = new Set(tasks.map((task) => task.state.Resource));
    const unused = FUNCTION_CATALOG.filter((fn) => fn.invokedBy.includes(workflow) && !used.has(`\${${arnVariable(fn.id)}}`)).map((fn) => fn.id);

    expect(unused).toEqual([]);
  });

  it('gives every Fail state an Error or ErrorPath', () => {
    const problems = states
      .filter((s) => s.state.Type === 'Fail' && s.state.Error === undefined && s.state.ErrorPath === undefined)
      .map((s) => `${where(s)}: Fail without Error or ErrorPath`);

    expect(problems).toEqual([]);
  });
});
