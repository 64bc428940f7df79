import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { missingSubstitutions, readWorkflowDefinition, substitutionsFor } from '../asl';
import type { WorkflowName } from '../../lambdas/shared/workflows';
import { definitionFile, functionsOf, stateMachineNameOf } from '../workflows';

/** Properties of one workflow. */
export interface WorkflowProps {
  workflow: WorkflowName;
  /** Every catalog function, by catalog id; the workflow takes the ones it invokes. */
  functions: Readonly<Record<string, lambda.IFunction>>;
  logRetention: logs.RetentionDays;
}

/**
 * One `statemachines/<file>` as a Standard state machine: the definition is read as text (so
 * template tests can see it), function ARNs come in through `DefinitionSubstitutions`, the role may
 * invoke exactly the functions the workflow uses, and failed or timed-out executions raise alarms.
 */
export class Workflow extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  readonly failedAlarm: cloudwatch.Alarm;
  readonly timedOutAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const stateMachineName = stateMachineNameOf(props.workflow);
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
    // for Step Functions logging).
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(definition),
      definitionSubstitutions: substitutions,
      // Execution data holds owners and instance details; failures are logged without it.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    for (const { fn } of invoked) fn.grantInvoke(this.stateMachine);

    const period = Duration.minutes(5);
    this.failedAlarm = this.alarmOn('ExecutionsFailed', this.stateMachine.metricFailed({ period, statistic: 'Sum' }), stateMachineName);
    this.timedOutAlarm = this.alarmOn('ExecutionsTimedOut', this.stateMachine.metricTimedOut({ period, statistic: 'Sum' }), stateMachineName);
  }

  private alarmOn(metricName: string, metric: cloudwatch.Metric, stateMachineName: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, `${metricName}Alarm`, {
      alarmDescription: `${stateMachineName}: at least one execution ${metricName === 'ExecutionsFailed' ? 'failed' : 'timed out'} in 5 minutes`,
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No executions means nothing failed.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
