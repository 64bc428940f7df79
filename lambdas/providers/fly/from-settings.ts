import { ConfigError } from '../../shared/config';
import type { ProviderSettings } from '../../shared/providers-config';
import { FlyComputeProvider } from './fly-provider';
import { tokenFromSecret } from './token';

/** A Fly provider as configured: its token inline or from its secret. */
export function flyProviderFrom(settings: Extract<ProviderSettings, { kind: 'fly' }>, aws: { region: string; defaultSecretName?: string; secretsEndpoint?: string }): FlyComputeProvider {
  const token = settings.token;
  const secretName = settings.tokenSecretName ?? aws.defaultSecretName;
  if (token === undefined && secretName === undefined) throw new ConfigError(`Fly provider ${settings.name} has no token: set its tokenSecretName, or FLY_TOKEN_SECRET_NAME`);
  return new FlyComputeProvider({
    name: settings.name,
    app: settings.app,
    org: settings.org,
    baseUrl: settings.apiUrl,
    token: token !== undefined ? async () => token : tokenFromSecret(secretName!, { region: aws.region, endpoint: aws.secretsEndpoint }),
  });
}
