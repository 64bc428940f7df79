/**
 * Graph checks of every `statemachines/*.asl.json`: the graph is closed and reachable, every state
 * ends or continues, error names are stable constants, Tasks invoke catalog functions and catch
 * their failures. Timeouts and retriers are right by construction (the workflow builder derives
 * them from the catalog); `workflow-builder.test.ts` checks that.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { FUNCTION_CATALOG, arnVariable } from '../../infra/function-catalog';
import { LAMBDA_SERVICE_ERRORS } from '../../lambdas/operations/workflow-builder';
import { STATEMACHINES_DIR } from '../../infra/workflows';
import * as errors from '../../lambdas/shared/errors/core';
import { WORKFLOW_NAMES } from '../../lambdas/shared/workflows';

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

const files = readdirSync(STATEMACHINES_DIR).filter((file) => file.endsWith('.asl.json')).sort();
const knownErrorNames = new Set<string>([...Object.values(errors.ErrorNames), ...STATES_ERRORS, ...LAMBDA_SERVICE_ERRORS, ...OTHER_LAMBDA_ERRORS]);
const catalogById = new Map(FUNCTION_CATALOG.map((fn) => [fn.id, fn]));
const where = (s: Located) => `${s.where}${s.name}`;

describe('statemachines', () => {
  it('holds exactly one file per workflow', () => {
    const expected = WORKFLOW_NAMES.map((workflow) => `${workflow}.asl.json`).sort();

    expect(files).toEqual(expected);
  });
});

describe.each(files)('%s', (file) => {
  const machine = JSON.parse(readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8')) as Machine;
  const states = statesOf(machine);
  const tasks = states.filter((s) => s.state.Type === 'Task');

  it('has Task states to lint', () => {
    expect(tasks.length).toBeGreaterThan(0);
  });

  it('catches failures of every Task', () => {
    const problems = tasks.filter((task) => (task.state.Catch ?? []).length === 0).map((task) => `${where(task)}: no Catch`);

    expect(problems).toEqual([]);
  });

  it('names only States errors, Lambda errors and ErrorNames constants', () => {
    const problems = states.flatMap((s) =>
      [...(s.state.Retry ?? []), ...(s.state.Catch ?? []), ...(s.state.Error ? [{ ErrorEquals: [s.state.Error] }] : [])]
        .flatMap((rule) => rule.ErrorEquals)
        .filter((name) => !knownErrorNames.has(name))
        .map((name) => `${where(s)}: unknown error name ${name}`),
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

  it('invokes only catalog functions', () => {
    const problems = tasks.flatMap((task) => {
      const fnId = /^\$\{(.+)FunctionArn\}$/.exec(task.state.Resource ?? '')?.[1];
      if (fnId === undefined) return [`${where(task)}: Resource ${String(task.state.Resource)} is not a \${<Id>FunctionArn} variable`];
      const fn = catalogById.get(fnId);
      if (!fn) return [`${where(task)}: ${fnId} is not in the function catalog`];
      return task.state.Resource === `\${${arnVariable(fn.id)}}` ? [] : [`${where(task)}: Resource is not \${${arnVariable(fn.id)}}`];
    });

    expect(problems).toEqual([]);
  });

  it('gives every Fail state an Error or ErrorPath', () => {
    const problems = states
      .filter((s) => s.state.Type === 'Fail' && s.state.Error === undefined && s.state.ErrorPath === undefined)
      .map((s) => `${where(s)}: Fail without Error or ErrorPath`);

    expect(problems).toEqual([]);
  });
});
