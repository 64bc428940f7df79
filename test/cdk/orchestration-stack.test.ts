import { Duration, type CfnElement } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { applySubstitutions, readWorkflowDefinition, variablesIn } from '../../infra/asl';
import { FUNCTION_CATALOG, arnVariable } from '../../infra/function-catalog';
import { SWEEP_HEARTBEAT_METRIC, TABLE_INDEX_NAMES, tableOperations } from '../../infra/orchestration-stack';
import { functionsOf } from '../../infra/workflows';
import { providersSettingSchema } from '../../lambdas/shared/providers-config';
import { settingDefault } from '../../lambdas/shared/config';
import { SWEEP_LIST } from '../../lambdas/sweeps/registry';
import { WORKFLOW_NAMES, stateMachineArnEnvVar, type WorkflowName } from '../../lambdas/shared/workflows';
import { CANCELLABLE_OPERATIONS } from '../../lambdas/domain/cancel-request';
import { ACCOUNT, REGION, TEST_PROVIDERS, render, resourcesOf, synthesize, type CfnResource, type Synthesized } from './support/synth';

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
  // Templates only: no bundle is built here (bundles.test.ts builds and runs them).
  synth = synthesize({ bundle: false, context: { providers: TEST_PROVIDERS } });
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

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('lets %s start, read, stop and inspect exactly the workflows it declares', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const starts = fn.permissions.startsWorkflows ?? [];
    const describes = [...starts, ...(fn.permissions.describesWorkflows ?? [])];
    const inspects = [...(fn.permissions.inspectsWorkflows ?? [])];
    const stops = [...(fn.permissions.stopsWorkflows ?? [])];

    expect(resourcesFor(roleId, 'states:StartExecution')).toEqual(starts.map(stateMachineArnOf).sort());
    expect(resourcesFor(roleId, 'states:DescribeExecution')).toEqual(describes.map(executionsArnOf).sort());
    expect(resourcesFor(roleId, 'states:ListExecutions')).toEqual(inspects.map(stateMachineArnOf).sort());
    expect(resourcesFor(roleId, 'states:GetExecutionHistory')).toEqual(inspects.map(executionsArnOf).sort());
    expect(resourcesFor(roleId, 'states:DescribeStateMachineForExecution')).toEqual(inspects.map(executionsArnOf).sort());
    expect(resourcesFor(roleId, 'states:StopExecution')).toEqual(stops.map(executionsArnOf).sort());
    const stateActions = statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('states:'));
    expect([...new Set(stateActions)].sort()).toEqual(
      [
        ...(describes.length > 0 ? ['states:DescribeExecution'] : []),
        ...(starts.length > 0 ? ['states:StartExecution'] : []),
        ...(stops.length > 0 ? ['states:StopExecution'] : []),
        ...(inspects.length > 0 ? ['states:DescribeStateMachineForExecution', 'states:GetExecutionHistory', 'states:ListExecutions'] : []),
      ].sort(),
    );
  });

  it('lets the Api function and the reconcile sweep stop exactly the cancellable workflows', () => {
    expect(FUNCTION_CATALOG.filter((fn) => (fn.permissions.stopsWorkflows ?? []).length > 0).map((fn) => [fn.id, fn.permissions.stopsWorkflows])).toEqual([
      ['Api', CANCELLABLE_OPERATIONS],
      ['Reconcile', CANCELLABLE_OPERATIONS],
    ]);
  });

  it('lets the Api function inspect every workflow for the operator console', () => {
    expect(FUNCTION_CATALOG.find((fn) => fn.id === 'Api')!.permissions.inspectsWorkflows).toEqual(WORKFLOW_NAMES);
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('gives %s exactly the table actions its catalog entry names', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const tableActions = [...new Set(statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('dynamodb:')))].sort();

    expect(tableActions).toEqual(fn.permissions.table.map((action) => `dynamodb:${action}`).sort());
    for (const action of fn.permissions.table) {
      const expected = action === 'Query' ? ['<table>', ...TABLE_INDEX_NAMES.map((name) => `<table>/index/${name}`)].sort() : ['<table>'];
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

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))("lets %s read every provider's token secret, and decrypt with its key through Secrets Manager, only if it calls a provider", (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const secretArns = resourcesFor(roleId, 'secretsmanager:GetSecretValue').filter((arn) => !arn.startsWith('<Ref CursorKey'));
    const decrypt = statementsOfRole(roleId).filter((s) => list(s.Action).includes('kms:Decrypt'));

    if (fn.permissions.usesProvider) {
      // fly-ams names no secret and gets the default; fly-iad names its own, encrypted with a customer-managed key; fly-fra names a complete ARN.
      expect(secretArns).toEqual([
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:slipway/fly-api-token-??????`,
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:slipway/fly-iad-token-??????`,
        'arn:aws:secretsmanager:eu-west-1:210987654321:secret:slipway/fly-fra-AbC123',
      ]);
      expect(decrypt).toEqual([
        expect.objectContaining({ Effect: 'Allow', Resource: TEST_PROVIDERS.providers[1]!.tokenKmsKeyArn, Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } } }),
      ]);
    } else {
      expect(secretArns).toEqual([]);
      expect(decrypt).toEqual([]);
    }
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
  it('runs every Lambda in the stack on nodejs24.x, one per catalog entry', () => {
    const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));

    expect(functions.map((fn) => fn.Properties?.Runtime)).toEqual(FUNCTION_CATALOG.map(() => 'nodejs24.x'));
  });

  it('names each index the Query grants reach, never index/*', () => {
    expect(TABLE_INDEX_NAMES.length).toBeGreaterThan(0);
    expect(statements.flatMap((g) => list(g.statement.Resource).map(render)).filter((arn) => arn.endsWith('/index/*'))).toEqual([]);
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('builds %s from its catalog entry', (_id, fn) => {
    const props = (template.toJSON().Resources as Record<string, CfnResource>)[logicalId(synth.orchestration.functions[fn.id]!)]!.Properties!;
    const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;

    expect(props).toMatchObject({
      Runtime: 'nodejs24.x',
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
    if (fn.permissions.usesProvider || fn.id === 'Api') expect(JSON.parse(env.PROVIDERS as string)).toEqual(providersSettingSchema.parse(JSON.parse(env.PROVIDERS as string)));
    else expect(env.PROVIDERS).toBeUndefined();
    expect(env.FLY_TOKEN_SECRET_NAME).toBeUndefined();
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

  it('hands the functions the providers validated at synth, each Fly provider naming its secret and none a token', () => {
    const props = (template.toJSON().Resources as Record<string, CfnResource>)[logicalId(synth.orchestration.functions.Reconcile!)]!.Properties!;
    const setting = JSON.parse((props.Environment as { Variables: Record<string, string> }).Variables.PROVIDERS!) as { providers: Array<Record<string, unknown>> };

    expect(setting.providers.map((p) => [p.name, p.tokenSecretName, p.token, p.tokenKmsKeyArn])).toEqual([
      ['fly-ams', 'slipway/fly-api-token', undefined, undefined],
      ['fly-iad', 'slipway/fly-iad-token', undefined, undefined],
      ['fly-fra', TEST_PROVIDERS.providers[2]!.tokenSecretName, undefined, undefined],
    ]);
  });

  it('takes no providers or secret parameter: providers are synth-time input, secrets live in Secrets Manager', () => {
    const parameters = Object.keys(template.toJSON().Parameters as object).filter((name) => name !== 'BootstrapVersion');

    expect(parameters.sort()).toEqual(['AlarmEmail', 'CorsAllowOrigins', 'JwtAudience', 'JwtIssuer', 'JwtJwksUrl', 'ThrottlingBurstLimit', 'ThrottlingRateLimit']);
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

  it('logs errors only, without execution data, to its own log group (the service keeps the full history)', () => {
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

  it('checks the same issuer and audience at the gateway and in the Api function (which applies the gateway\'s aud/client_id rule)', () => {
    const [authorizer] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'));
    const jwt = authorizer!.Properties!.JwtConfiguration as { Issuer: unknown; Audience: unknown[] };
    const env = ((template.toJSON().Resources as Record<string, CfnResource>)[logicalId(synth.orchestration.functions.Api!)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

    expect([env.JWT_ISSUER, env.JWT_AUDIENCE]).toEqual([jwt.Issuer, jwt.Audience[0]]);
    expect(jwt.Audience).toHaveLength(1);
  });

  it('has exactly the v1 proxy routes, one per method served, and the public GET routes: health, the API description, the console', () => {
    expect(routes.map((route) => route.RouteKey).sort()).toEqual([
      'DELETE /v1/{proxy+}',
      'GET /console',
      'GET /console/{proxy+}',
      'GET /docs',
      'GET /healthz',
      'GET /openapi.json',
      'GET /v1/{proxy+}',
      'POST /v1/{proxy+}',
      'PUT /v1/{proxy+}',
    ]);
  });

  it('routes no OPTIONS request anywhere (no OPTIONS, ANY or $default route), so API Gateway answers every preflight itself, before any authorizer', () => {
    const preflightCatchers = routes.map((route) => route.RouteKey as string).filter((key) => key === '$default' || /^(OPTIONS|ANY) /.test(key));

    expect(preflightCatchers).toEqual([]);
  });

  it('answers preflights for the configured origins with exactly the headers the API reads and exposes', () => {
    const [api] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Api'));

    expect(api!.Properties!.CorsConfiguration).toEqual({
      AllowOrigins: { Ref: 'CorsAllowOrigins' },
      AllowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
      AllowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-correlation-id'],
      ExposeHeaders: ['x-correlation-id', 'location', 'retry-after'],
      MaxAge: 3600,
    });
    expect((template.toJSON().Parameters as Record<string, { Type: string; Default: string }>).CorsAllowOrigins).toMatchObject({ Type: 'CommaDelimitedList', Default: '*' });
  });

  it('requires a JWT on /v1 and none on the public routes', () => {
    const authorizerId = Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'))[0];
    const auth = Object.fromEntries(routes.map((route) => [route.RouteKey, [route.AuthorizationType, route.AuthorizerId]]));

    expect(auth).toEqual({
      'GET /v1/{proxy+}': ['JWT', { Ref: authorizerId }],
      'POST /v1/{proxy+}': ['JWT', { Ref: authorizerId }],
      'PUT /v1/{proxy+}': ['JWT', { Ref: authorizerId }],
      'DELETE /v1/{proxy+}': ['JWT', { Ref: authorizerId }],
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

  it('refuses publishes to the alarm topic that do not use TLS', () => {
    const [policy] = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
    const statements = (policy!.Properties!.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement;

    expect(policy!.Properties!.Topics).toEqual([topicRef()]);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
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

  it('alarms on API 5xx answers', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
  });

  it.each(['ThrottledRequests', 'SystemErrors'])('alarms on DynamoDB %s summed over every operation slipway sends, each with the dimensions DynamoDB publishes', (metricName) => {
    type Query = { Id: string; Expression?: string; ReturnData?: boolean; MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> }; Stat: string; Period: number } };
    const alarm = alarms().find((a) => ((a.Metrics ?? []) as Query[]).some((q) => q.MetricStat?.Metric.MetricName === metricName))!;
    const queries = alarm.Metrics as Query[];
    const stats = queries.filter((q) => q.MetricStat);
    const [sum] = queries.filter((q) => q.Expression);

    // The operations the code sends: every catalog table action, and transactions (TransactWriteCommand in the bundles).
    expect(tableOperations()).toEqual(['BatchGetItem', 'GetItem', 'PutItem', 'Query', 'TransactWriteItems', 'UpdateItem']);
    expect(stats.map((q) => q.MetricStat!.Metric.Dimensions.find((d) => d.Name === 'Operation')?.Value).sort()).toEqual(tableOperations());
    for (const q of stats) {
      expect(q.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/DynamoDB', MetricName: metricName }, Stat: 'Sum', Period: 300 });
      expect(q.MetricStat!.Metric.Dimensions.map((d) => d.Name).sort()).toEqual(['Operation', 'TableName']);
      expect(render(q.MetricStat!.Metric.Dimensions.find((d) => d.Name === 'TableName')!.Value)).toMatch(/^<Import slipway-stateful:/);
      expect(q.ReturnData).toBe(false);
    }
    expect(sum!.Expression).toBe(`SUM([${stats.map((q) => q.Id).join(', ')}])`);
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
  });

  it('logs every API request as JSON and throttles the stage by parameters', () => {
    const [stage] = Object.values(resourcesOf(template, 'AWS::ApiGatewayV2::Stage'));
    const settings = stage!.Properties as { AccessLogSettings: { DestinationArn: unknown; Format: string }; DefaultRouteSettings: Record<string, unknown> };

    expect(JSON.parse(settings.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', path: '$context.path' });
    expect(settings.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: { Ref: 'ThrottlingRateLimit' }, ThrottlingBurstLimit: { Ref: 'ThrottlingBurstLimit' } });
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

  it.each(SWEEP_LIST.map((spec) => [spec.name, spec] as const))('schedules the %s sweep of the registry at its period setting\'s default, and raises each alarm its spec names', (name, spec) => {
    const props = scheduleOf(name);
    const alarms = spec.alarms.map((alarm) => alarmNamed(alarm.id));

    expect(props.ScheduleExpression).toBe(ScheduleExpression.rate(Duration.seconds(settingDefault(spec.schedule.variable))).expressionString);
    expect(render(props.Target.Arn)).toBe(`<GetAtt ${logicalId(synth.orchestration.functions[spec.function.id]!)}.Arn>`);
    expect(props.Target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: spec.schedule.maxEventAgeSeconds, MaximumRetryAttempts: 2 });
    expect(alarmNamed(`${spec.function.id}StoppedAlarm`)).toMatchObject({ MetricName: SWEEP_HEARTBEAT_METRIC, Period: spec.stopped.periodSeconds });
    expect(alarms.map((alarm) => [alarm.MetricName, alarm.Statistic, alarm.Threshold, alarm.Dimensions])).toEqual(
      spec.alarms.map((alarm) => [alarm.metric, alarm.statistic, alarm.threshold ?? 1, [{ Name: 'service', Value: 'slipway' }, ...(alarm.perSweep ? [{ Name: 'sweep', Value: name }] : [])]]),
    );
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

  const queueArnOf = (id: string) => `<GetAtt ${Object.keys(resourcesOf(template, 'AWS::SQS::Queue')).find((q) => q.startsWith(id))}.Arn>`;
  const alarmNamed = (id: string) => Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).find(([logical]) => logical.startsWith(id))![1].Properties!;

  it.each(['Reconcile', 'VolumeCleanup', 'ExecutionClosed'])('keeps the event and error of a %s run that threw on every try in the FailedRuns queue', (id) => {
    const configs = Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig')).map((c) => c.Properties as { FunctionName: unknown; MaximumRetryAttempts: number; DestinationConfig: { OnFailure: { Destination: unknown } } });
    const config = configs.find((c) => render(c.FunctionName) === `<Ref ${logicalId(synth.orchestration.functions[id]!)}>`);
    const roleId = logicalId(synth.orchestration.functions[id]!.role!);

    expect(config).toMatchObject({ MaximumRetryAttempts: 2 });
    expect(render(config!.DestinationConfig.OnFailure.Destination)).toBe(queueArnOf('FailedRuns'));
    expect(resourcesFor(roleId, 'sqs:SendMessage')).toEqual([queueArnOf('FailedRuns')]);
  });

  it('gives an on-failure destination only to the functions invoked asynchronously', () => {
    const configured = Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig')).map((c) => render(c.Properties!.FunctionName)).sort();

    expect(configured).toEqual(['Reconcile', 'VolumeCleanup', 'ExecutionClosed'].map((id) => `<Ref ${logicalId(synth.orchestration.functions[id]!)}>`).sort());
  });

  it.each([
    ['FailedRunsAlarm', 'FailedRuns', /threw on every try/],
    ['SweepDeadLettersAlarm', 'SweepDeadLetters', /could not deliver an invocation/],
  ])('%s fires on one message in its queue and says what the queue holds', (alarmId, queueId, says) => {
    const alarm = alarmNamed(alarmId);

    expect(alarm).toMatchObject({ Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(render((alarm.Dimensions as Array<{ Value: unknown }>)[0]!.Value)).toBe(`<GetAtt ${Object.keys(resourcesOf(template, 'AWS::SQS::Queue')).find((q) => q.startsWith(queueId))}.QueueName>`);
    expect(alarm.AlarmDescription).toMatch(says);
  });

  it.each([
    ['ReconcileStoppedAlarm', 'reconcile', 300],
    ['VolumeCleanupStoppedAlarm', 'volume-cleanup', 3600],
  ])('%s fires when the %s sweep records no heartbeat for two periods: missing data is breaching', (alarmId, sweep, period) => {
    expect(alarmNamed(alarmId)).toMatchObject({
      Namespace: 'slipway',
      MetricName: SWEEP_HEARTBEAT_METRIC,
      Dimensions: [
        { Name: 'service', Value: 'slipway' },
        { Name: 'sweep', Value: sweep },
      ],
      Statistic: 'SampleCount',
      Period: period,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('treats missing data as breaching only on the heartbeats', () => {
    const breaching = Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
      .filter(([, alarm]) => alarm.Properties!.TreatMissingData === 'breaching')
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));

    expect(breaching.sort()).toEqual(['ReconcileStoppedAlarm', 'VolumeCleanupStoppedAlarm']);
  });
});
