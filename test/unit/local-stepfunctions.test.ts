import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  DescribeStateMachineForExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  type SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  type ExecutionClosedEvent,
  type LocalStepFunctions,
  startLocalStepFunctions,
} from '../../infra/local/stepfunctions';
import { historyEventView } from '../../lambdas/adapters/workflows';
import { causeMessage, stepsFromHistory } from '../../lambdas/shared/execution-progress';
import { gate, type Gate, localSfnClient } from '../support/sfn-helpers';

const lambdaArn = (fn: string) => `arn:aws:lambda:us-east-1:000000000000:function:${fn}`;

/** Reserve → Confirm; a ProviderCapacity failure is caught into Compensate → a Fail state. */
const ordersDefinition = {
  StartAt: 'Reserve',
  States: {
    Reserve: {
      Type: 'Task',
      Resource: lambdaArn('reserve'),
      Parameters: {
        'orderId.$': '$.orderId',
        'executionName.$': '$$.Execution.Name',
        'executionId.$': '$$.Execution.Id',
        'startTime.$': '$$.Execution.StartTime',
        'stateMachineId.$': '$$.StateMachine.Id',
      },
      ResultPath: '$.reservation',
      TimeoutSeconds: 5,
      Retry: [
        { ErrorEquals: ['ProviderUnavailable'], IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2, MaxDelaySeconds: 8, JitterStrategy: 'FULL' },
      ],
      Catch: [{ ErrorEquals: ['ProviderCapacity'], ResultPath: '$.failure', Next: 'Compensate' }],
      Next: 'Confirm',
    },
    Confirm: {
      Type: 'Task',
      Resource: lambdaArn('confirm'),
      Parameters: { 'reservationId.$': '$.reservation.id' },
      ResultPath: '$.confirmation',
      TimeoutSeconds: 5,
      End: true,
    },
    Compensate: {
      Type: 'Task',
      Resource: lambdaArn('compensate'),
      ResultPath: '$.compensation',
      TimeoutSeconds: 5,
      Next: 'ProvisionFailed',
    },
    ProvisionFailed: { Type: 'Fail', ErrorPath: '$.failure.Error', CausePath: '$.compensation.reason' },
  },
};

/** One retried Task whose pauses are long enough to measure: 1 s, ×5 backoff, capped at 6 s. */
const backoffDefinition = {
  StartAt: 'Flaky',
  States: {
    Flaky: {
      Type: 'Task',
      Resource: lambdaArn('flaky'),
      TimeoutSeconds: 5,
      Retry: [{ ErrorEquals: ['ProviderUnavailable'], IntervalSeconds: 1, BackoffRate: 5, MaxAttempts: 3, MaxDelaySeconds: 6, JitterStrategy: 'NONE' }],
      End: true,
    },
  },
};

/** A Task that outlives its TimeoutSeconds; States.Timeout is caught. */
const timeoutDefinition = {
  StartAt: 'Slow',
  States: {
    Slow: {
      Type: 'Task',
      Resource: lambdaArn('slow'),
      TimeoutSeconds: 1,
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.failure', Next: 'GaveUp' }],
      End: true,
    },
    GaveUp: { Type: 'Pass', End: true },
  },
};

/** One Task whose outcome the input chooses, for listing executions in every status. */
const workDefinition = {
  StartAt: 'Work',
  States: { Work: { Type: 'Task', Resource: lambdaArn('work'), TimeoutSeconds: 5, End: true } },
};

class NamedError extends Error {
  constructor(name: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = name;
  }
}

type Handler = (input: unknown) => Promise<unknown>;
const unexpected: Handler = async (input) => {
  throw new Error(`unexpected call with ${JSON.stringify(input)}`);
};

let sfn: LocalStepFunctions;
let client: SFNClient;
let closedEvents: ExecutionClosedEvent[];
let calls: Array<{ fn: string; input: unknown; at: number }>;
let behaviour: Record<string, Handler>;
let workGate: Gate;

