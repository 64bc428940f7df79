import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** The period every slipway alarm evaluates. */
export const ALARM_PERIOD = Duration.minutes(5);

/**
 * An alarm that fires when a metric reaches `threshold` in one period and notifies the operators'
 * topic. Missing data (nothing happened) is not breaching.
 */
export function notifyingAlarm(scope: Construct, id: string, props: { metric: cloudwatch.IMetric; description: string; topic: sns.ITopic; threshold?: number }): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: props.description,
    metric: props.metric,
    threshold: props.threshold ?? 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new actions.SnsAction(props.topic));
  return alarm;
}

/**
 * An alarm on a heartbeat: it fires when a metric that must arrive every period has no sample for
 * two periods running. Missing data is breaching here, since silence is what it watches for.
 */
export function heartbeatAlarm(scope: Construct, id: string, props: { metric: cloudwatch.IMetric; description: string; topic: sns.ITopic }): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmDescription: props.description,
    metric: props.metric,
    threshold: 1,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  alarm.addAlarmAction(new actions.SnsAction(props.topic));
  return alarm;
}
