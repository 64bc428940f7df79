import type { CfnElement } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { applySubstitutions, readWorkflowDefinition, variablesIn } from '../../infra/asl';
import { FUNCTION_CATALOG, arnVariable } from '../../infra/function-catalog';
import { functionsOf, stateMachineNameOf } from '../../infra/workflows';
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
const stateMachineArnOf = (workflow: WorkflowName) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineNameOf(workflow)}`;
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

  it('grants no wildcard action and no "*" resource, except the Step Functions log delivery statement', () => {
    const isLogDeliveryException = (g: Granted) =>
      g.statement.Effect === 'Allow' &&
      g.statement.Resource === '*' &&
      JSON.stringify([...list(g.statement.Action)].sort()) === JSON.stringify(LOG_DELIVERY_ACTIONS) &&
      g.roles.length > 0 &&
      g.roles.every((role) => stateMachineRoles.has(role));

    const problems = statements
      .filter((g) => !isLogDeliveryException(g))
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
      .filter((action) => action !== 'lambda:InvokeFunction' && !LOG_DELIVERY_ACTIONS.includes(action));
    expect(otherActions).toEqual([]);
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('lets %s start and read exactly the workflows it declares', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const starts = fn.permissions.startsWorkflows ?? [];

    expect(resourcesFor(roleId, 'states:StartExecution')).toEqual(starts.map(stateMachineArnOf).sort());
    expect(resourcesFor(roleId, 'states:DescribeExecution')).toEqual(
      starts.map((wf) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${stateMachineNameOf(wf)}:*`).sort(),
    );
    const stateActions = statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('states:'));
    if (starts.length === 0) expect(stateActions).toEqual([]);
  });

  it('lets the Api function start only its workflows, each a state machine the stack names so', () => {
    const roleId = logicalId(synth.orchestration.functions.Api!.role!);
    const starts = FUNCTION_CATALOG.find((fn) => fn.id === 'Api')?.permissions.startsWorkflows ?? [];
    const names = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine')).map((sm) => sm.Properties?.StateMachineName);

    expect(starts).toContain('provision');
    expect(resourcesFor(roleId, 'states:StartExecution')).toEqual(starts.map(stateMachineArnOf).sort());
    expect(names).toEqual(expect.arrayContaining(starts.map((wf) => stateMachineNameOf(wf))));
  });

  it.each(FUNCTION_CATALOG.map((fn) => [fn.id, fn] as const))('gives %s the table access its catalog entry names, on the table and its indexes', (_id, fn) => {
    const roleId = logicalId(synth.orchestration.functions[fn.id]!.role!);
    const tableActions = statementsOfRole(roleId).flatMap((s) => list(s.Action)).filter((action) => action.startsWith('dynamodb:'));

    expect(tableActions).toContain('dynamodb:Query');
    if (fn.permissions.table === 'readWrite') expect(tableActions).toContain('dynamodb:PutItem');
    else expect(tableActions).not.toContain('dynamodb:PutItem');
    expect(resourcesFor(roleId, 'dynamodb:Query').map((r) => r.replace(/<Import [^>]+>/, '<table>'))).toEqual(['<table>', '<table>/index/*']);
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
    expect(env).toMatchObject({ POWERTOOLS_SERVICE_NAME: 'slipway', LOG_LEVEL: 'INFO' });
    expect(render(env.TABLE_NAME)).toMatch(/^<Import slipway-stateful:/);
    const starts = fn.permissions.startsWorkflows ?? [];
    for (const workflow of starts) expect(render(env[stateMachineArnEnvVar(workflow)])).toBe(stateMachineArnOf(workflow));
    const stateMachineVars = Object.keys(env).filter((name) => name.endsWith('_STATE_MACHINE_ARN'));
    expect(stateMachineVars.sort()).toEqual(starts.map(stateMachineArnEnvVar).sort());
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

  it('is a named Standard state machine with the workflow file as its definition', () => {
    expect(props.StateMachineName).toBe(stateMachineNameOf(workflow));
    expect(props.StateMachineType).toBe('STANDARD');
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

  it.each(['ExecutionsFailed', 'ExecutionsTimedOut'])('raises an alarm on one %s in five minutes', (metricName) => {
    const id = logicalId(synth.orchestration.workflows[workflow].stateMachine);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
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

  it('has exactly the v1 proxy route and the three public GET routes', () => {
    expect(routes.map((route) => route.RouteKey).sort()).toEqual(['ANY /v1/{proxy+}', 'GET /docs', 'GET /healthz', 'GET /openapi.json']);
  });

  it('requires a JWT on /v1 and none on the public routes', () => {
    const authorizerId = Object.keys(resourcesOf(template, 'AWS::ApiGatewayV2::Authorizer'))[0];
    const auth = Object.fromEntries(routes.map((route) => [route.RouteKey, [route.AuthorizationType, route.AuthorizerId]]));

    expect(auth).toEqual({
      'ANY /v1/{proxy+}': ['JWT', { Ref: authorizerId }],
      'GET /healthz': ['NONE', undefined],
      'GET /openapi.json': ['NONE', undefined],
      'GET /docs': ['NONE', undefined],
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
