/**
 * The providers a Lambda function runs, from configuration (`PROVIDERS`). Only handlers that call a
 * provider import this module, so the others carry no adapter code. A `local` provider is refused
 * here: it runs real processes on the machine running slipway, which only the local runtime does.
 */
import { ConfigError, type Config } from '../shared/config';
import type { ProviderRegistry } from './compute-provider';
import { flyProviderFrom } from './fly/from-settings';
import { registryOf } from './registry';

/** The registry of every configured provider (built once per container). */
export function providersFromConfig(config: Config): ProviderRegistry {
  const configured = config.PROVIDERS?.providers ?? [];
  return registryOf(
    configured.map((settings) => {
      if (settings.kind === 'fly') return flyProviderFrom(settings, { region: config.AWS_REGION, defaultSecretName: config.FLY_TOKEN_SECRET_NAME });
      throw new ConfigError(`Provider ${settings.name} is of kind "local", which only the local runtime (npm start) can run`);
    }),
  );
}