const ordersArn = () => sfn.stateMachineArn('orders');
const handlerFor = (fn: string): Handler => async (input) => {
  calls.push({ fn, input, at: Date.now() });
  return (behaviour[fn] ?? unexpected)(input);
};
const callsTo = (fn: string) => calls.filter((call) => call.fn === fn);

async function start(stateMachineArn: string, name: string, input: unknown) {
  return client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
}

async function history(executionArn: string, options: { reverseOrder?: boolean; maxResults?: number } = {}): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, nextToken, ...options }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

beforeAll(async () => {
  sfn = await startLocalStepFunctions({
    port: 0,
    stateMachines: [
      { name: 'orders', definition: JSON.stringify(ordersDefinition) },
      { name: 'backoff', definition: JSON.stringify(backoffDefinition) },
      { name: 'timeout', definition: JSON.stringify(timeoutDefinition) },
      { name: 'work', definition: JSON.stringify(workDefinition) },
    ],
    taskHandlers: Object.fromEntries(
      ['reserve', 'confirm', 'compensate', 'flaky', 'slow', 'work'].map((fn) => [lambdaArn(fn), handlerFor(fn)]),
    ),
    onExecutionClosed: (event) => {
      closedEvents.push(event);
    },
    retryDelayScale: 0.01,
  });
  client = localSfnClient(sfn.endpoint, sfn.region);
});

beforeEach(() => {
  closedEvents = [];
  calls = [];
  behaviour = {};
  workGate = gate();
});

afterEach(async () => {
  workGate.open();
  await sfn.idle();
});

afterAll(async () => {
  client.destroy();
  await sfn.close();
});

