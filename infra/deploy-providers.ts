/**
 * The providers a deployment runs, chosen at synth (`-c providersFile=deploy/prod.json` or
 * `-c providers='{...}'`) and checked there with the functions' own schema (`providersSettingSchema`),
 * so a malformed value fails `cdk synth` with a clear message instead of every function's init.
 * A deployed setting names Secrets Manager secrets, never a token: the setting is written into the
 * template and the functions' environment in plain text.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { providersSettingSchema, type ProvidersSetting } from '../lambdas/shared/providers-config';

/** The secret a Fly provider reads its token from when its setting names none. */
export const DEFAULT_FLY_TOKEN_SECRET_NAME = 'slipway/fly-api-token';

/** A customer-managed KMS key (its ARN); the secret is encrypted with it, so readers need kms:Decrypt. */
const kmsKeyArn = z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');

/**
 * What a deployed Fly provider may add to the runtime setting: the KMS key of its token's secret.
 * Only that field is read here; the rest is the runtime schema's to judge.
 */
const deployOnlyFlySchema = z.object({
  kind: z.literal('fly'),
  tokenKmsKeyArn: kmsKeyArn.optional(),
  // A partial ARN would be granted exactly and then miss the suffix Secrets Manager adds: name it instead.
  tokenSecretName: z
    .string()
    .refine((value) => !value.startsWith('arn:') || /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(value), {
      message: "a secret ARN must be complete (ending in the 6-character suffix Secrets Manager adds); or give the secret's name",
    })
    .optional(),
});

/** One secret a deployed provider reads, with the key that encrypts it when it is not AWS-managed. */
export interface ProviderSecret {
  provider: string;
  /** A secret name (`slipway/fly-api-token`) or a secret ARN. */
  secret: string;
  kmsKeyArn?: string;
}

/** The validated providers of one deployment. */
export interface DeployedProviders {
  /** The `PROVIDERS` value the functions get (already valid under `providersSettingSchema`). */
  setting: ProvidersSetting;
  /** Every secret those providers read, so the stack grants exactly these. */
  secrets: ProviderSecret[];
}

/** Thrown at synth when the providers context does not describe a deployable setting. */
export class ProvidersContextError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvidersContextError';
  }
}

const issuesOf = (error: z.ZodError, prefix: (string | number)[] = []) =>
  error.issues.map((issue) => `${[...prefix, ...issue.path].join('.') || '(root)'}: ${issue.message}`).join('; ');

/**
 * Check a deployment's providers (parsed JSON) with the runtime schema plus the deploy rules: no
 * inline token, no `local` provider (it runs only under `npm start`), every Fly provider naming its
 * token secret (`defaultSecretName` when it names none).
 */
export function parseDeployedProviders(raw: unknown, source: string, defaultSecretName = DEFAULT_FLY_TOKEN_SECRET_NAME): DeployedProviders {
  const fail = (problems: string) => {
    throw new ProvidersContextError(`Invalid providers (${source}): ${problems}`);
  };
  const list = (raw as { providers?: unknown } | null)?.providers;
  const problems: string[] = [];
  const keys = new Map<number, string>();
  const runtime = Array.isArray(list)
    ? {
        ...(raw as object),
        providers: list.map((entry, i) => {
          if (entry === null || typeof entry !== 'object') return entry;
          const { tokenKmsKeyArn, ...rest } = entry as Record<string, unknown>;
          if (rest.kind === 'local') problems.push(`providers.${i}: kind "local" runs only on one machine (npm start); a deployment runs fly providers`);
          if (rest.kind !== 'fly') return tokenKmsKeyArn === undefined ? rest : entry;
          if (rest.token !== undefined) {
            problems.push(`providers.${i}.token: an inline token would sit in plain text in the template and the functions' environment; store it in Secrets Manager and name the secret with tokenSecretName`);
          }
          const deployOnly = deployOnlyFlySchema.safeParse({ kind: rest.kind, tokenKmsKeyArn, tokenSecretName: typeof rest.tokenSecretName === 'string' ? rest.tokenSecretName : undefined });
          if (!deployOnly.success) problems.push(issuesOf(deployOnly.error, ['providers', i]));
          else if (deployOnly.data.tokenKmsKeyArn !== undefined) keys.set(i, deployOnly.data.tokenKmsKeyArn);
          // With an inline token (refused above) no default secret is added: one message, not two.
          return rest.token !== undefined ? rest : { ...rest, tokenSecretName: rest.tokenSecretName ?? defaultSecretName };
        }),
      }
    : raw;
  const parsed = providersSettingSchema.safeParse(runtime);
  if (!parsed.success) problems.push(issuesOf(parsed.error));
  if (problems.length > 0 || !parsed.success) return fail(problems.join('; '));
  const secrets = parsed.data.providers.flatMap((provider, i): ProviderSecret[] =>
    provider.kind === 'fly' && provider.tokenSecretName !== undefined ? [{ provider: provider.name, secret: provider.tokenSecretName, ...(keys.has(i) ? { kmsKeyArn: keys.get(i) } : {}) }] : [],
  );
  return { setting: parsed.data, secrets };
}

/**
 * The providers named by context: `providersFile` (a JSON file, relative to the working directory)
 * or `providers` (JSON text or an object); none when neither is given.
 */
export function providersFromContext(tryGetContext: (key: string) => unknown, cwd = process.cwd()): DeployedProviders | undefined {
  const file = tryGetContext('providersFile');
  const inline = tryGetContext('providers');
  const defaultSecretName = tryGetContext('flyTokenSecretName');
  if (defaultSecretName !== undefined && (typeof defaultSecretName !== 'string' || defaultSecretName.length === 0)) {
    throw new ProvidersContextError('context flyTokenSecretName must be a secret name or ARN');
  }
  if (file !== undefined && inline !== undefined) throw new ProvidersContextError('give context providersFile or providers, not both');
  if (file !== undefined) {
    if (typeof file !== 'string' || file.length === 0) throw new ProvidersContextError('context providersFile must be a path to a JSON file');
    const full = path.resolve(cwd, file);
    let text: string;
    try {
      text = readFileSync(full, 'utf8');
    } catch (error) {
      throw new ProvidersContextError(`providersFile ${file}: cannot be read (${(error as Error).message})`);
    }
    return parseDeployedProviders(parseJson(text, `providersFile ${file}`), `providersFile ${file}`, defaultSecretName as string | undefined);
  }
  if (inline !== undefined) {
    const value = typeof inline === 'string' ? parseJson(inline, 'context providers') : inline;
    return parseDeployedProviders(value, 'context providers', defaultSecretName as string | undefined);
  }
  return undefined;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ProvidersContextError(`Invalid providers (${source}): not JSON (${(error as Error).message})`);
  }
}
