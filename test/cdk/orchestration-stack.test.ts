import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { applySubstitutions, readWorkflowDefinition, variablesIn } from '../../infra/asl';
import { FUNCTION_CATALOG, arnVariable } from '../../infra/function-catalog';
import { functionsOf } from '../../infra/workflows';
import { WORKFLOW_NAMES, stateMachineArnEnvVar, type WorkflowName } from '../../lambdas/shared/workflows';
import { ACCOUNT, REGION, render, resourcesOf, synthesize, type CfnResource, type Synthesized } from './support/synth';

/**
 * The one known wildcard. Step Functions delivers logs through CloudWatch Logs' vended-log APIs,
 * which support no resource-level permissions: AWS documents `Resource: "*"` for exactly these
 * actions (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy)
 * and CDK's StateMachine adds this statement whenever logging is configured. It is allowed only in
 * its exact form and only on a state machine role.
 */
const LOG_DELIVERY_ACTIONS = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:DescribeLogGroups',
  'logs:DescribeResourcePolicies',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:UpdateLogDelivery',
];

/**
 * X-Ray's write and sampling actions support no resource-level permissions either: AWS documents
 * `Resource: "*"` (https://docs.aws.amazon.com/xray/latest/devguide/security_iam_service-with-iam.html)
 * and CDK adds this statement to every traced function and state machine.
 */
const XRAY_ACTIONS = ['xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'];

interface Statement {
  Effect?: string;
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
}
/** One statement with the roles its policy is attached to. */
interface Granted {
  source: string;
  roles: string[];
  statement: Statement;
}

const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
const refOf = (value: unknown): string => (value as { Ref: string }).Ref;

/** Every statement of every IAM policy, managed policy and inline role policy of a template. */
function statementsOf(template: Template): Granted[] {
  const granted: Granted[] = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, resource] of Object.entries(resourcesOf(template, type))) {
      const props = resource.Properties as { Roles?: unknown[]; PolicyDocument: { Statement: Statement[] } };
      const roles = list(props.Roles).map(refOf);
      for (const statement of props.PolicyDocument.Statement) granted.push({ source: id, roles, statement });
    }
  }
  for (const [id, resource] of Object.entries(resourcesOf(template, 'AWS::IAM::Role'))) {
    const policies = (resource.Properties?.Policies ?? []) as Array<{ PolicyDocument: { Statement: Statement[] } }>;
    for (const policy of policies) for (const statement of policy.PolicyDocument.Statement) granted.push({ source: id, roles: [id], statement });
  }
  return granted;
}

