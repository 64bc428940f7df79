import * as z from 'zod';
import { OPERATION_NAMES } from '../operations/registry';
import { providersSettingSchema } from './providers-config';
import { WORKFLOW_NAMES, stateMachineArnEnvVar, type StateMachineArnVariable } from './workflows';

/**
 * Configuration, read once per process through one schema that fails fast and names what is
 * missing. Endpoints are configuration: the same code talks to AWS or to the local stand-ins.
 */
/** A setting given as JSON text (an empty value counts as unset: deployments pass empty parameters). */
function jsonSetting<S extends z.ZodType>(schema: S) {
  return z.preprocess(
    (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
    z
      .string()
      .transform((text, ctx) => {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          ctx.addIssue({ code: 'custom', message: 'is not valid JSON' });
          return z.NEVER;
        }
      })
      .pipe(schema)
      .optional(),
  );
}

/** One optional `<WORKFLOW>_STATE_MACHINE_ARN` per workflow, derived from the one list. */
const stateMachineArnVariables = Object.fromEntries(WORKFLOW_NAMES.map((workflow) => [stateMachineArnEnvVar(workflow), z.string().min(1).optional()]));

const configSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  TABLE_NAME: z.string().min(1),
  /** Set only for DynamoDB Local; unset on AWS. */
  DYNAMODB_ENDPOINT: z.string().url().optional(),
  /** Set only for the local Step Functions endpoint; unset on AWS. */
  STEPFUNCTIONS_ENDPOINT: z.string().url().optional(),
  /** Base of console links to executions, e.g. https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/ */
  EXECUTION_CONSOLE_URL_PREFIX: z.string().url().optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** Where the issuer publishes its signing keys (OIDC `jwks_uri`). */
  JWT_JWKS_URL: z.string().url().optional(),
  /** Inline JWKS JSON, for issuers whose keys are configured rather than fetched. */
  JWT_PUBLIC_JWKS: z.string().min(1).optional(),
  /** The secret pagination cursors are sealed with (at least 32 characters), inline: local runs and tests. */
  CURSOR_SECRET: z.string().min(32).optional(),
  /** The Secrets Manager secret (name or ARN) holding it, on AWS; read once per container. */
  CURSOR_SECRET_NAME: z.string().min(1).optional(),
  DEFAULT_INSTANCE_LIMIT: z.coerce.number().int().min(1).max(1000).default(5),
  /** How long a reservation may stay unresolved before the reconcile sweep first looks at it. */
  RESERVATION_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(120),
  /**
   * The longest the sweep waits between looks at a claim whose execution still runs (JSON, e.g.
   * {"start":300}); unnamed operations keep their defaults (operations.ts).
   */
  CLAIM_TIMEOUT_SECONDS: jsonSetting(z.partialRecord(z.enum(OPERATION_NAMES), z.number().int().min(1))).optional(),
  /**
   * How often the sweep's fleet inventory is the full audit (every machine listed in full, for what
   * a state filter cannot see: a machine on the wrong volume, a changed address). Every other run
   * lists only the machines not running.
   */
  FLEET_AUDIT_SECONDS: z.coerce.number().int().min(1).default(3600),
  /**
   * The local provider tells the runtime at once when a machine's process exits without being asked
   * (the same settle the sweep runs for that instance). `false` leaves it to the next sweep.
   */
  MACHINE_EXIT_PUSH: z.enum(['true', 'false']).default('true').transform((value) => value === 'true'),
  /** How old a provider resource nobody accounts for must be before the sweep destroys it. */
  ORPHAN_GRACE_SECONDS: z.coerce.number().int().min(0).default(900),
  /** How often the sweep inventories each provider for orphans. */
  ORPHAN_SCAN_SECONDS: z.coerce.number().int().min(0).default(900),
  /** Tries of a cleanup that keeps failing before it is left to an operator (with an alarm). */
  RECONCILE_MAX_TRIES: z.coerce.number().int().min(1).default(10),
  /** Period of the local runtime's sweep timer (EventBridge Scheduler runs it every minute on AWS). */
  SWEEP_PERIOD_SECONDS: z.coerce.number().min(0.05).default(60),
  /**
   * After a recovery (successful or not) no automatic recovery of that instance starts for this long:
   * a machine that dies again at once is shown stopped, not recovered in a loop. Must be well over the
   * sweep period (the fleet inventory's interval), or a recovery could re-trigger at the next look.
   */
  RECOVERY_COOLDOWN_SECONDS: z.coerce.number().int().min(1).default(1800),
  /** How long the old volume of a recovery (when it has snapshots) is kept before the volume-cleanup sweep deletes it. */
  VOLUME_RETENTION_SECONDS: z.coerce.number().int().min(0).default(7 * 24 * 3600),
  /** Period of the local runtime's volume-cleanup timer (EventBridge Scheduler runs it hourly on AWS). */
  VOLUME_CLEANUP_PERIOD_SECONDS: z.coerce.number().min(0.05).default(3600),
  /** Tries of a retained volume's delete before it is left for an operator (with an alarm). */
  VOLUME_CLEANUP_MAX_TRIES: z.coerce.number().int().min(1).default(10),
  /** The EventBridge bus lifecycle events go to; unset in functions that publish none. */
  EVENT_BUS_NAME: z.string().min(1).optional(),
  /** Set only for a local EventBridge stand-in; unset on AWS. */
  EVENTBRIDGE_ENDPOINT: z.string().url().optional(),
  /** The compute providers this deployment runs (JSON, see providers-config.ts); none when unset. */
  PROVIDERS: jsonSetting(providersSettingSchema).optional(),
  /** The secret holding the Fly API token, for Fly providers that name none. */
  FLY_TOKEN_SECRET_NAME: z.string().min(1).optional(),
  DEFAULT_IMAGE: z.string().min(1).default('slipway/hello:1'),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  /** `xray` where the function is traced (every deployed one): SDK calls become X-Ray subsegments. */
  TRACING: z.enum(['xray', 'off']).default('off'),
})
  .extend(stateMachineArnVariables as Record<StateMachineArnVariable, z.ZodOptional<z.ZodString>>)
  .superRefine((config, ctx) => {
    // KiloClaw's scar: a cooldown equal to the alarm interval let a recovery re-trigger at once.
    // The inventory looks every sweep period, so the sweep period is the interval that matters.
    const look = config.SWEEP_PERIOD_SECONDS;
    if (config.RECOVERY_COOLDOWN_SECONDS < 3 * look) {
      ctx.addIssue({ code: 'custom', path: ['RECOVERY_COOLDOWN_SECONDS'], message: `must be at least 3 x the sweep period (${3 * look} s), or a recovery could re-trigger at the next look` });
    }
  });

/** Parsed configuration. */
export type Config = z.infer<typeof configSchema>;

/** Thrown at load when the environment does not describe a usable configuration. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parse an environment; exported for tests and the local runtime. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  return result.data;
}

/** A setting's default: what a deployment runs with where its variable is not set (a sweep's scheduled period). */
export function settingDefault<K extends keyof typeof configSchema.shape>(name: K): z.output<(typeof configSchema.shape)[K]> {
  return configSchema.shape[name].parse(undefined) as z.output<(typeof configSchema.shape)[K]>;
}

let cached: Config | undefined;

/** The process configuration, parsed on first use and reused by warm invocations. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** A required optional field, or a clear error naming the variable. */
export function required<K extends keyof Config>(config: Config, key: K): NonNullable<Config[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new ConfigError(`Missing configuration: ${String(key)}`);
  return value as NonNullable<Config[K]>;
}
