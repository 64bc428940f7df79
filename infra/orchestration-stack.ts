import { Annotations, Aws, CfnCondition, CfnOutput, CfnParameter, Duration, Fn, RemovalPolicy, Stack, type CfnParameterProps, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { createTableInput } from '../lambdas/adapters/table-definition';
import { WORKFLOW_NAMES, stateMachineArnEnvVar, type WorkflowName } from '../lambdas/shared/workflows';
import { settingDefault } from '../lambdas/shared/config';
import { SWEEP_LIST } from '../lambdas/sweeps/registry';
import { SWEEP_HEARTBEAT_METRIC } from '../lambdas/sweeps/spec';
import { ALARM_PERIOD, heartbeatAlarm, notifyingAlarm } from './constructs/alarms';
import type { DeployedProviders, ProviderSecret } from './deploy-providers';
import { CatalogFunction } from './constructs/catalog-function';
import { Workflow } from './constructs/workflow';
import { FUNCTION_CATALOG, type FunctionDefinition } from './function-catalog';
import { workflowsInvoking } from './workflows';

/** Properties of the orchestration stack. */
export interface OrchestrationStackProps extends StackProps {
  /** The table from the stateful stack. */
  table: dynamodb.ITable;
  /** Handler log level; INFO unless set. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** The compute providers, validated at synth (`infra/deploy-providers.ts`); none: every provision is refused. */
  providers?: DeployedProviders;
}

/** The catalog id of the function behind the HTTP API. */
const API_FUNCTION_ID = 'Api';

/** The metric every sweep run that holds its lease records (its absence is how a stopped sweep is noticed); declared with the sweeps. */
export { SWEEP_HEARTBEAT_METRIC } from '../lambdas/sweeps/spec';

/** The methods /v1 serves; OPTIONS is deliberately absent (API Gateway answers preflights itself). */
export const V1_METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;
/** Request headers browsers may send cross-origin: the token, the body's type, admission's key and a caller's correlation id. */
export const CORS_ALLOW_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'x-correlation-id'] as const;
/** Response headers cross-origin scripts may read. */
export const CORS_EXPOSE_HEADERS = ['x-correlation-id', 'location', 'retry-after'] as const;

/** Names of the deploy-time parameters (`npx cdk deploy --parameters slipway-orchestration:<name>=...`). */
export const PARAMETER_NAMES = {
  jwtIssuer: 'JwtIssuer',
  jwtAudience: 'JwtAudience',
  jwksUrl: 'JwtJwksUrl',
  alarmEmail: 'AlarmEmail',
  corsAllowOrigins: 'CorsAllowOrigins',
  throttlingRateLimit: 'ThrottlingRateLimit',
  throttlingBurstLimit: 'ThrottlingBurstLimit',
} as const;

/**
 * The stateless half of slipway: a Lambda per catalog entry, a Standard state machine per workflow,
 * the HTTP API with its JWT authorizer, and alarms that notify one topic. Everything here can be
 * replaced on deploy, and nothing has a fixed physical name, so two stages can share an account.
 */
export class OrchestrationStack extends Stack {
  /** Functions by catalog id. */
  readonly functions: Readonly<Record<string, NodejsFunction>>;
  /** Workflows by name. */
  readonly workflows: Readonly<Record<WorkflowName, Workflow>>;
  readonly httpApi: apigwv2.HttpApi;
  /** The routes that take no token (health, API description, console page). */
  readonly publicRoutes: apigwv2.HttpRoute[] = [];
  /** Where every alarm notifies operators. */
  readonly alarmTopic: sns.Topic;
  /** Where lifecycle events go (recovery started/succeeded/failed, volume retained/deleted); users subscribe with rules. */
  readonly eventBus: events.EventBus;