let synth: Synthesized;
let template: Template;
let statements: Granted[];
let stateMachineRoles: Set<string>;
const logicalId = (construct: IConstruct) => synth.orchestration.getLogicalId(construct.node.defaultChild as CfnElement);
const stateMachineArnOf = (workflow: WorkflowName) => `<Ref ${logicalId(synth.orchestration.workflows[workflow].stateMachine)}>`;
const executionsArnOf = (workflow: WorkflowName) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:<GetAtt ${logicalId(synth.orchestration.workflows[workflow].stateMachine)}.Name>:*`;
const statementsOfRole = (roleId: string) => statements.filter((g) => g.roles.includes(roleId)).map((g) => g.statement);
const resourcesFor = (roleId: string, action: string) =>
  statementsOfRole(roleId)
    .filter((s) => list(s.Action).includes(action))
    .flatMap((s) => list(s.Resource).map(render))
    .sort();

beforeAll(() => {
  synth = synthesize();
  template = synth.orchestrationTemplate;
  statements = [...statementsOf(synth.statefulTemplate), ...statementsOf(template)];
  stateMachineRoles = new Set(
    Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine')).map(
      (sm) => (sm.Properties?.RoleArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string,
    ),
  );
}, 120_000);

describe('IAM', () => {
  it('finds the policies it checks', () => {
    expect(statements.length).toBeGreaterThan(FUNCTION_CATALOG.length);
  });

  it('grants no wildcard action and no "*" resource, except log delivery and X-Ray, which AWS scopes to no resource', () => {
    // A state machine role's statement may merge log delivery and X-Ray (CDK minimises policies).
    const isLogDeliveryException = (g: Granted) =>
      g.statement.Effect === 'Allow' &&
      g.statement.Resource === '*' &&
      LOG_DELIVERY_ACTIONS.every((action) => list(g.statement.Action).includes(action)) &&
      list(g.statement.Action).every((action) => LOG_DELIVERY_ACTIONS.includes(action) || XRAY_ACTIONS.includes(action)) &&
      g.roles.length > 0 &&
      g.roles.every((role) => stateMachineRoles.has(role));
    const isXrayException = (g: Granted) =>
      g.statement.Effect === 'Allow' && g.statement.Resource === '*' && list(g.statement.Action).every((action) => XRAY_ACTIONS.includes(action));

    const problems = statements
      .filter((g) => !isLogDeliveryException(g) && !isXrayException(g))
      .flatMap((g) => [
        ...list(g.statement.Action).filter((action) => action.includes('*')).map((action) => `${g.source}: action ${action}`),
        ...list(g.statement.Resource).filter((resource) => resource === '*').map(() => `${g.source}: resource "*" for ${list(g.statement.Action).join(', ')}`),
        ...(g.statement.NotAction === undefined ? [] : [`${g.source}: NotAction`]),
        ...(g.statement.NotResource === undefined ? [] : [`${g.source}: NotResource`]),
      ]);

    expect(problems).toEqual([]);
  });

  it('attaches no managed policy to any role (AWSLambdaBasicExecutionRole writes logs on "*")', () => {
    const withManaged = Object.entries(resourcesOf(template, 'AWS::IAM::Role'))
      .filter(([, role]) => role.Properties?.ManagedPolicyArns !== undefined)
      .map(([id]) => id);

    expect(withManaged).toEqual([]);
  });

  it.each(WORKFLOW_NAMES)('lets the %s state machine invoke exactly the functions its workflow uses', (workflow) => {
    const roleId = logicalId(synth.orchestration.workflows[workflow].stateMachine.role);
    const expected = functionsOf(workflow)
      .map((fn) => `<GetAtt ${logicalId(synth.orchestration.functions[fn.id]!)}.Arn>`)
      .flatMap((arn) => [arn, `${arn}:*`])
      .sort();

    expect(resourcesFor(roleId, 'lambda:InvokeFunction')).toEqual(expected);
    const otherActions = statementsOfRole(roleId)
      .flatMap((s) => list(s.Action))
      .filter((action) => action !== 'lambda:InvokeFunction' && !LOG_DELIVERY_ACTIONS.includes(action) && !XRAY_ACTIONS.includes(action));
    expect(otherActions).toEqual([]);
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('lets %s start, read and inspect exactly the workflows it declares', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const starts = fn.permissions.startsWorkflows ?? [];
    const describes = [...starts, ...(fn.permissions.describesWorkflows ?? [])];
    const inspects = [...(fn.permissions.inspectsWorkflows ?? [])];

    expect(resourcesFor(roleId, 'states:StartExecution')).toEqual(starts.map(stateMachineArnOf).sort());
    expect(resourcesFor(roleId, 'states:DescribeExecution')).toEqual(describes.map(executionsArnOf).sort());
    expect(resourcesFor(roleId, 'states:ListExecutions')).toEqual(inspects.map(stateMachineArnOf).sort());
    expect(resourcesFor(roleId, 'states:GetExecutionHistory')).toEqual(inspects.map(executionsArnOf).sort());
    expect(resourcesFor(roleId, 'states:DescribeStateMachineForExecution')).toEqual(inspects.map(executionsArnOf).sort());
    const stateActions = statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('states:'));
    expect([...new Set(stateActions)].sort()).toEqual(
      [
        ...(describes.length > 0 ? ['states:DescribeExecution'] : []),
        ...(starts.length > 0 ? ['states:StartExecution'] : []),
        ...(inspects.length > 0 ? ['states:DescribeStateMachineForExecution', 'states:GetExecutionHistory', 'states:ListExecutions'] : []),
      ].sort(),
    );
  });

  it('lets the Api function inspect every workflow for the operator console', () => {
    expect(FUNCTION_CATALOG.find((fn) => fn.id === 'Api')!.permissions.inspectsWorkflows).toEqual(WORKFLOW_NAMES);
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('gives %s exactly the table actions its catalog entry names', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const tableActions = [...new Set(statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('dynamodb:')))].sort();

    expect(tableActions).toEqual(fn.permissions.table.map((action) => `dynamodb:${action}`).sort());
    for (const action of fn.permissions.table) {
      const expected = action === 'Query' ? ['<table>', '<table>/index/*'] : ['<table>'];
      expect(resourcesFor(roleId, `dynamodb:${action}`).map((r) => r.replace(/<Import [^>]+>/, '<table>'))).toEqual(expected);
    }
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('lets %s put events on the lifecycle bus, and nowhere else, only if it publishes them', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const eventActions = statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('events:'));
    const env = ((template.toJSON().Resources as Record<string, CfnResource>)[logicalId(synth.orchestration.functions[fn.id]!)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

    expect(eventActions).toEqual(fn.permissions.publishesEvents ? ['events:PutEvents'] : []);
    if (fn.permissions.publishesEvents) {
      expect(resourcesFor(roleId, 'events:PutEvents')).toEqual([`<GetAtt ${logicalId(synth.orchestration.eventBus)}.Arn>`]);
      expect(render(env.EVENT_BUS_NAME)).toBe(`<Ref ${logicalId(synth.orchestration.eventBus)}>`);
    } else {
      expect(env.EVENT_BUS_NAME).toBeUndefined();
    }
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('lets %s read the Fly token secret only if it calls a provider', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const secretActions = statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('secretsmanager:'));

    expect(secretActions.length > 0).toBe(fn.permissions.usesProvider === true);
    if (fn.permissions.usesProvider) expect(resourcesFor(roleId, 'secretsmanager:GetSecretValue')).toContainEqual(expect.stringMatching(/:secret:<Ref FlyTokenSecretName>-\?{6}$/));
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('lets %s read the generated cursor key only if it is the Api', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const cursorKeyId = Object.keys(resourcesOf(template, 'AWS::SecretsManager::Secret'))[0]!;

    expect(resourcesFor(roleId, 'secretsmanager:GetSecretValue').includes(`<Ref ${cursorKeyId}>`)).toBe(fn.id === 'Api');
  });

  it('generates the cursor key in the stack and hands only its ARN to the Api function', () => {
    const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret');
    const [cursorKeyId, cursorKey] = Object.entries(secrets)[0]!;
    const env = (resource: string) => ((template.toJSON().Resources as Record<string, CfnResource>)[resource]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

    expect(Object.keys(secrets)).toHaveLength(1);
    expect(cursorKey.Properties?.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    for (const fn of FUNCTION_CATALOG) {
      const variables = env(logicalId(synth.orchestration.functions[fn.id]!));
      if (fn.id === 'Api') expect(variables.CURSOR_SECRET_NAME).toEqual({ Ref: cursorKeyId });
      else expect(variables.CURSOR_SECRET_NAME).toBeUndefined();
      expect(variables.CURSOR_SECRET).toBeUndefined();
    }
  });
});

describe('functions', () => {
  it('runs every Lambda in the stack on nodejs22.x, one per catalog entry', () => {
    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));

    expect(functions.map((fn) => fn.Properties?.Runtime)).toEqual(FUNCTION_CATALOG.map(() => 'nodejs22.x'));
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('builds %s from its catalog entry', (_id, fn) => {
    const props = (template.toJSON().Resources as Record<string, CfnResource>)[logicalId(synth.orchestration.functions[fn.id]!)]!.Properties!;
    const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;

    expect(props).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: fn.timeoutSeconds,
      MemorySize: fn.memoryMb,
    });
    expect(env).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'slipway', LOG_LEVEL: 'INFO', TRACING: 'xray' });
    expect(render(env.TABLE_NAME)).toMatch(/^<Import slipway-stateful:/);
    const starts = fn.permissions.startsWorkflows ?? [];
    for (const workflow of [...starts, ...(fn.permissions.describesWorkflows ?? [])]) expect(render(env[stateMachineArnEnvVar(workflow)])).toBe(stateMachineArnOf(workflow));
    expect(props.TracingConfig).toEqual({ Mode: 'Active' });
    if (fn.permissions.usesProvider) expect(env).toMatchObject({ PROVIDERS: { Ref: 'Providers' }, FLY_TOKEN_SECRET_NAME: { Ref: 'FlyTokenSecretName' } });
    else if (fn.id !== 'Api') expect(env.PROVIDERS).toBeUndefined();
    const stateMachineVars = Object.keys(env).filter((name) => name.endsWith('_STATE_MACHINE_ARN'));
    const known = [...starts, ...(fn.permissions.describesWorkflows ?? [])];
    expect(stateMachineVars.sort()).toEqual(known.map(stateMachineArnEnvVar).sort());
    expect(env.EXECUTION_CONSOLE_URL_PREFIX).toBe(
      starts.length > 0 ? `https://${REGION}.console.aws.amazon.com/states/home?region=${REGION}#/v2/executions/details/` : undefined,
    );
  });

  it('hands the Api function the JWT settings from the deploy parameters', () => {
    const props = (template.toJSON().Resources as Record<string, CfnResource>)[logicalId(synth.orchestration.functions.Api!)]!.Properties!;

    expect((props.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      JWT_ISSUER: { Ref: 'JwtIssuer' },
      JWT_AUDIENCE: { Ref: 'JwtAudience' },
      JWT_JWKS_URL: { Ref: 'JwtJwksUrl' },
    });
  });

  it('takes the issuer, audience and JWKS URL as string parameters', () => {
    const parameters = template.toJSON().Parameters as Record<string, { Type: string }>;

    expect(parameters.JwtIssuer?.Type).toBe('String');
    expect(parameters.JwtAudience?.Type).toBe('String');
    expect(parameters.JwtJwksUrl?.Type).toBe('String');
  });
});

