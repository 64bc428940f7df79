/**
 * Where an instance runs: a configured provider, one of its regions and one of its sizes. Chosen
 * (and refused) before admission, so no provision is ever admitted that cannot run.
 */
import type { MachineSize } from '../providers/compute-provider';
import type { Settings } from '../composition/deps';
import { UnknownProviderError, UnsupportedPlacementError } from '../shared/errors/refusals';
import type { ProviderOffering } from '../shared/providers-config';

/** A placement asked for; each part defaults. */
export interface PlacementRequest {
  provider?: string;
  region?: string;
  size?: string;
}

/** A placement that a configured provider offers. */
export interface Placement {
  provider: string;
  region: string;
  size: MachineSize;
}

/** The size used when none is asked for, if the provider offers it. */
const PREFERRED_SIZE: MachineSize = 'shared-cpu-1x';

/** The configured provider of that name (the default when none is named), or UnknownProvider. */
export function offeringFor(settings: Settings, name: string | undefined): ProviderOffering {
  const wanted = name ?? settings.defaultProvider ?? '';
  const offering = settings.providers.find((provider) => provider.name === wanted);
  if (!offering) throw new UnknownProviderError(wanted, settings.providers.map((provider) => provider.name));
  return offering;
}

/** Resolve a placement against what is configured: the provider's first region and the preferred size by default. */
export function choosePlacement(settings: Settings, request: PlacementRequest): Placement {
  const offering = offeringFor(settings, request.provider);
  const region = request.region ?? offering.regions[0]!;
  if (!offering.regions.includes(region)) throw new UnsupportedPlacementError('region', region, offering.name, offering.regions);
  const size = (request.size ?? (offering.sizes.includes(PREFERRED_SIZE) ? PREFERRED_SIZE : offering.sizes[0]!)) as MachineSize;
  if (!offering.sizes.includes(size)) throw new UnsupportedPlacementError('size', size, offering.name, offering.sizes);
  return { provider: offering.name, region, size };
}
