import { App, CrossStackReferences, ReferenceStrength } from 'aws-cdk-lib';
import { providersFromContext } from './deploy-providers';
import { acknowledgeNagFindings } from './nag-acknowledgements';
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
  // Checked before any construct exists: a malformed value fails the synth, never a function's init.
  const providers = providersFromContext((key) => app.node.tryGetContext(key));
  const ids = stackIds(app.node.tryGetContext('stage'));
  const stateful = new StatefulStack(app, ids.stateful, {
    env,
    description: 'slipway: the DynamoDB table (retained, deletion-protected)',
  });
  const orchestration = new OrchestrationStack(app, ids.orchestration, {
    env,
    description: 'slipway: functions, state machines, HTTP API and alarms',
    table: stateful.table,
    logLevel,
    providers,
  });
  acknowledgeNagFindings(orchestration);
  return { stateful, orchestration };
}

/**
 * `-c stage=prod` makes `slipway-prod-stateful` and `slipway-prod-orchestration`, so stages share an
 * account without a code change; without a stage the ids stay `slipway-stateful`/`-orchestration`.
 */
export function stackIds(stage: unknown): { stateful: string; orchestration: string } {
  if (stage === undefined) return { stateful: 'slipway-stateful', orchestration: 'slipway-orchestration' };
  if (typeof stage !== 'string' || !/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new Error(`context stage must be lowercase letters, digits and dashes, starting with a letter, at most 20; got ${String(stage)}`);
  }
  return { stateful: `slipway-${stage}-stateful`, orchestration: `slipway-${stage}-orchestration` };
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