describe.each(WORKFLOW_NAMES)('the %s state machine', (workflow) => {
  let props: Record<string, unknown>;
  beforeAll(() => {
    const id = logicalId(synth.orchestration.workflows[workflow].stateMachine);
    props = (template.toJSON().Resources as Record<string, CfnResource>)[id]!.Properties!;
  });

  it('is a traced Standard state machine, named by CloudFormation, with the workflow file as its definition', () => {
    expect(props.StateMachineName).toBeUndefined();
    expect(props.StateMachineType).toBe('STANDARD');
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(props.DefinitionString).toBe(readWorkflowDefinition(workflow));
  });

  it("substitutes exactly the definition's variables, each with its function's ARN", () => {
    const substitutions = props.DefinitionSubstitutions as Record<string, unknown>;
    const expected = Object.fromEntries(
      functionsOf(workflow).map((fn) => [arnVariable(fn.id), `<GetAtt ${logicalId(synth.orchestration.functions[fn.id]!)}.Arn>`]),
    );

    expect(Object.fromEntries(Object.entries(substitutions).map(([name, value]) => [name, render(value)]))).toEqual(expected);
    expect(variablesIn(props.DefinitionString as string).sort()).toEqual(Object.keys(expected).sort());
  });

  it('leaves no unresolved ${...} variable after substitution', () => {
    const substitutions = Object.fromEntries(
      Object.keys(props.DefinitionSubstitutions as object).map((name) => [name, `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`]),
    );

    const resolved = applySubstitutions(props.DefinitionString as string, substitutions);

    expect(resolved).not.toMatch(/\$\{/);
    expect(() => JSON.parse(resolved)).not.toThrow();
  });

  it('logs errors only, without execution data, to its own log group', () => {
    const logging = props.LoggingConfiguration as { Level: string; IncludeExecutionData: boolean; Destinations: unknown[] };
    const logGroupId = logicalId(synth.orchestration.workflows[workflow].logGroup);

    expect(logging.Level).toBe('ERROR');
    expect(logging.IncludeExecutionData).toBe(false);
    expect(logging.Destinations).toEqual([{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } } }]);
  });

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut'])('raises an alarm to the operators on one %s in five minutes', (metricName) => {
    const id = logicalId(synth.orchestration.workflows[workflow].stateMachine);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: logicalId(synth.orchestration.alarmTopic) }],
      Namespace: 'AWS/States',
      MetricName: metricName,
      Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: id } }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('publishes its ARN as an output', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const output = Object.entries(outputs).find(([name]) => name.toLowerCase() === `${workflow.toLowerCase()}statemachinearn`);

    expect(output?.[1].Value).toEqual({ Ref: logicalId(synth.orchestration.workflows[workflow].stateMachine) });
  });
});

