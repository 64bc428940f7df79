import { Arn, ArnFormat, CfnOutput, CfnParameter, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { CatalogFunction } from './constructs/catalog-function';
import { Workflow } from './constructs/workflow';
import { WORKFLOW_NAMES, stateMachineArnEnvVar, type WorkflowName } from '../lambdas/shared/workflows';
import { FUNCTION_CATALOG } from './function-catalog';
import { stateMachineNameOf } from './workflows';

/** Properties of the orchestration stack. */
export interface OrchestrationStackProps extends StackProps {
  /** The table from the stateful stack. */
  table: dynamodb.ITable;
  /** Handler log level; INFO unless set. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/** The catalog id of the function behind the HTTP API. */
const API_FUNCTION_ID = 'Api';

/** Names of the deploy-time parameters (`npx cdk deploy --parameters slipway-orchestration:<name>=...`). */
export const PARAMETER_NAMES = {
  jwtIssuer: 'JwtIssuer',
  jwtAudience: 'JwtAudience',
  jwksUrl: 'JwtJwksUrl',
} as const;

/**
 * The stateless half of slipway: a Lambda per catalog entry, a Standard state machine per workflow,
 * the HTTP API with its JWT authorizer, and alarms. Everything here can be replaced on deploy.
 */
export class OrchestrationStack extends Stack {
  /** Functions by catalog id. */
  readonly functions: Readonly<Record<string, NodejsFunction>>;
  /** Workflows by name. */
  readonly workflows: Readonly<Record<WorkflowName, Workflow>>;
  readonly httpApi: apigwv2.HttpApi;

  constructor(scope: Construct, id: string, props: OrchestrationStackProps) {
    super(scope, id, props);
    const logRetention = logs.RetentionDays.ONE_MONTH;

    // Deploy-time parameters: the identity provider is chosen per deployment, not per build.
    const jwtIssuer = new CfnParameter(this, PARAMETER_NAMES.jwtIssuer, {
      type: 'String',
      description: 'OIDC issuer URL the HTTP API trusts (the token `iss`), e.g. https://example.eu.auth0.com/',
      allowedPattern: '^https://.+',
      constraintDescription: 'must be an https:// URL',
    }).valueAsString;
    const jwtAudience = new CfnParameter(this, PARAMETER_NAMES.jwtAudience, {
      type: 'String',
      description: 'Audience the tokens must carry (the token `aud`)',
      minLength: 1,
    }).valueAsString;
    const jwksUrl = new CfnParameter(this, PARAMETER_NAMES.jwksUrl, {
      type: 'String',
      description: "URL of the issuer's signing keys (OIDC jwks_uri), used by the api function's own checks",
      allowedPattern: '^https://.+',
      constraintDescription: 'must be an https:// URL',
    }).valueAsString;

    // State machine ARNs are built from their fixed names rather than referenced: a function may
    // then both start a workflow and be invoked by one without a CloudFormation dependency cycle.
    const workflowArns = (workflow: WorkflowName) => ({
      stateMachine: Arn.format(
        { service: 'states', resource: 'stateMachine', resourceName: stateMachineNameOf(workflow), arnFormat: ArnFormat.COLON_RESOURCE_NAME },
        this,
      ),
      executions: Arn.format(
        { service: 'states', resource: 'execution', resourceName: `${stateMachineNameOf(workflow)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
        this,
      ),
    });

    const executionConsoleUrlPrefix = `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/v2/executions/details/`;

    const functions: Record<string, NodejsFunction> = {};
    for (const definition of FUNCTION_CATALOG) {
      const starts = definition.permissions.startsWorkflows ?? [];
      const environment: Record<string, string> = { TABLE_NAME: props.table.tableName };
      for (const workflow of starts) environment[stateMachineArnEnvVar(workflow)] = workflowArns(workflow).stateMachine;
      // Operators follow an operation from the API answer straight to its execution in the console.
      if (starts.length > 0) environment.EXECUTION_CONSOLE_URL_PREFIX = executionConsoleUrlPrefix;
      if (definition.id === API_FUNCTION_ID) {
        Object.assign(environment, { JWT_ISSUER: jwtIssuer, JWT_AUDIENCE: jwtAudience, JWT_JWKS_URL: jwksUrl });
      }

      const built = new CatalogFunction(this, definition.id, {
        definition,
        environment,
        logLevel: props.logLevel ?? 'INFO',
        logRetention,
      });
      if (definition.permissions.table === 'readWrite') props.table.grantReadWriteData(built.function);
      else props.table.grantReadData(built.function);
      for (const workflow of starts) grantWorkflowAccess(built.function, workflowArns(workflow));
      functions[definition.id] = built.function;
    }
    this.functions = functions;

    const workflows = {} as Record<WorkflowName, Workflow>;
    for (const workflow of WORKFLOW_NAMES) {
      const built = new Workflow(this, `${pascal(workflow)}Workflow`, { workflow, functions, logRetention });
      workflows[workflow] = built;
      new CfnOutput(this, `${pascal(workflow)}StateMachineArn`, {
        description: `ARN of the ${workflow} state machine`,
        value: built.stateMachine.stateMachineArn,
      });
    }
    this.workflows = workflows;

    const apiFunction = functions[API_FUNCTION_ID];
    if (apiFunction === undefined) throw new Error(`The catalog has no ${API_FUNCTION_ID} function`);
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: 'slipway',
      description: 'slipway control plane API',
    });
    const integration = new HttpLambdaIntegration('ApiIntegration', apiFunction);
    const authorizer = new HttpJwtAuthorizer('JwtAuthorizer', jwtIssuer, { jwtAudience: [jwtAudience] });
    this.httpApi.addRoutes({ path: '/v1/{proxy+}', methods: [apigwv2.HttpMethod.ANY], integration, authorizer });
    // Public: health checks and the API description need no token.
    for (const publicPath of ['/healthz', '/openapi.json', '/docs']) {
      this.httpApi.addRoutes({ path: publicPath, methods: [apigwv2.HttpMethod.GET], integration });
    }
    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the HTTP API', value: this.httpApi.apiEndpoint });
  }
}

/**
 * Start and follow executions of one workflow, scoped to its ARNs. `StateMachine.grantRead` is not
 * used because it also grants `states:ListActivities`/`DescribeActivity` on `*`.
 */
function grantWorkflowAccess(grantee: iam.IGrantable, arns: { stateMachine: string; executions: string }): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'],
    resourceArns: [arns.stateMachine],
  });
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['states:DescribeExecution', 'states:GetExecutionHistory', 'states:DescribeStateMachineForExecution'],
    resourceArns: [arns.executions],
  });
}

/** `switchProvider` → `SwitchProvider`, for construct ids and output names. */
function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
