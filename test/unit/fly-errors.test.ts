/**
 * How the Fly adapter reads Fly's answers: every mapping from a status and body (each body taken from
 * the source named beside it) to the port's named error, the token scheme by shape, and the volume
 * states that mean gone.
 */
import { authorizationHeader, classify } from '../../lambdas/providers/fly/fly-http';
import { volumeStateOf } from '../../lambdas/providers/fly/fly-mapping';
import { ErrorNames } from '../../lambdas/shared/errors/core';
import { MachineNameTakenError } from '../../lambdas/shared/errors/provider';

const answer = (status: number) => new Response(null, { status });

describe('classify', () => {
  it.each([
    // Kilo-Org/cloud PR #388 / #787: a volume-pinned host without room.
    [412, { error: 'insufficient resources to create new machine with existing volume' }, ErrorNames.ProviderCapacity],
    // flyctl deploy/machines_deploymachinesapp.go and imgsrc/ensure_builder.go match this text; Kilo-Org/cloud PR #787: 409.
    [409, { error: 'aborted: could not reserve resource for machine: insufficient memory available to fulfill request' }, ErrorNames.ProviderCapacity],
    [409, { error: 'aborted: could not reserve resource for machine: insufficient CPUs available to fulfill request on the current host' }, ErrorNames.ProviderCapacity],
    [409, { error: 'deploys to this host are temporarily disabled' }, ErrorNames.ProviderCapacity],
    // Kilo-Org/cloud PR #787: createVolume in a region without room.
    [400, { error: 'no capacity' }, ErrorNames.ProviderCapacity],
    // Kilo-Org/cloud PR #787: the organisation's regional quota.
    [403, { error: 'Your organization is over the allowed quota for memory in this region' }, ErrorNames.ProviderCapacity],
    // fly-go flaps/flaps_error.go: `insufficient_capacity`; shared/fly/PROVENANCE.md: `volume_placement_capacity`.
    [422, { error: 'no room', status: 'insufficient_capacity' }, ErrorNames.ProviderCapacity],
    [412, { error: 'no room', status: 'volume_placement_capacity' }, ErrorNames.ProviderCapacity],
    // Kilo-Org/cloud tests and PR #1135-era answers: a volume still bound; asynchronous detach.
    [412, { error: 'failed_precondition: volume is currently bound to machine: 3287eeeb342085' }, ErrorNames.VolumeAttached],
    // Kilo-Org/cloud PR #1135: a machine name already taken.
    [409, { error: 'already_exists: a machine named "x" already exists (machine ID 3287eeeb342085)' }, ErrorNames.MachineNameTaken],
    // Another holder's lease (shared/fly/PROVENANCE.md): transient.
    [409, { error: 'lease currently held by another client' }, ErrorNames.ProviderUnavailable],
    // /wait ran out (PROVENANCE.md), rate limits, and any 5xx: transient.
    [408, { error: 'deadline_exceeded', status: 'deadline_exceeded' }, ErrorNames.ProviderUnavailable],
    [429, { error: 'rate limit exceeded' }, ErrorNames.ProviderUnavailable],
    [503, undefined, ErrorNames.ProviderUnavailable],
    [599, { error: 'something new' }, ErrorNames.ProviderUnavailable],
    [404, { error: 'machine not found' }, ErrorNames.ProviderResourceNotFound],
    // flyctl issue #1751: a refusal no retry fixes; unknown 4xx stay fatal.
    [400, { error: 'instance_id required when waiting for stopped machine' }, ErrorNames.ProviderRejected],
    [412, { error: 'failed_precondition: min_secrets_version 3 not met' }, ErrorNames.ProviderRejected],
    [422, { error: 'size_gb must be at least 1' }, ErrorNames.ProviderRejected],
    [401, { error: 'unauthorized' }, ErrorNames.ProviderRejected],
    [418, 'a text body', ErrorNames.ProviderRejected],
  ] as const)('reads %i %j as %s', (status, body, name) => {
    expect(classify('call', answer(status), body).name).toBe(name);
  });

  it('carries the machine id a taken name names', () => {
    const error = classify('create machine', answer(409), { error: 'already_exists: a machine named "x" already exists (machine ID 3287eeeb342085)' });

    expect((error as MachineNameTakenError).existingMachineId).toBe('3287eeeb342085');
  });
});

describe('authorizationHeader', () => {
  it.each([
    ['fm2_lJPE', 'FlyV1 fm2_lJPE'],
    ['FlyV1 fm2_lJPE,fm2_abc', 'FlyV1 fm2_lJPE,fm2_abc'],
    ['fm1r_abc', 'FlyV1 fm1r_abc'],
    ['Bearer FlyV1 fm2_x', 'FlyV1 fm2_x'],
    ['personal-access-token', 'Bearer personal-access-token'],
    ['Bearer abc', 'Bearer abc'],
  ])('sends %s as %s (fly-go auth.go)', (token, header) => {
    expect(authorizationHeader(token)).toBe(header);
  });
});

describe('volumeStateOf', () => {
  // fly-go flaps/flaps_volumes.go `destroyedVolumeStates`.
  it.each(['scheduling_destroy', 'fork_cleanup', 'waiting_for_detach', 'pending_destroy', 'destroying', 'destroyed'])('reads %s as destroyed', (state) => {
    expect(volumeStateOf(state)).toBe('destroyed');
  });

  it.each([
    ['created', 'created'],
    ['hydrating', 'hydrating'],
    ['restoring', 'hydrating'],
  ])('reads %s as %s', (state, port) => {
    expect(volumeStateOf(state)).toBe(port);
  });
});