describe('HTTP API', () => {
  let routes: Array<Record<string, unknown>>;
  let integrationId: string;
  beforeAll(() => {
    routes = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Route')).map((route) => route.Properties!);
    const integrations = Object.entries(resourcesOf(template, 'AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(1);
    integrationId = integrations[0]![0];
  });

  it('checks tokens against the issuer and audience parameters', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: { Ref: 'JwtIssuer' }, Audience: [{ Ref: 'JwtAudience' }] },
    });
  });

  it('has exactly the v1 proxy route and the public GET routes: health, the API description, the console', () => {
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(['ANY /v1/{proxy+}', 'GET /console', 'GET /console/{proxy+}', 'GET /docs', 'GET /healthz', 'GET /openapi.json']);
  });

  it('requires a JWT on /v1 and none on the public routes', () => {
    const authorizerId = Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'))[0];
    const auth = Object.fromEntries(routes.map((route) => [route.RouteKey, [route.AuthorizationType, route.AuthorizerId]]));

    expect(auth).toEqual({
      'ANY /v1/{proxy+}': ['JWT', { Ref: authorizerId }],
      'GET /healthz': ['NONE', undefined],
      'GET /openapi.json': ['NONE', undefined],
      'GET /docs': ['NONE', undefined],
      'GET /console': ['NONE', undefined],
      'GET /console/{proxy+}': ['NONE', undefined],
    });
  });

  it('sends every route to the Api function', () => {
    const apiFunctionId = logicalId(synth.orchestration.functions.Api!);

    expect(routes.map((route) => render(route.Target))).toEqual(routes.map(() => `integrations/<Ref ${integrationId}>`));
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [apiFunctionId, 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
  });

  it('publishes the API URL as an output', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    expect(outputs.ApiUrl?.Value).toEqual({ 'Fn::GetAtt': [logicalId(synth.orchestration.httpApi), 'ApiEndpoint'] });
  });
});

