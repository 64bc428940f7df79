import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { WorkflowName } from '../../lambdas/shared/workflows';
import { missingSubstitutions, readWorkflowDefinition, substitutionsFor } from '../asl';
import { definitionFile, functionsOf } from '../workflows';
import { ALARM_PERIOD, notifyingAlarm } from './alarms';

/** Properties of one workflow. */
export interface WorkflowProps {
  workflow: WorkflowName;
  /** Every catalog function, by catalog id; the workflow takes the ones it invokes. */
  functions: Readonly<Record<string, lambda.IFunction>>;
  logRetention: logs.RetentionDays;
  /** Where its alarms notify operators. */
  alarmTopic: sns.ITopic;
}

/**
 * One `statemachines/<file>` as a Standard state machine: the definition is read as text (so
 * template tests can see it), function ARNs come in through `DefinitionSubstitutions`, the role may
 * invoke exactly the functions the workflow uses, executions are traced with X-Ray, and failed or
 * timed-out executions raise alarms. CloudFormation names it, so two stages can share an account.
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly failedAlarm: cloudwatch.Alarm;
  readonly timedOutAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const invoked = functionsOf(props.workflow).map((definition) => {
      const fn = props.functions[definition.id];
      if (fn === undefined) throw new Error(`Workflow ${props.workflow} invokes ${definition.id}, which was not built`);
      return { id: definition.id, fn };
    });
    const byId = new Map(invoked.map(({ id: fnId, fn }) => [fnId, fn]));

    const definition = readWorkflowDefinition(props.workflow);
    const substitutions = substitutionsFor(props.workflow, (fnId) => (byId.get(fnId) as lambda.IFunction).functionArn);
    // Fail the synth, not the first execution, when the ASL names a function the catalog does not give it.
    const missing = missingSubstitutions(definition, substitutions);
    if (missing.length > 0) {
      throw new Error(`${definitionFile(props.workflow)} uses ${missing.join(', ')}, which no catalog function invoked by ${props.workflow} provides`);
    }

    // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' account resource policy small (AWS's advice
    // for Step Functions logging); the stack name keeps two stages apart.
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Aws.STACK_NAME}-${props.workflow}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      // ERROR, without execution data, by decision: Step Functions keeps every execution's full history
      // itself (90 days, the console and GetExecutionHistory read it); the log adds a searchable record
      // of failures across executions. ALL would log every state transition of every execution again,
      // and execution data holds owners and instance details.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    for (const { fn } of invoked) fn.grantInvoke(this.stateMachine);

    const what = `slipway ${props.workflow}`;
    this.failedAlarm = notifyingAlarm(this, 'ExecutionsFailedAlarm', {
      metric: this.stateMachine.metricFailed({ period: ALARM_PERIOD, statistic: 'Sum' }),
      description: `${what}: at least one execution failed in 5 minutes`,
      topic: props.alarmTopic,
    });
    this.timedOutAlarm = notifyingAlarm(this, 'ExecutionsTimedOutAlarm', {
      metric: this.stateMachine.metricTimedOut({ period: ALARM_PERIOD, statistic: 'Sum' }),
      description: `${what}: at least one execution timed out in 5 minutes`,
      topic: props.alarmTopic,
    });
  }
}
