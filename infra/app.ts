import { App, CrossStackReferences, ReferenceStrength } from 'aws-cdk-lib';
import { OrchestrationStack } from './orchestration-stack';
import { StatefulStack } from './stateful-stack';

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

/** Build both slipway stacks into an app; shared by `cdk synth`/`deploy` and the template tests. */
export function buildApp(app: App): { stateful: StatefulStack; orchestration: OrchestrationStack } {
  // The orchestration stack imports the table through exports on purpose: CloudFormation then
  // refuses to delete the stateful stack while the functions still use its table.
  CrossStackReferences.of(app).consume(ReferenceStrength.STRONG);
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const logLevel = logLevelFrom(app.node.tryGetContext('logLevel'));
  const stateful = new StatefulStack(app, 'slipway-stateful', {
    env,
    description: 'slipway: the DynamoDB table (retained, deletion-protected)',
  });
  const orchestration = new OrchestrationStack(app, 'slipway-orchestration', {
    env,
    description: 'slipway: functions, state machines, HTTP API and alarms',
    table: stateful.table,
    logLevel,
  });
  return { stateful, orchestration };
}

/** `-c logLevel=DEBUG` raises handler logging for one deploy; anything else is refused. */
function logLevelFrom(value: unknown): LogLevel | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`context logLevel must be one of ${LOG_LEVELS.join(', ')}; got ${String(value)}`);
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