  constructor(scope: Construct, id: string, props: OrchestrationStackProps) {
    super(scope, id, props);
    const logRetention = logs.RetentionDays.ONE_MONTH;
    const parameters = this.parameters();

    // Publishers must use TLS (a topic policy denies aws:SecureTransport false).
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'slipway alarms', enforceSSL: true });
    // An e-mail subscription only when an address is given.
    const hasEmail = new CfnCondition(this, 'HasAlarmEmail', { expression: Fn.conditionNot(Fn.conditionEquals(parameters.alarmEmail, '')) });
    const subscription = new sns.CfnSubscription(this, 'AlarmEmailSubscription', { topicArn: this.alarmTopic.topicArn, protocol: 'email', endpoint: parameters.alarmEmail });
    subscription.cfnOptions.condition = hasEmail;

    // Providers were validated at synth; their setting names secrets, never tokens, so it may sit in
    // the template and the environment. Without providers every provision is refused (unknown_provider).
    const providersSetting = props.providers === undefined ? undefined : JSON.stringify(props.providers.setting);
    if (props.providers === undefined) Annotations.of(this).addInfo('No providers configured (context providersFile or providers): every provision will be refused with unknown_provider');
    const providerSecrets = this.providerSecrets(props.providers?.secrets ?? []);
    // Named after the stack (a token, not a fixed name), so two stages keep two buses.
    this.eventBus = new events.EventBus(this, 'LifecycleEventBus', { eventBusName: Fn.join('-', [Aws.STACK_NAME, 'lifecycle']), description: 'slipway lifecycle events' });
    // Pagination cursors are sealed with a key only the API holds: a secret CloudFormation generates
    // (so it is in no template, parameter or environment variable), read by the Api function alone.
    const cursorKey = new secretsmanager.Secret(this, 'CursorKey', {
      description: 'Seals the API pagination cursors (AES-256-GCM, key derived with HKDF); replacing it only invalidates cursors in flight',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const executionConsoleUrlPrefix = `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/v2/executions/details/`;

    const functions: Record<string, NodejsFunction> = {};
    for (const definition of FUNCTION_CATALOG) {
      assertNoCycle(definition);
      assertStopsKnown(definition);
      const starts = definition.permissions.startsWorkflows ?? [];
      const environment: Record<string, string> = { TABLE_NAME: props.table.tableName };
      // Operators follow an operation from the API answer straight to its execution in the console.
      if (starts.length > 0) environment.EXECUTION_CONSOLE_URL_PREFIX = executionConsoleUrlPrefix;
      if ((definition.permissions.usesProvider || definition.id === API_FUNCTION_ID) && providersSetting !== undefined) environment.PROVIDERS = providersSetting;
      if (definition.id === API_FUNCTION_ID) {
        Object.assign(environment, { JWT_ISSUER: parameters.jwtIssuer, JWT_AUDIENCE: parameters.jwtAudience, JWT_JWKS_URL: parameters.jwksUrl, CURSOR_SECRET_NAME: cursorKey.secretArn });
      }
      if (definition.permissions.publishesEvents) environment.EVENT_BUS_NAME = this.eventBus.eventBusName;
      const built = new CatalogFunction(this, definition.id, { definition, environment, logLevel: props.logLevel ?? 'INFO', logRetention });
      grantTableActions(built.function, props.table, definition);
      if (definition.id === API_FUNCTION_ID) cursorKey.grantRead(built.function);
      if (definition.permissions.usesProvider) for (const grant of providerSecrets) grant(built.function);
      if (definition.permissions.publishesEvents) this.eventBus.grantPutEventsTo(built.function);
      this.functionAlarms(definition.id, built.function);
      functions[definition.id] = built.function;
    }
    this.functions = functions;

    const workflows = {} as Record<WorkflowName, Workflow>;
    for (const workflow of WORKFLOW_NAMES) {
      const built = new Workflow(this, `${pascal(workflow)}Workflow`, { workflow, functions, logRetention, alarmTopic: this.alarmTopic });
      workflows[workflow] = built;
      new CfnOutput(this, `${pascal(workflow)}StateMachineArn`, { description: `ARN of the ${workflow} state machine`, value: built.stateMachine.stateMachineArn });
    }
    this.workflows = workflows;

    // Functions that start (or describe) workflows learn their ARNs now that CloudFormation names them.
    for (const definition of FUNCTION_CATALOG) {
      const fn = functions[definition.id]!;
      for (const workflow of definition.permissions.startsWorkflows ?? []) {
        const stateMachine = workflows[workflow].stateMachine;
        fn.addEnvironment(stateMachineArnEnvVar(workflow), stateMachine.stateMachineArn);
        iam.Grant.addToPrincipal({ grantee: fn, actions: ['states:StartExecution'], resourceArns: [stateMachine.stateMachineArn] });
      }
      for (const workflow of [...(definition.permissions.startsWorkflows ?? []), ...(definition.permissions.describesWorkflows ?? [])]) {
        const stateMachine = workflows[workflow].stateMachine;
        if (!(definition.permissions.startsWorkflows ?? []).includes(workflow)) fn.addEnvironment(stateMachineArnEnvVar(workflow), stateMachine.stateMachineArn);
        iam.Grant.addToPrincipal({ grantee: fn, actions: ['states:DescribeExecution'], resourceArns: [executionsArnOf(this, stateMachine.stateMachineName)] });
      }
      for (const workflow of definition.permissions.stopsWorkflows ?? []) {
        iam.Grant.addToPrincipal({ grantee: fn, actions: ['states:StopExecution'], resourceArns: [executionsArnOf(this, workflows[workflow].stateMachine.stateMachineName)] });
      }
      // The operator console: list executions (on the state machine), read histories and the definition each ran (on its executions).
      for (const workflow of definition.permissions.inspectsWorkflows ?? []) {
        const stateMachine = workflows[workflow].stateMachine;
        const known = [...(definition.permissions.startsWorkflows ?? []), ...(definition.permissions.describesWorkflows ?? [])];
        if (!known.includes(workflow)) fn.addEnvironment(stateMachineArnEnvVar(workflow), stateMachine.stateMachineArn);
        iam.Grant.addToPrincipal({ grantee: fn, actions: ['states:ListExecutions'], resourceArns: [stateMachine.stateMachineArn] });
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: ['states:GetExecutionHistory', 'states:DescribeStateMachineForExecution'],
          resourceArns: [executionsArnOf(this, stateMachine.stateMachineName)],
        });
      }
    }

    this.sweeps(functions, workflows);

    this.httpApi = this.api(functions[API_FUNCTION_ID]!, parameters, logRetention);
    this.tableAlarms(props.table);
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: this.httpApi.apiEndpoint });
    new CfnOutput(this, 'AlarmTopicArn', { description: 'SNS topic every alarm notifies; subscribe operators to it', value: this.alarmTopic.topicArn });
    new CfnOutput(this, 'LifecycleEventBusName', { description: 'EventBridge bus of lifecycle events (source slipway); subscribe with rules on it', value: this.eventBus.eventBusName });
    new CfnOutput(this, 'LifecycleEventBusArn', { description: 'ARN of the lifecycle event bus', value: this.eventBus.eventBusArn });
  }

  /**
   * Who may read each provider's token: GetSecretValue on exactly the secrets the providers name
   * (a name matches its ARN's random suffix), and kms:Decrypt on a customer-managed key through
   * Secrets Manager only, where one encrypts the secret.
   */
  private providerSecrets(secrets: readonly ProviderSecret[]): Array<(grantee: iam.IGrantable) => void> {
    const seen = new Map<string, secretsmanager.ISecret>();
    return secrets.flatMap(({ secret, kmsKeyArn }) => {
      const grants: Array<(grantee: iam.IGrantable) => void> = [];
      if (!seen.has(secret)) {
        const id = `ProviderSecret${seen.size}`;
        // An ARN is complete (deploy-providers checks it); a name is granted with any random suffix.
        const imported = secret.startsWith('arn:') ? secretsmanager.Secret.fromSecretCompleteArn(this, id, secret) : secretsmanager.Secret.fromSecretNameV2(this, id, secret);
        seen.set(secret, imported);
        grants.push((grantee) => imported.grantRead(grantee));
      }
      if (kmsKeyArn !== undefined) {
        grants.push((grantee) =>
          iam.Grant.addToPrincipal({ grantee, actions: ['kms:Decrypt'], resourceArns: [kmsKeyArn], conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } } }),
        );
      }
      return grants;
    });
  }

  /** Deploy-time parameters: identity provider, compute providers, alarms and API edge are chosen per deployment. */
  private parameters() {
    const text = (name: string, options: CfnParameterProps) => new CfnParameter(this, name, { type: 'String', ...options });
    return {
      jwtIssuer: text(PARAMETER_NAMES.jwtIssuer, {
        description: 'OIDC issuer URL the HTTP API trusts (the token `iss`), e.g. https://example.eu.auth0.com/',
        allowedPattern: '^https://.+',
        constraintDescription: 'must be an https:// URL',
      }).valueAsString,
      jwtAudience: text(PARAMETER_NAMES.jwtAudience, { description: 'Audience the tokens must carry (the token `aud`)', minLength: 1 }).valueAsString,
      jwksUrl: text(PARAMETER_NAMES.jwksUrl, {
        description: "URL of the issuer's signing keys (OIDC jwks_uri), used by the api function's own checks",
        allowedPattern: '^https://.+',
        constraintDescription: 'must be an https:// URL',
      }).valueAsString,
      alarmEmail: text(PARAMETER_NAMES.alarmEmail, { description: 'E-mail address subscribed to the alarm topic (empty: none)', default: '' }).valueAsString,
      corsAllowOrigins: new CfnParameter(this, PARAMETER_NAMES.corsAllowOrigins, {
        type: 'CommaDelimitedList',
        description: 'Origins browsers may call the API from (CORS); * for any (tokens travel in headers, never cookies)',
        default: '*',
      }).valueAsList,
      throttlingRateLimit: new CfnParameter(this, PARAMETER_NAMES.throttlingRateLimit, { type: 'Number', description: 'Steady requests per second the API stage accepts', default: 100 }).valueAsNumber,
      throttlingBurstLimit: new CfnParameter(this, PARAMETER_NAMES.throttlingBurstLimit, { type: 'Number', description: 'Burst of requests the API stage accepts', default: 200 }).valueAsNumber,
    };
  }

  /** The HTTP API: JWT on /v1, public health and docs, CORS, throttling and JSON access logs on the stage. */
  private api(apiFunction: NodejsFunction, parameters: ReturnType<OrchestrationStack['parameters']>, logRetention: logs.RetentionDays): apigwv2.HttpApi {
    const httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'slipway control plane API',
      // API Gateway answers a preflight itself only when no route matches OPTIONS: an `ANY` route
      // behind the JWT authorizer would take it and answer 401 (AWS: "Configure CORS for HTTP APIs",
      // https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html). So /v1 has
      // one route per method it serves and none for OPTIONS; the browser's preflight never reaches
      // the authorizer or the function. Origins are a deploy parameter.
      corsPreflight: {
        allowOrigins: parameters.corsAllowOrigins,
        allowMethods: V1_METHODS.map((method) => apigwv2.CorsHttpMethod[method]),
        allowHeaders: [...CORS_ALLOW_HEADERS],
        exposeHeaders: [...CORS_EXPOSE_HEADERS],
        maxAge: Duration.hours(1),
      },
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', apiFunction);
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', parameters.jwtIssuer, { jwtAudience: [parameters.jwtAudience] });
    httpApi.addRoutes({ path: '/v1/{proxy+}', methods: V1_METHODS.map((method) => apigwv2.HttpMethod[method]), integration, authorizer });
    // Public: health checks, the API description and the operator console's page and assets need no
    // token (every data call the console makes goes to /v1/admin, which does).
    for (const publicPath of ['/healthz', '/openapi.json', '/docs', '/console', '/console/{proxy+}']) this.publicRoutes.push(...httpApi.addRoutes({ path: publicPath, methods: [apigwv2.HttpMethod.GET], integration }));

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const stage = httpApi.defaultStage!.node.defaultChild as apigwv2.CfnStage;
    stage.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        method: '$context.httpMethod',
        path: '$context.path',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
        sub: '$context.authorizer.claims.sub',
      }),
    };
    stage.defaultRouteSettings = { throttlingRateLimit: parameters.throttlingRateLimit, throttlingBurstLimit: parameters.throttlingBurstLimit };

    notifyingAlarm(this, 'Api5xxAlarm', {
      metric: httpApi.metricServerError({ period: ALARM_PERIOD, statistic: 'Sum' }),
      description: 'slipway API: at least one 5xx answer in 5 minutes',
      topic: this.alarmTopic,
    });
    return httpApi;
  }

  /**
   * Self-healing: EventBridge Scheduler runs each sweep of the registry (`lambdas/sweeps/registry.ts`:
   * reconcile every minute, volume cleanup every hour) in its flexible window, with retries, and
   * raises the alarms its spec names; an EventBridge rule hands every failed, timed-out
   * or aborted execution of slipway's state machines to the listener at once. All three invoke
   * asynchronously, so two queues keep what fails: the targets' dead-letter queue holds invocations
   * Scheduler or EventBridge could not deliver; each function's on-failure destination holds the
   * runs whose handler threw after Lambda's own retries (Lambda discards those otherwise).
   */
  private sweeps(functions: Record<string, NodejsFunction>, workflows: Record<WorkflowName, Workflow>): void {
    const deadLetters = new sqs.Queue(this, 'SweepDeadLetters', { retentionPeriod: Duration.days(14), enforceSSL: true });
    const failedRuns = new sqs.Queue(this, 'FailedRuns', { retentionPeriod: Duration.days(14), enforceSSL: true });
    // A run that throws is retried twice by Lambda, then its event (with the error) is kept.
    const keepFailures = (fn: NodejsFunction, maxEventAge: Duration) =>
      fn.configureAsyncInvoke({ onFailure: new lambdaDestinations.SqsDestination(failedRuns), retryAttempts: 2, maxEventAge });
    // Each sweep: EventBridge Scheduler with a flexible window, 2 retries and the dead-letter queue.
    const sweepSchedule = (id: string, fn: NodejsFunction, sweep: string, every: Duration, window: Duration, maxEventAge: Duration) => {
      keepFailures(fn, maxEventAge);
      return new scheduler.Schedule(this, id, {
        description: `slipway ${sweep} sweep`,
        schedule: scheduler.ScheduleExpression.rate(every),
        timeWindow: scheduler.TimeWindow.flexible(window),
        target: new schedulerTargets.LambdaInvoke(fn, { input: scheduler.ScheduleTargetInput.fromObject({ sweep }), deadLetterQueue: deadLetters, retryAttempts: 2, maxEventAge }),
      });
    };
    keepFailures(functions.ExecutionClosed!, Duration.hours(1));
    new events.Rule(this, 'ExecutionClosedRule', {
      description: 'slipway: failed, timed-out or aborted executions, settled at once',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: Object.values(workflows).map((w) => w.stateMachine.stateMachineArn) },
      },
      targets: [new eventsTargets.LambdaFunction(functions.ExecutionClosed!, { deadLetterQueue: deadLetters, retryAttempts: 4, maxEventAge: Duration.hours(1) })],
    });
    notifyingAlarm(this, 'SweepDeadLettersAlarm', {
      metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      description: 'slipway: EventBridge Scheduler or the execution-closed rule could not deliver an invocation to its function (throttled, deleted or not permitted); the messages in SweepDeadLetters say which. Failures of the handlers themselves go to FailedRuns',
      topic: this.alarmTopic,
    });
    notifyingAlarm(this, 'FailedRunsAlarm', {
      metric: failedRuns.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      description: 'slipway: a sweep or listener run threw on every try (Lambda retried it twice); its event and error are in the FailedRuns queue',
      topic: this.alarmTopic,
    });
    // Each sweep from its spec: its schedule, its "stopped" alarm and the alarms on its metrics.
    // A sweep that stopped running publishes nothing, which a "missing is fine" alarm never notices:
    // every run that holds its lease records SweepDuration, and no sample for two periods is an alarm.
    for (const sweep of SWEEP_LIST) {
      const fn = functions[sweep.function.id]!;
      const { schedule } = sweep;
      // On AWS the sweep runs at its period setting's default (the deployed function keeps that default too).
      const every = Duration.seconds(settingDefault(schedule.variable));
      sweepSchedule(`${sweep.function.id}Schedule`, fn, sweep.name, every, Duration.seconds(schedule.windowSeconds), Duration.seconds(schedule.maxEventAgeSeconds));
      heartbeatAlarm(this, `${sweep.function.id}StoppedAlarm`, {
        metric: new cloudwatch.Metric({ namespace: 'slipway', metricName: SWEEP_HEARTBEAT_METRIC, dimensionsMap: { service: 'slipway', sweep: sweep.name }, period: Duration.seconds(sweep.stopped.periodSeconds), statistic: 'SampleCount' }),
        description: sweep.stopped.description,
        topic: this.alarmTopic,
      });
      for (const alarm of sweep.alarms) {
        notifyingAlarm(this, alarm.id, {
          metric: new cloudwatch.Metric({ namespace: 'slipway', metricName: alarm.metric, dimensionsMap: { service: 'slipway', ...(alarm.perSweep ? { sweep: sweep.name } : {}) }, period: ALARM_PERIOD, statistic: alarm.statistic }),
          threshold: alarm.threshold,
          description: alarm.description,
          topic: this.alarmTopic,
        });
      }
    }
    notifyingAlarm(this, 'EventPublishFailedAlarm', {
      metric: new cloudwatch.Metric({ namespace: 'slipway', metricName: 'EventPublishFailed', dimensionsMap: { service: 'slipway' }, period: ALARM_PERIOD, statistic: 'Sum' }),
      description: 'slipway: lifecycle events could not be put on the event bus',
      topic: this.alarmTopic,
    });
  }

  /** Errors and throttles of one function raise alarms. */
  private functionAlarms(id: string, fn: NodejsFunction): void {
    notifyingAlarm(this, `${id}ErrorsAlarm`, { metric: fn.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }), description: `slipway ${id}: invocation errors in 5 minutes`, topic: this.alarmTopic });
    notifyingAlarm(this, `${id}ThrottlesAlarm`, { metric: fn.metricThrottles({ period: ALARM_PERIOD, statistic: 'Sum' }), description: `slipway ${id}: throttled invocations in 5 minutes`, topic: this.alarmTopic });
  }

  /**
   * Throttled requests and system errors of the table raise alarms. DynamoDB publishes both per
   * `Operation` (with `TableName`), never per table alone, so each alarm sums the operations
   * slipway sends: the catalog's table actions plus the transactions (which IAM authorises as their
   * items' actions, and CloudWatch counts under their own name).
   */
  private tableAlarms(table: dynamodb.ITable): void {
    const operations = tableOperations();
    // A metric math alarm takes at most 10 metrics.
    if (operations.length > 10) throw new Error(`tableAlarms: ${operations.length} operations exceed the 10 metrics an alarm may sum; split the alarm`);
    const summed = (metricName: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SUM([${operations.map((_, i) => `m${i}`).join(', ')}])`,
        usingMetrics: Object.fromEntries(
          operations.map((operation, i) => [`m${i}`, new cloudwatch.Metric({ namespace: 'AWS/DynamoDB', metricName, dimensionsMap: { TableName: table.tableName, Operation: operation }, period: ALARM_PERIOD, statistic: 'Sum' })]),
        ),
        label,
        period: ALARM_PERIOD,
      });
    notifyingAlarm(this, 'TableThrottlesAlarm', { metric: summed('ThrottledRequests', 'Throttled requests, all operations'), description: 'slipway table: throttled requests in 5 minutes (any operation)', topic: this.alarmTopic });
    notifyingAlarm(this, 'TableSystemErrorsAlarm', { metric: summed('SystemErrors', 'System errors, all operations'), description: 'slipway table: DynamoDB system errors in 5 minutes (any operation)', topic: this.alarmTopic });
  }
}

/** Operations slipway's code sends to the table, as DynamoDB's `Operation` metric dimension names them. */
export function tableOperations(): string[] {
  const actions = new Set<string>(FUNCTION_CATALOG.flatMap((definition) => definition.permissions.table));
  // Admission, claims and settles write several items at once (TransactWriteCommand).
  return [...actions, 'TransactWriteItems'].sort();
}

/** A function stops only executions whose ARNs it knows: of workflows it starts or describes. */
function assertStopsKnown(definition: FunctionDefinition): void {
  const known = [...(definition.permissions.startsWorkflows ?? []), ...(definition.permissions.describesWorkflows ?? [])];
  const unknown = (definition.permissions.stopsWorkflows ?? []).filter((workflow) => !known.includes(workflow));
  if (unknown.length > 0) throw new Error(`${definition.id} stops ${unknown.join(', ')} without starting or describing them`);
}

/** A function that both starts and is invoked by workflows would make a CloudFormation cycle (ARN references). */
function assertNoCycle(definition: FunctionDefinition): void {
  if ((definition.permissions.startsWorkflows ?? []).length > 0 && workflowsInvoking(definition.id).length > 0) {
    throw new Error(`${definition.id} both starts workflows and runs in one: split it, or name the state machines`);
  }
}

/** Exactly the table actions the catalog entry names; Query also on each index, by name. */
function grantTableActions(grantee: iam.IGrantable, table: dynamodb.ITable, definition: FunctionDefinition): void {
  const actions = definition.permissions.table;
  if (actions.length === 0) return;
  iam.Grant.addToPrincipal({ grantee, actions: actions.map((action) => `dynamodb:${action}`), resourceArns: [table.tableArn] });
  if (actions.includes('Query')) iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: TABLE_INDEX_NAMES.map((name) => `${table.tableArn}/index/${name}`) });
}

/** The table's global secondary indexes, from the definition both worlds create the table from. */
export const TABLE_INDEX_NAMES: readonly string[] = createTableInput('unused').GlobalSecondaryIndexes.map((index) => index.IndexName);

/** The ARN pattern of one state machine's executions. */
function executionsArnOf(stack: Stack, stateMachineName: string): string {
  return `arn:${Aws.PARTITION}:states:${stack.region}:${stack.account}:execution:${stateMachineName}:*`;
}


/** `switchProvider` → `SwitchProvider`, for construct ids and output names. */
function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
