/**
 * How the fake Fly departs from the spec, as real Fly does. Each knob names its source; the table in
 * README.md says the same and how the adapter copes. Where sources disagree the fake takes the
 * harsher reading. Delays are milliseconds of real time (not scaled by `secondMs`), so a suite can
 * keep them small and still run every path.
 */

/** The behaviours, each switchable. */
export interface FlyBehaviours {
  /**
   * A just-created machine answers 404 to GET, lease, wait, start, stop and delete for this long.
   * Source: flyctl internal/machine/leasable_machine.go (`WithJustCreated`: "Machine not found but we
   * just created it - retry with backoff (it may not be visible yet)").
   */
  readAfterCreateMs: number;
  /**
   * Lists (machines, volumes, snapshots) reflect creates and deletes this late: a new resource is
   * missing, a deleted one still listed as it was. Source: slipway issue 18 (an emulator of Fly's
   * observed behaviour: "Fly's lists lag creates and deletes by a second or two"); Kilo-Org/cloud
   * PR #3250 (volumes the client lost track of had to be found by enumerating).
   */
  listLagMs: number;
  /**
   * A destroyed machine's volume stays bound to it this long; deleting it meanwhile answers
   * 412 `failed_precondition: volume is currently bound to machine: <id>`. Sources: Kilo-Org/cloud
   * tests (`FlyApiError('failed_precondition: volume is currently bound to machine', 412)`),
   * livebook-dev/livebook PR #2737 ("await previous machine to release volume").
   */
  detachMs: number;
  /**
   * Hardware zones per region: a volume created with `require_unique_zone` (Fly's default: true)
   * needs a zone no live volume of the same name holds (app-wide with `unique_zone_app_wide`); none
   * left answers 400 `no capacity`. Sources: flyctl internal/command/volumes/create.go and fork.go
   * (`--require-unique-zone`, default true); Kilo-Org/cloud PR #787 (400 `{"error":"no capacity"}`).
   */
  zonesPerRegion: number;
  /**
   * A snapshot goes waiting → running → created, one step per this many ms; the create answers
   * 200 with no body. Sources: spec `VolumeSnapshot.status`; slipway issue 18.
   */
  snapshotStepMs: number;
  /**
   * Per-action rate limits: 1 request/s per action per machine (or app), burst 3; Get Machine 5/s,
   * burst 10; 429 alternately with and without Retry-After. `rateScale` speeds the refill up for
   * suites (1 = Fly's rates). Source: Fly docs "Machines API rate limits" (shared/fly/PROVENANCE.md).
   */
  rateLimits: boolean;
  rateScale: number;
  /**
   * `wait?state=stopped` without `instance_id` answers 400. Sources: flyctl issue #1751
   * ("instance_id required when waiting for stopped machine"), Kilo-Org/cloud PR #297 (Feb 2026).
   * fly-go stopped sending it later; the harsher reading is kept.
   */
  stoppedWaitNeedsInstanceId: boolean;
  /**
   * A volume created without the `compute` hint lands on a host sized for the smallest guest; a
   * larger machine on it answers 412 `insufficient resources to create new machine with existing
   * volume`. Source: Kilo-Org/cloud PR #388 ("Pass compute hints … so Fly picks a host with capacity").
   */
  hostsSizedByHint: boolean;
  /**
   * flaps inserts `bg_deployments_compat*` checks into machine answers for old flyctl versions.
   * Source: fly-go machine_types.go `RemoveCompatChecks`. Their status is not documented: the fake
   * reports them `warning`, the harsher reading.
   */
  compatChecks: boolean;
}

/** Everything off: the fake as the spec reads. */
export const SPEC_ONLY: FlyBehaviours = {
  readAfterCreateMs: 0,
  listLagMs: 0,
  detachMs: 0,
  zonesPerRegion: 1000,
  snapshotStepMs: 0,
  rateLimits: false,
  rateScale: 1,
  stoppedWaitNeedsInstanceId: false,
  hostsSizedByHint: false,
  compatChecks: false,
};

/** Every behaviour on, with delays small enough for suites (the default of `startFakeFly`). */
export const REAL_BEHAVIOURS_FAST: FlyBehaviours = {
  readAfterCreateMs: 40,
  listLagMs: 120,
  detachMs: 60,
  zonesPerRegion: 3,
  snapshotStepMs: 20,
  rateLimits: true,
  rateScale: 20,
  stoppedWaitNeedsInstanceId: true,
  hostsSizedByHint: true,
  compatChecks: true,
};

/** Every behaviour on at Fly's own pace (about a second of read-after-create, two of list lag). */
export const REAL_BEHAVIOURS: FlyBehaviours = {
  ...REAL_BEHAVIOURS_FAST,
  readAfterCreateMs: 1_000,
  listLagMs: 2_000,
  detachMs: 3_000,
  snapshotStepMs: 1_000,
  rateScale: 1,
};

/** A capacity refusal as Fly sends it, with where the body comes from. */
export interface CapacityAnswer {
  operation: 'Machines_create' | 'Volumes_create' | 'Machines_start';
  status: number;
  body: { error: string; status?: string };
  source: string;
}

/** The capacity refusals seen from Fly (bodies verbatim from the sources). */
export const CAPACITY_ANSWERS: readonly CapacityAnswer[] = [
  {
    operation: 'Machines_create',
    status: 412,
    body: { error: 'insufficient resources to create new machine with existing volume' },
    source: 'Kilo-Org/cloud PR #388 / #787 (412 on a volume-pinned host)',
  },
  {
    operation: 'Machines_create',
    status: 409,
    body: { error: 'aborted: could not reserve resource for machine: insufficient memory available to fulfill request' },
    source: 'flyctl internal/command/deploy/machines_deploymachinesapp.go, ensure_builder.go; Kilo-Org/cloud PR #787 (409 insufficient memory)',
  },
  { operation: 'Volumes_create', status: 400, body: { error: 'no capacity' }, source: 'Kilo-Org/cloud PR #787 (400 on createVolume)' },
  {
    operation: 'Machines_create',
    status: 403,
    body: { error: 'Your organization is over the allowed quota for memory in this region' },
    source: 'Kilo-Org/cloud PR #787 (403 "over the allowed quota"; the rest of the prose is not public)',
  },
  {
    operation: 'Machines_create',
    status: 422,
    body: { error: 'insufficient capacity in region ams', status: 'insufficient_capacity' },
    source: 'fly-go flaps/flaps_error.go (`regionOOCapacity StatusCode = "insufficient_capacity"`)',
  },
];
