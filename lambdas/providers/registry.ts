import { ProviderResourceNotFoundError } from '../shared/errors';
import type { ComputeProvider, ProviderRegistry } from './compute-provider';
import { LocalComputeProvider } from './local/local-provider';

/** A registry over a fixed set of adapters. */
export function registryOf(providers: ComputeProvider[]): ProviderRegistry {
  const byName = new Map(providers.map((p) => [p.name, p]));
  return {
    get(name: string): ComputeProvider {
      const provider = byName.get(name);
      if (!provider) throw new ProviderResourceNotFoundError(`No compute provider named "${name}" is configured.`, { context: { name } });
      return provider;
    },
  };
}

/** The adapters configuration enables. The Fly adapter joins here when it exists. */
export function createProviderRegistry(options: { localRoot?: string }): ProviderRegistry {
  const providers: ComputeProvider[] = [];
  if (options.localRoot) providers.push(new LocalComputeProvider({ rootDir: options.localRoot }));
  return registryOf(providers);
}
