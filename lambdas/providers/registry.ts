import { ProviderResourceNotFoundError } from '../shared/errors/provider';
import type { ComputeProvider, ProviderRegistry } from './compute-provider';

/**
 * A registry over adapters built by the composition root. It imports no adapter itself: the Lambda
 * path passes the adapters it may run, the local runtime passes local ones, so a Lambda bundle
 * carries no code of a provider it never uses.
 */
export function registryOf(providers: ComputeProvider[]): ProviderRegistry {
  const byName = new Map(providers.map((p) => [p.name, p]));
  return {
    get(name: string): ComputeProvider {
      const provider = byName.get(name);
      if (!provider) throw new ProviderResourceNotFoundError(`No compute provider named "${name}" is configured.`, { context: { name } });
      return provider;
    },
    all: () => [...byName.values()],
  };
}
