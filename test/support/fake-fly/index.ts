import { FlyComputeProvider } from '../../../lambdas/providers/fly/fly-provider';
import type { FakeFly } from './fake-fly';

export { startFakeFly, isMacaroonToken, type FakeFly, type FakeFlyOptions, type Fault } from './fake-fly';
export { CAPACITY_ANSWERS, REAL_BEHAVIOURS, REAL_BEHAVIOURS_FAST, SPEC_ONLY, type CapacityAnswer, type FlyBehaviours } from './behaviours';

/** The organisation every app of a fake belongs to. */
export const FAKE_FLY_ORG = 'slipway-test-org';

/**
 * The Fly adapter pointed at a fake (one of its apps), as a deployment's configuration would build
 * it, with its consistency windows sized for the fake's delays (as production's are for Fly's): a
 * little longer than the fake's, never shorter, so a test fails if the adapter trusts Fly too early.
 */
export function flyProviderFor(fake: FakeFly, name = 'fly', app = fake.app): FlyComputeProvider {
  const b = fake.behaviours;
  return new FlyComputeProvider({
    name,
    app,
    org: FAKE_FLY_ORG,
    baseUrl: fake.baseUrl,
    token: async () => fake.token,
    maxRateLimitWaitMs: 50,
    justCreatedWindowMs: Math.max(50, b.readAfterCreateMs * 3),
    listLagMs: b.listLagMs > 0 ? b.listLagMs * 2 : 0,
    snapshotWaitMs: 5_000,
  });
}

/**
 * What a machine on the fake "answers" at its endpoint, as the local image does over HTTP: its
 * instance, its id and the boot log on its volume. Lambda cannot reach a Fly machine's private
 * address either; this stands in for the image.
 */
export function fakeMachineAnswer(fake: FakeFly, endpoint: string): { instanceId: string; machineId: string; volumeFile: string } {
  const machineId = new URL(endpoint).hostname.split('.')[0]!;
  const machine = fake.machine(machineId);
  if (!machine || machine.state !== 'started') throw new Error(`machine ${machineId} does not answer (${machine?.state ?? 'unknown'})`);
  const volumeId = machine.config.mounts?.[0]?.volume as string | undefined;
  return { instanceId: machine.config.env?.SLIPWAY_INSTANCE_ID ?? '', machineId, volumeFile: (volumeId && fake.readFile(volumeId, 'boots.log')) || '' };
}