describe('operations', () => {
  const topicRef = () => ({ Ref: logicalId(synth.orchestration.alarmTopic) });
  const alarms = () => Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties!);

  it('sends every alarm to the one operators topic', () => {
    expect(alarms().length).toBeGreaterThan(0);
    expect(alarms().filter((alarm) => JSON.stringify(alarm.AlarmActions) !== JSON.stringify([topicRef()]))).toEqual([]);
  });

  it('subscribes the alarm e-mail parameter to the topic only when one is given', () => {
    const [subscription] = Object.values(resourcesOf(template, 'AWS::SNS::Subscription')) as Array<CfnResource & { Condition?: string }>;

    expect(subscription).toMatchObject({ Condition: 'HasAlarmEmail', Properties: { Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: topicRef() } });
    expect((template.toJSON().Parameters as Record<string, { Default?: string }>).AlarmEmail?.Default).toBe('');
  });

  it.each(FUNCTION_CATALOG.map((fn) => fn.id))('alarms on errors and throttles of %s', (id) => {
    const fnRef = { Ref: logicalId(synth.orchestration.functions[id]!) };
    for (const metricName of ['Errors', 'Throttles']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: fnRef }], Threshold: 1 });
    }
  });

  it('alarms on API 5xx answers and on DynamoDB throttles and system errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
    for (const metricName of ['ThrottledRequests', 'SystemErrors']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/DynamoDB', MetricName: metricName });
    }
  });

  it('logs every API request as JSON and throttles the stage by parameters', () => {
    const [stage] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'));
    const settings = stage!.Properties as { AccessLogSettings: { DestinationArn: unknown; Format: string }; DefaultRouteSettings: Record<string, unknown> };

    expect(JSON.parse(settings.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', path: '$context.path' });
    expect(settings.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: { Ref: 'ThrottlingRateLimit' }, ThrottlingBurstLimit: { Ref: 'ThrottlingBurstLimit' } });
  });

  it('answers CORS preflights for the configured origins before the authorizer', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: { Ref: 'CorsAllowOrigins' }, AllowHeaders: Match.arrayWith(['authorization', 'idempotency-key']) },
    });
  });

  it('names nothing itself, so two stages can live in one account', () => {
    const named = Object.entries(template.toJSON().Resources as Record<string, CfnResource>).flatMap(([id, resource]) =>
      ['FunctionName', 'StateMachineName', 'TopicName', 'RoleName', 'TableName', 'Name']
        // An API's and an authorizer's names are labels inside the API, not account-wide names.
        .filter((key) => !['AWS::ApiGatewayV2::Api', 'AWS::ApiGatewayV2::Authorizer'].includes(resource.Type) && typeof resource.Properties?.[key] === 'string')
        .map((key) => `${id}.${key}`),
    );
    const logGroupNames = Object.values(resourcesOf(template, 'AWS::Logs::LogGroup')).flatMap((group) => (group.Properties?.LogGroupName ? [render(group.Properties.LogGroupName)] : []));

    expect(named).toEqual([]);
    expect(logGroupNames.every((name) => name.includes('<Ref AWS::StackName>'))).toBe(true);
  });
});

