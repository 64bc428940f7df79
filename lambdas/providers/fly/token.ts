/**
 * Where the Fly adapter gets its API token. On AWS: Secrets Manager through Powertools Parameters,
 * cached for the container's life (an hour at most, so a rotated token is picked up); a secret
 * holding JSON `{"token": "..."}` works as well as a bare string. In tests and local runs: inline.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../shared/config';

/** Seconds a fetched token is reused before Secrets Manager is asked again. */
const TOKEN_MAX_AGE_SECONDS = 3600;

/** A token source reading one secret. */
export function tokenFromSecret(secretName: string, options: { region: string; endpoint?: string }): () => Promise<string> {
  // Created once per container, so warm invocations reuse its connections and its cache.
  const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient({ region: options.region, endpoint: options.endpoint }) });
  return async () => {
    const value = await secrets.get(secretName, { maxAge: TOKEN_MAX_AGE_SECONDS });
    if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`Secret ${secretName} holds no Fly token`);
    const trimmed = value.trim();
    if (!trimmed.startsWith('{')) return trimmed;
    const parsed = JSON.parse(trimmed) as { token?: unknown };
    if (typeof parsed.token !== 'string') throw new ConfigError(`Secret ${secretName} is JSON without a "token" field`);
    return parsed.token;
  };
}
