/**
 * Every cdk-nag (AwsSolutions) finding slipway accepts, each on the construct it concerns and with
 * its reason. `test/cdk/nag.test.ts` runs the pack over the app and fails on any finding not named
 * here; CDK's own `Validations` records the acknowledgements, so infra needs no cdk-nag import.
 * Finding ids name CloudFormation logical ids and rendered ARNs exactly as cdk-nag prints them.
 */
import { Stack, Token, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { FUNCTION_CATALOG } from './function-catalog';
import type { OrchestrationStack } from './orchestration-stack';
import { functionsOf } from './workflows';

/** The reasons, once each (several constructs share one). */
export const NAG_REASONS = {
  xray: 'X-Ray PutTraceSegments/PutTelemetryRecords/GetSampling* support no resource-level permissions (AWS: "How AWS X-Ray works with IAM"); test/cdk/orchestration-stack.test.ts allows "*" for exactly these actions',
  logDelivery:
    'Step Functions log delivery (logs:CreateLogDelivery and the rest) and X-Ray support no resource-level permissions; AWS documents Resource "*" for them (Step Functions: "Logging using CloudWatch Logs"); the IAM template test pins the exact statement',
  executions: 'Execution ARNs are named at run time (<instance>-<operation>-v<version>); execution:<state machine>:* is the narrowest ARN that still names one state machine',
  invokeVersions: "CDK's grantInvoke adds <function ARN>:* so the caller may invoke the function's versions and aliases; it names exactly one function",
  schedulerInvoke: "EventBridge Scheduler's target role (CDK's LambdaInvoke) may invoke the one sweep function and its versions (<function ARN>:*)",
  stateMachineLogs:
    'Decided: ERROR without execution data (docs/deploy.md). Step Functions keeps every execution\'s full history for 90 days; ALL would log every transition of every execution again, and execution data carries owners and instance details',
  deadLetterQueues: 'These queues are the dead letters: SweepDeadLetters is the Scheduler/EventBridge targets\' DLQ, FailedRuns the functions\' on-failure destination; a DLQ of a DLQ would only move the problem (both alarm at one message)',
  cursorKeyRotation:
    'No rotation Lambda: the key only seals pagination cursors (nothing persisted), so rotation is a manual put-secret-value that invalidates cursors in flight; docs/deploy.md "Rotation" says how',
  publicRoutes: 'Public by design: health check, the OpenAPI document and its page, and the console page with its assets; every data call (the console\'s too) goes to /v1, which the JWT authorizer guards',
} as const;

const acknowledge = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });

/** How cdk-nag renders a function's ARN in a finding: `<LogicalId.Arn>`. */
const arnOf = (stack: Stack, construct: IConstruct) => `<${stack.getLogicalId(construct.node.defaultChild as CfnElement)}.Arn>`;

/** Acknowledge the accepted findings of the orchestration stack (the stateful stack has none). */
export function acknowledgeNagFindings(stack: OrchestrationStack): void {
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const executionsFinding = (workflow: keyof OrchestrationStack['workflows']) =>
    `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:<${stack.getLogicalId(stack.workflows[workflow].stateMachine.node.defaultChild as CfnElement)}.Name>:*]`;

  for (const definition of FUNCTION_CATALOG) {
    const role = stack.functions[definition.id]!.role!;
    acknowledge(role, 'AwsSolutions-IAM5[Resource::*]', NAG_REASONS.xray);
    const { startsWorkflows = [], describesWorkflows = [], inspectsWorkflows = [] } = definition.permissions;
    for (const workflow of new Set([...startsWorkflows, ...describesWorkflows, ...inspectsWorkflows])) acknowledge(role, executionsFinding(workflow), NAG_REASONS.executions);
  }

  for (const [workflow, built] of Object.entries(stack.workflows) as Array<[keyof OrchestrationStack['workflows'], OrchestrationStack['workflows'][keyof OrchestrationStack['workflows']]]>) {
    acknowledge(built.stateMachine, 'AwsSolutions-SF1', NAG_REASONS.stateMachineLogs);
    acknowledge(built.stateMachine.role, 'AwsSolutions-IAM5[Resource::*]', NAG_REASONS.logDelivery);
    for (const fn of functionsOf(workflow)) acknowledge(built.stateMachine.role, `AwsSolutions-IAM5[Resource::${arnOf(stack, stack.functions[fn.id]!)}:*]`, NAG_REASONS.invokeVersions);
  }

  // CDK's Scheduler target makes one role per target function, named SchedulerRoleForTarget-<hash>.
  for (const child of stack.node.children.filter((c) => c.node.id.startsWith('SchedulerRoleForTarget-'))) {
    for (const sweep of ['Reconcile', 'VolumeCleanup']) acknowledge(child, `AwsSolutions-IAM5[Resource::${arnOf(stack, stack.functions[sweep]!)}:*]`, NAG_REASONS.schedulerInvoke);
  }

  for (const id of ['SweepDeadLetters', 'FailedRuns']) acknowledge(stack.node.findChild(id), 'AwsSolutions-SQS3', NAG_REASONS.deadLetterQueues);
  acknowledge(stack.node.findChild('CursorKey'), 'AwsSolutions-SMG4', NAG_REASONS.cursorKeyRotation);
  for (const route of stack.publicRoutes) acknowledge(route, 'AwsSolutions-APIG4', NAG_REASONS.publicRoutes);
}
