import type { ProviderSettings } from '../../shared/providers-config';
import { FlyComputeProvider } from './fly-provider';
import { tokenFromSecret } from './token';

/** A Fly provider as configured: its token inline or from its secret. */
export function flyProviderFrom(settings: Extract<ProviderSettings, { kind: 'fly' }>, aws: { region: string; secretsEndpoint?: string }): FlyComputeProvider {
  const token = settings.token;
  return new FlyComputeProvider({
    name: settings.name,
    app: settings.app,
    baseUrl: settings.apiUrl,
    token: token !== undefined ? async () => token : tokenFromSecret(settings.tokenSecretName!, { region: aws.region, endpoint: aws.secretsEndpoint }),
  });
}