describe('local Step Functions endpoint', () => {
  it('runs an execution to success and describes it as Step Functions does', async () => {
    // Arrange
    behaviour.reserve = async () => ({ id: 'res-1', ok: true });
    behaviour.confirm = async () => ({ confirmed: true, at: new Date('2030-01-01T00:00:00Z') });

    // Act
    const started = await start(ordersArn(), 'order-1-provision-v1', { orderId: 'o-1' });
    const closed = await sfn.waitForExecution(started.executionArn!);
    const described = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

    // Assert
    const expectedOutput = {
      orderId: 'o-1',
      reservation: { id: 'res-1', ok: true },
      confirmation: { confirmed: true, at: '2030-01-01T00:00:00.000Z' },
    };
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:orders:order-1-provision-v1');
    expect(started.startDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      executionArn: started.executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:orders',
      name: 'order-1-provision-v1',
      status: 'SUCCEEDED',
      input: '{"orderId":"o-1"}',
      startDate: started.startDate,
    });
    expect(JSON.parse(described.output!)).toEqual(expectedOutput);
    expect(described.stopDate).toBeInstanceOf(Date);
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());
    expect(described.error).toBeUndefined();
    expect(closed).toEqual({
      executionArn: started.executionArn,
      stateMachineArn: ordersArn(),
      name: 'order-1-provision-v1',
      status: 'SUCCEEDED',
      startDate: described.startDate!.toISOString(),
      stopDate: described.stopDate!.toISOString(),
      input: '{"orderId":"o-1"}',
      output: described.output,
    });
    expect(closedEvents).toEqual([closed]);
  });

  it('gives Task handlers their effective input and the Context Object fields AWS provides', async () => {
    // Arrange
    behaviour.reserve = async () => ({ id: 'res-2' });
    behaviour.confirm = async () => ({});

    // Act
    const started = await start(ordersArn(), 'order-2', { orderId: 'o-2', ignored: true });
    await sfn.waitForExecution(started.executionArn!);

    // Assert
    const [reserve] = callsTo('reserve');
    expect(reserve?.input).toEqual({
      orderId: 'o-2',
      executionName: 'order-2',
      executionId: started.executionArn,
      startTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      stateMachineId: ordersArn(),
    });
    const startTime = Date.parse((reserve?.input as { startTime: string }).startTime);
    expect(Math.abs(startTime - started.startDate!.getTime())).toBeLessThan(50);
    expect(callsTo('confirm').map((call) => call.input)).toEqual([{ reservationId: 'res-2' }]);
  });

  it('records the history with Step Functions event types, in order, paged both ways', async () => {
    // Arrange
    behaviour.reserve = async () => ({ id: 'res-3' });
    behaviour.confirm = async () => ({ confirmed: true });
    const started = await start(ordersArn(), 'order-3', { orderId: 'o-3' });
    await sfn.waitForExecution(started.executionArn!);

    // Act
    const events = await history(started.executionArn!);
    const paged = await history(started.executionArn!, { maxResults: 5 });
    const reversed = await history(started.executionArn!, { reverseOrder: true, maxResults: 4 });

    // Assert
    expect(events.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(events.map((event) => [event.id, event.previousEventId])).toEqual(events.map((_, i) => [i + 1, i]));
    expect(events.every((event) => event.timestamp instanceof Date)).toBe(true);
    expect(events[1]?.stateEnteredEventDetails).toEqual({ name: 'Reserve', input: '{"orderId":"o-3"}', inputDetails: { truncated: false } });
    expect(events[2]?.lambdaFunctionScheduledEventDetails).toMatchObject({
      resource: lambdaArn('reserve'),
      timeoutInSeconds: 5,
    });
    expect(JSON.parse(events[2]!.lambdaFunctionScheduledEventDetails!.input!)).toMatchObject({ orderId: 'o-3', executionName: 'order-3' });
    expect(events[4]?.lambdaFunctionSucceededEventDetails?.output).toBe('{"id":"res-3"}');
    expect(events[5]?.stateExitedEventDetails).toEqual({
      name: 'Reserve',
      output: '{"orderId":"o-3","reservation":{"id":"res-3"}}',
      outputDetails: { truncated: false },
    });
    expect(events[11]?.executionSucceededEventDetails?.output).toBe(
      '{"orderId":"o-3","reservation":{"id":"res-3"},"confirmation":{"confirmed":true}}',
    );
    expect(paged).toEqual(events);
    expect(reversed).toEqual([...events].reverse());
  });

  it('returns the running execution again for the same name and input, and refuses any other reuse', async () => {
    // Arrange
    const reserveGate = gate();
    behaviour.reserve = async () => {
      await reserveGate.pass();
      return { id: 'res-4' };
    };
    behaviour.confirm = async () => ({});
    const first = await start(ordersArn(), 'order-4', { orderId: 'o-4' });
    await reserveGate.entered;

    // Act
    const again = await start(ordersArn(), 'order-4', { orderId: 'o-4' });
    const otherInput = start(ordersArn(), 'order-4', { orderId: 'other' });
    await expect(otherInput).rejects.toMatchObject({ name: 'ExecutionAlreadyExists', $metadata: { httpStatusCode: 400 } });
    reserveGate.open();
    await sfn.waitForExecution(first.executionArn!);
    const afterClose = start(ordersArn(), 'order-4', { orderId: 'o-4' });

    // Assert
    expect(again.executionArn).toBe(first.executionArn);
    expect(again.startDate).toEqual(first.startDate);
    await expect(afterClose).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
    expect(callsTo('reserve')).toHaveLength(1);
    expect(closedEvents.map((event) => event.name)).toEqual(['order-4']);
  });

  it('fails a Task with the thrown error name and the Lambda error payload as Cause, which Catch matches', async () => {
    // Arrange
    behaviour.reserve = async () => {
      throw new NamedError('ProviderCapacity', 'no capacity in ord', { cause: new Error('upstream 503') });
    };
    behaviour.compensate = async () => ({ reason: 'released the reservation' });

    // Act
    const started = await start(ordersArn(), 'order-5', { orderId: 'o-5' });
    await sfn.waitForExecution(started.executionArn!);

    // Assert
    expect(callsTo('reserve')).toHaveLength(1);
    const [compensate] = callsTo('compensate');
    const failure = (compensate?.input as { failure: { Error: string; Cause: string } }).failure;
    expect(compensate?.input).toEqual({ orderId: 'o-5', failure: { Error: 'ProviderCapacity', Cause: expect.any(String) } });
    const cause = JSON.parse(failure.Cause) as { errorType: string; errorMessage: string; trace: string[] };
    expect(Object.keys(cause)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(cause.errorType).toBe('ProviderCapacity');
    expect(cause.errorMessage).toBe('no capacity in ord');
    expect(cause.trace[0]).toBe('ProviderCapacity: no capacity in ord');
    expect(cause.trace.length).toBeGreaterThan(1);
    const types = (await history(started.executionArn!)).map((event) => event.type);
    expect(types.slice(0, 7)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'TaskStateExited',
      'TaskStateEntered',
    ]);
  });

  it('fails the execution with the error and cause a Fail state reads through ErrorPath and CausePath', async () => {
    // Arrange
    behaviour.reserve = async () => {
      throw new NamedError('ProviderCapacity', 'no capacity in ord');
    };
    behaviour.compensate = async () => ({ reason: 'released the reservation' });

    // Act
    const started = await start(ordersArn(), 'order-6', { orderId: 'o-6' });
    const closed = await sfn.waitForExecution(started.executionArn!);
    const described = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    const events = await history(started.executionArn!);

    // Assert
    expect(described).toMatchObject({ status: 'FAILED', error: 'ProviderCapacity', cause: 'released the reservation' });
    expect(described.output).toBeUndefined();
    expect(closed).toMatchObject({ status: 'FAILED', error: 'ProviderCapacity', cause: 'released the reservation' });
    expect(events.slice(-2).map((event) => event.type)).toEqual(['FailStateEntered', 'ExecutionFailed']);
    expect(events.at(-1)?.executionFailedEventDetails).toEqual({ error: 'ProviderCapacity', cause: 'released the reservation' });
  });

  it('retries a named transient error and succeeds on the third attempt', async () => {
    // Arrange
    behaviour.reserve = async () => {
      if (callsTo('reserve').length < 3) throw new NamedError('ProviderUnavailable', 'try again');
      return { id: 'res-7' };
    };
    behaviour.confirm = async () => ({});

    // Act
    const started = await start(ordersArn(), 'order-7', { orderId: 'o-7' });
    const closed = await sfn.waitForExecution(started.executionArn!);
    const types = (await history(started.executionArn!)).map((event) => event.type);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    expect(callsTo('reserve')).toHaveLength(3);
    expect(types.slice(0, 11)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionSucceeded',
    ]);
  });

  it('stops retrying after MaxAttempts and fails the execution with the last error', async () => {
    // Arrange
    behaviour.reserve = async () => {
      throw new NamedError('ProviderUnavailable', 'still down');
    };

    // Act
    const started = await start(ordersArn(), 'order-8', { orderId: 'o-8' });
    const closed = await sfn.waitForExecution(started.executionArn!);

    // Assert
    expect(callsTo('reserve')).toHaveLength(4);
    expect(closed.status).toBe('FAILED');
    expect(closed.error).toBe('ProviderUnavailable');
    expect(JSON.parse(closed.cause!)).toMatchObject({ errorType: 'ProviderUnavailable', errorMessage: 'still down' });
  });

  it('pauses between retries with backoff and the MaxDelaySeconds cap, scaled', async () => {
    // Arrange: pauses 1 s, 5 s, min(25 s, 6 s) at scale 0.01 → 10, 50 and 60 ms.
    behaviour.flaky = async () => {
      if (callsTo('flaky').length < 4) throw new NamedError('ProviderUnavailable', 'try again');
      return { ok: true };
    };

    // Act
    const started = await start(sfn.stateMachineArn('backoff'), 'backoff-1', {});
    const closed = await sfn.waitForExecution(started.executionArn!);

    // Assert
    const at = callsTo('flaky').map((call) => call.at);
    const pauses = at.slice(1).map((time, i) => time - at[i]!);
    expect(closed.status).toBe('SUCCEEDED');
    expect(pauses).toHaveLength(3);
    expect(pauses[0]).toBeGreaterThanOrEqual(9);
    expect(pauses[1]).toBeGreaterThanOrEqual(49);
    expect(pauses[2]).toBeGreaterThanOrEqual(59);
    // Uncapped, the third pause would be 250 ms.
    expect(pauses[2]).toBeLessThan(200);
  });

  it('fails a Task that outlives TimeoutSeconds with States.Timeout', async () => {
    // Arrange
    const slowGate = gate();
    behaviour.slow = async () => {
      await slowGate.pass();
      return { late: true };
    };

    // Act
    const started = await start(sfn.stateMachineArn('timeout'), 'timeout-1', { job: 1 });
    const closed = await sfn.waitForExecution(started.executionArn!);
    slowGate.open();
    const types = (await history(started.executionArn!)).map((event) => event.type);

    // Assert
    expect(closed.status).toBe('SUCCEEDED');
    expect(JSON.parse(closed.output!)).toMatchObject({ job: 1, failure: { Error: 'States.Timeout' } });
    expect(types).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionTimedOut',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('aborts an execution on StopExecution and runs nothing after it', async () => {
    // Arrange
    const reserveGate = gate();
    behaviour.reserve = async () => {
      await reserveGate.pass();
      return { id: 'res-9' };
    };
    const started = await start(ordersArn(), 'order-9', { orderId: 'o-9' });
    await reserveGate.entered;

    // Act
    const stopped = await client.send(
      new StopExecutionCommand({ executionArn: started.executionArn, error: 'OperatorStop', cause: 'stopped by a test' }),
    );
    reserveGate.open();
    const closed = await sfn.waitForExecution(started.executionArn!);
    await sfn.idle();
    const described = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));

    // Assert
    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'OperatorStop', cause: 'stopped by a test', stopDate: stopped.stopDate });
    expect(closed).toMatchObject({ status: 'ABORTED', error: 'OperatorStop', cause: 'stopped by a test' });
    expect(callsTo('confirm')).toHaveLength(0);
    expect((await history(started.executionArn!)).at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'OperatorStop', cause: 'stopped by a test' },
    });
  });

  it('lists executions newest first, filtered by status and paged', async () => {
    // Arrange
    const workArn = sfn.stateMachineArn('work');
    behaviour.work = async (input) => {
      const { outcome } = input as { outcome: string };
      if (outcome === 'fail') throw new NamedError('WorkFailed', 'as asked');
      if (outcome === 'wait') await workGate.pass();
      return { done: true };
    };
    const succeeded = await start(workArn, 'list-a', { outcome: 'succeed' });
    await sfn.waitForExecution(succeeded.executionArn!);
    const failed = await start(workArn, 'list-b', { outcome: 'fail' });
    await sfn.waitForExecution(failed.executionArn!);
    await start(workArn, 'list-c', { outcome: 'wait' });
    await workGate.entered;

    // Act
    const list = async (statusFilter?: 'RUNNING' | 'SUCCEEDED' | 'FAILED') =>
      (await client.send(new ListExecutionsCommand({ stateMachineArn: workArn, statusFilter }))).executions?.map((e) => [e.name, e.status]);
    const firstPage = await client.send(new ListExecutionsCommand({ stateMachineArn: workArn, maxResults: 2 }));
    const secondPage = await client.send(new ListExecutionsCommand({ stateMachineArn: workArn, maxResults: 2, nextToken: firstPage.nextToken }));

    // Assert
    expect(await list()).toEqual([
      ['list-c', 'RUNNING'],
      ['list-b', 'FAILED'],
      ['list-a', 'SUCCEEDED'],
    ]);
    expect(await list('SUCCEEDED')).toEqual([['list-a', 'SUCCEEDED']]);
    expect(await list('FAILED')).toEqual([['list-b', 'FAILED']]);
    expect(await list('RUNNING')).toEqual([['list-c', 'RUNNING']]);
    expect(firstPage.executions?.map((e) => e.name)).toEqual(['list-c', 'list-b']);
    expect(secondPage.executions?.map((e) => e.name)).toEqual(['list-a']);
    expect(secondPage.nextToken).toBeUndefined();
    expect(firstPage.executions?.[0]?.startDate).toBeInstanceOf(Date);
  });

  it('refuses execution names outside [0-9A-Za-z_-]{1,80} with InvalidName', async () => {
    // Act
    const withSpace = start(ordersArn(), 'has space', {});
    const tooLong = start(ordersArn(), 'x'.repeat(81), {});
    const withColon = start(ordersArn(), 'a:b', {});

    // Assert
    await expect(withSpace).rejects.toMatchObject({ name: 'InvalidName', $metadata: { httpStatusCode: 400 } });
    await expect(tooLong).rejects.toMatchObject({ name: 'InvalidName' });
    await expect(withColon).rejects.toMatchObject({ name: 'InvalidName' });
    expect(calls).toEqual([]);
  });

  it('answers unknown executions and state machines with the AWS error codes', async () => {
    // Act
    const unknownExecution = client.send(
      new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:orders:nope' }),
    );
    const unknownMachine = start('arn:aws:states:us-east-1:000000000000:stateMachine:nope', 'n-1', {});
    const badArn = client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' }));

    // Assert
    await expect(unknownExecution).rejects.toMatchObject({ name: 'ExecutionDoesNotExist', $metadata: { httpStatusCode: 400 } });
    await expect(unknownMachine).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
    await expect(badArn).rejects.toMatchObject({ name: 'InvalidArn' });
  });

  it('answers an unknown action with UnknownOperationException', async () => {
    // Act
    const response = await fetch(sfn.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AWSStepFunctions.CreateActivityTypo' },
      body: '{}',
    });

    // Assert
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: 'UnknownOperationException',
      message: 'Unknown operation: AWSStepFunctions.CreateActivityTypo',
    });
  });

  it('describes and lists its state machines', async () => {
    // Act
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: ordersArn() }));
    const listed = await client.send(new ListStateMachinesCommand({}));

    // Assert
    expect(described).toMatchObject({
      stateMachineArn: ordersArn(),
      name: 'orders',
      status: 'ACTIVE',
      type: 'STANDARD',
      definition: JSON.stringify(ordersDefinition),
      roleArn: expect.stringMatching(/^arn:aws:iam::000000000000:role\//),
    });
    expect(described.creationDate).toBeInstanceOf(Date);
    expect(listed.stateMachines?.map((machine) => machine.name)).toEqual(['orders', 'backoff', 'timeout', 'work']);
  });

  it('describes the state machine an execution ran (DescribeStateMachineForExecution)', async () => {
    // Arrange
    behaviour.work = async () => ({ done: true });
    const started = await start(sfn.stateMachineArn('work'), 'sm-for-1', { outcome: 'ok' });
    await sfn.waitForExecution(started.executionArn!);

    // Act
    const described = await client.send(new DescribeStateMachineForExecutionCommand({ executionArn: started.executionArn }));

    // Assert
    expect(described).toMatchObject({ stateMachineArn: sfn.stateMachineArn('work'), name: 'work', definition: JSON.stringify(workDefinition) });
    expect(described.updateDate).toBeInstanceOf(Date);
  });

  it("tells each state's story from its history: retried, then caught into a failing compensation", async () => {
    // Arrange: Reserve fails twice (retried), then hits a capacity error that is caught.
    behaviour.reserve = async () => {
      if (callsTo('reserve').length < 3) throw new NamedError('ProviderUnavailable', 'try again');
      throw new NamedError('ProviderCapacity', 'no capacity in ord');
    };
    behaviour.compensate = async () => ({ reason: 'released the reservation' });
    const started = await start(ordersArn(), 'story-1', { orderId: 'o-s1' });
    await sfn.waitForExecution(started.executionArn!);

    // Act
    const steps = stepsFromHistory((await history(started.executionArn!)).map(historyEventView));

    // Assert
    expect(steps.map((step) => [step.name, step.type, step.status, step.attempts, step.error])).toEqual([
      ['Reserve', 'Task', 'caught', 3, 'ProviderCapacity'],
      ['Compensate', 'Task', 'succeeded', 1, null],
      ['ProvisionFailed', 'Fail', 'failed', 0, 'ProviderCapacity'],
    ]);
    expect(causeMessage(steps[0]!.cause)).toBe('no capacity in ord');
    expect(JSON.parse(steps[0]!.input!)).toEqual({ orderId: 'o-s1' });
    expect(JSON.parse(steps[1]!.output!)).toMatchObject({ compensation: { reason: 'released the reservation' } });
    for (const step of steps) expect(Date.parse(step.exitedAt!)).toBeGreaterThanOrEqual(Date.parse(step.enteredAt));
  });

  it("tells a retried state that succeeded, and a running one, from the history as it grows", async () => {
    // Arrange: the first Reserve attempt fails, the second succeeds; Confirm waits at a gate.
    behaviour.reserve = async () => {
      if (callsTo('reserve').length < 2) throw new NamedError('ProviderUnavailable', 'try again');
      return { id: 'res-s2' };
    };
    behaviour.confirm = async () => {
      await workGate.pass();
      return {};
    };
    const started = await start(ordersArn(), 'story-2', { orderId: 'o-s2' });
    await workGate.entered;

    // Act
    const whileRunning = stepsFromHistory((await history(started.executionArn!)).map(historyEventView));
    workGate.open();
    await sfn.waitForExecution(started.executionArn!);
    const done = stepsFromHistory((await history(started.executionArn!)).map(historyEventView));

    // Assert
    expect(whileRunning.map((step) => [step.name, step.status, step.attempts])).toEqual([
      ['Reserve', 'retried', 2],
      ['Confirm', 'running', 1],
    ]);
    expect(done.map((step) => [step.name, step.status, step.attempts])).toEqual([
      ['Reserve', 'retried', 2],
      ['Confirm', 'succeeded', 1],
    ]);
  });

  it('resolves waitForExecution when a running execution closes, and at once for a closed one', async () => {
    // Arrange
    behaviour.work = async () => {
      await workGate.pass();
      return { done: true };
    };
    const started = await start(sfn.stateMachineArn('work'), 'wait-1', { outcome: 'wait' });
    await workGate.entered;
    const whenClosed = sfn.waitForExecution(started.executionArn!);
    let settled = false;
    void whenClosed.then(() => {
      settled = true;
    });

    // Act
    const describedWhileRunning = await client.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    const settledWhileRunning = settled;
    workGate.open();
    const closed = await whenClosed;
    const again = await sfn.waitForExecution(started.executionArn!);

    // Assert
    expect(describedWhileRunning.status).toBe('RUNNING');
    expect(describedWhileRunning.stopDate).toBeUndefined();
    expect(settledWhileRunning).toBe(false);
    expect(closed).toMatchObject({ name: 'wait-1', status: 'SUCCEEDED', output: '{"done":true}' });
    expect(again).toEqual(closed);
    expect(closedEvents).toEqual([closed]);
  });
});
