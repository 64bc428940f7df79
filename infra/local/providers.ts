/**
 * The local runtime's providers, from the same `PROVIDERS` setting a deployment uses: `local` ones
 * become real processes and directories under their root, `fly` ones the Fly adapter (with an inline
 * token locally). Without a setting, two local providers (`local` and `local-west`, each its own
 * root) are configured, so switching an instance between providers works out of the box.
 */
import path from 'node:path';
import type { ComputeProvider } from '../../lambdas/providers/compute-provider';
import { flyProviderFrom } from '../../lambdas/providers/fly/from-settings';
import { LocalComputeProvider } from '../../lambdas/providers/local/local-provider';
import type { ProviderSettings, ProvidersSetting } from '../../lambdas/shared/providers-config';

/** The `PROVIDERS` value `npm start` uses when none is set: two local providers under `root`. */
export function defaultLocalProviders(root: string): ProvidersSetting {
  return {
    default: 'local',
    providers: [
      // Daily snapshots, as Fly takes them: a recovery then retains the old volume for its 7 days.
      { name: 'local', kind: 'local', root, regions: ['local'], sizes: ['shared-cpu-1x', 'shared-cpu-2x', 'performance-1x', 'performance-2x'], dailySnapshots: true },
      { name: 'local-west', kind: 'local', root: `${root}-west`, regions: ['local-west'], sizes: ['shared-cpu-1x', 'shared-cpu-2x', 'performance-1x', 'performance-2x'], dailySnapshots: true },
    ],
  };
}

/** The adapter of one configured provider, as the local runtime runs it. */
export function localRuntimeProvider(settings: ProviderSettings, region: string): ComputeProvider {
  if (settings.kind === 'local') return new LocalComputeProvider({ name: settings.name, rootDir: path.resolve(settings.root), dailySnapshots: settings.dailySnapshots });
  return flyProviderFrom(settings, { region });
}