describe('self-healing', () => {
  type ScheduleProps = { ScheduleExpression: string; FlexibleTimeWindow: unknown; Target: { Arn: unknown; Input: string; RetryPolicy: unknown; DeadLetterConfig: { Arn: unknown } } };
  /** The schedule whose fixed input names `sweep`. */
  const scheduleOf = (sweep: string) =>
    Object.values(resourcesOf(template, 'AWS::Scheduler::Schedule'))
      .map((schedule) => schedule.Properties as ScheduleProps)
      .find((props) => (JSON.parse(props.Target.Input) as { sweep: string }).sweep === sweep)!;

  it('runs the reconcile sweep every minute with a flexible window, retries and a dead-letter queue', () => {
    const props = scheduleOf('reconcile');

    expect(props.ScheduleExpression).toBe('rate(1 minute)');
    expect(props.FlexibleTimeWindow).toEqual({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: 1 });
    expect(render(props.Target.Arn)).toBe(`<GetAtt ${logicalId(synth.orchestration.functions.Reconcile!)}.Arn>`);
    expect(JSON.parse(props.Target.Input)).toEqual({ sweep: 'reconcile' });
    expect(props.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 2 });
    expect(props.Target.DeadLetterConfig.Arn).toEqual(expect.anything());
  });

  it('runs the volume-cleanup sweep every hour with a flexible window, retries and the same dead-letter queue', () => {
    const props = scheduleOf('volume-cleanup');

    expect(props.ScheduleExpression).toBe('rate(1 hour)');
    expect(props.FlexibleTimeWindow).toEqual({ Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 });
    expect(render(props.Target.Arn)).toBe(`<GetAtt ${logicalId(synth.orchestration.functions.VolumeCleanup!)}.Arn>`);
    expect(props.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 });
    expect(props.Target.DeadLetterConfig.Arn).toEqual(scheduleOf('reconcile').Target.DeadLetterConfig.Arn);
  });

  it('has one lifecycle event bus, named after the stack, and publishes its name', () => {
    const buses = Object.values(resourcesOf(template, 'AWS::Events::EventBus'));
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;

    expect(buses).toHaveLength(1);
    expect(render(buses[0]!.Properties!.Name)).toContain('<Ref AWS::StackName>');
    expect(outputs.LifecycleEventBusName?.Value).toEqual({ Ref: logicalId(synth.orchestration.eventBus) });
  });

  it("hands failed, timed-out and aborted executions of slipway's state machines to the listener", () => {
    const [rule] = Object.values(resourcesOf(template, 'AWS::Events::Rule'));
    const props = rule!.Properties as { EventPattern: { source: string[]; 'detail-type': string[]; detail: { status: string[]; stateMachineArn: unknown[] } }; Targets: Array<{ Arn: unknown }> };

    expect(props.EventPattern.source).toEqual(['aws.states']);
    expect(props.EventPattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
    expect(props.EventPattern.detail.status).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
    expect(props.EventPattern.detail.stateMachineArn.map(render).sort()).toEqual(WORKFLOW_NAMES.map(stateMachineArnOf).sort());
    expect(render(props.Targets[0]!.Arn)).toBe(`<GetAtt ${logicalId(synth.orchestration.functions.ExecutionClosed!)}.Arn>`);
  });

  it.each(['OldestDueAgeSeconds', 'NeedsReconciliation', 'SweepErrors', 'CleanupExhausted', 'DestroyParked', 'VolumeOwnershipUnverified', 'VolumeCleanupExhausted', 'EventPublishFailed'])('alarms on the sweep metric %s', (metricName) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'slipway', MetricName: metricName });
  });

  it('alarms when sweep or listener invocations land in the dead-letter queue', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible' });
  });
});
