/**
 * `POST /v1/instances/{id}/switch-provider`: the pre-claim of a provider switch. Everything that can
 * refuse the request is decided before, or by, one conditional write — target configured and
 * offered, not the current provider, the data transfer possible (or explicitly waived), status
 * `running` or `stopped`, no claim held, and the expected provider still the instance's. The loser
 * of a race has made no provider call at all. Then the `switch` workflow owns the critical section.
 */
import * as z from 'zod';
import { MACHINE_SIZES } from '../../providers/compute-provider';
import type { Deps } from '../../composition/deps';
import { DataTransferUnsupportedError } from '../../shared/errors/provider';
import { SameProviderError } from '../../shared/errors/refusals';
import { carriesData } from '../../shared/providers-config';
import { claimInstance } from '../../domain/claims';
import type { InstanceItem } from '../../domain/instance';
import { startClaimedOperation, type OperationAccepted } from '../lifecycle/request';
import { choosePlacement, offeringFor } from '../../domain/placement';

/** What the switch does with the volume's data. */
export const SWITCH_DATA_MODES = ['copy', 'fresh'] as const;
export type SwitchDataMode = (typeof SWITCH_DATA_MODES)[number];

/** The body of a switch request; strict, so unknown fields are refused. */
export const switchRequestSchema = z.strictObject({
  provider: z.string().min(1).max(64).meta({ description: 'The configured provider to move the instance to (GET /v1/providers)' }),
  expectedProvider: z.string().min(1).max(64).optional().meta({ description: 'Refuse (409 provider_mismatch) unless the instance is on this provider now' }),
  region: z.string().regex(/^[a-z0-9-]{2,32}$/).optional().meta({ description: "A region the target offers; its first one by default" }),
  size: z.enum(MACHINE_SIZES).optional().meta({ description: "A size the target offers; the instance's own size by default" }),
  data: z.enum(SWITCH_DATA_MODES).optional().meta({
    description: 'copy: seed the new volume with the old one (the default; only between providers of one data group, see GET /v1/providers); fresh: start on an empty volume (required where the data cannot be carried)',
  }),
});
export type SwitchRequest = z.infer<typeof switchRequestSchema>;

/** Where an instance runs. */
export interface Placed {
  provider: string;
  region: string;
  size: string;
}

/** What the switch is asked to do, recorded with the claim (`switchTarget`) so the admin view and the sweep know it. */
export interface SwitchTarget extends Placed {
  data: SwitchDataMode;
  /** The status before the switch: a rollback starts the old machine again if it was running. */
  fromStatus: 'running' | 'stopped';
}

/** The input of every switch execution (the steps read the rest from the instance item). */
export interface SwitchExecutionInput {
  instanceId: string;
  owner: string;
  operation: 'switch';
  /** The claim's version: the generation tag on everything the switch makes. */
  generation: number;
  from: Placed & { status: 'running' | 'stopped' };
  to: Placed;
  data: SwitchDataMode;
  /** Whether the new machine is started (the instance was running) or left stopped. */
  startNewMachine: boolean;
  image: string;
  volumeSizeGb: number;
}

/** Decide the data mode for a pair of providers, or refuse: `copy` only where they can carry the data. */
function dataModeFor(deps: Deps, from: string, to: string, asked: SwitchDataMode | undefined): SwitchDataMode {
  const canCarry = carriesData(offeringFor(deps.settings, from), offeringFor(deps.settings, to));
  if (asked === 'fresh') return 'fresh';
  if (canCarry) return 'copy';
  throw new DataTransferUnsupportedError(`Providers ${from} and ${to} cannot carry the volume's data between them; ask for "data": "fresh" to switch onto an empty volume.`);
}

/** Pre-claim the instance for a switch and start the switch workflow. */
export async function requestSwitch(deps: Deps, instanceId: string, owners: readonly string[], request: SwitchRequest): Promise<OperationAccepted> {
  // The target must be configured and offer what is asked before anything is read or written.
  const targetOffering = offeringFor(deps.settings, request.provider);
  choosePlacement(deps.settings, { provider: request.provider, region: request.region, size: request.size });

  let from: InstanceItem | undefined;
  const claim = await claimInstance(deps, instanceId, owners, 'switch', {
    expectedProvider: request.expectedProvider,
    prepare: (current) => {
      if (current.provider === request.provider) throw new SameProviderError(instanceId, current.provider);
      const data = dataModeFor(deps, current.provider, request.provider, request.data);
      // The instance keeps its size where the target offers it.
      const size = request.size ?? (targetOffering.sizes.includes(current.size as never) ? current.size : undefined);
      const placement = choosePlacement(deps.settings, { provider: request.provider, region: request.region, size });
      from = current;
      const switchTarget: SwitchTarget = { ...placement, data, fromStatus: current.status as 'running' | 'stopped' };
      return { switchTarget };
    },
  });
  const target = claim.instance.switchTarget!;
  const source = from!;
  const input: SwitchExecutionInput = {
    instanceId,
    owner: claim.instance.owner,
    operation: 'switch',
    generation: claim.instance.version,
    from: { provider: source.provider, region: source.region, size: source.size, status: source.status as 'running' | 'stopped' },
    to: { provider: target.provider, region: target.region, size: target.size },
    data: target.data,
    startNewMachine: source.status === 'running',
    image: source.image,
    volumeSizeGb: source.volumeSizeGb,
  };
  return startClaimedOperation(deps, claim, { ...input }, ['switchTarget']);
}
