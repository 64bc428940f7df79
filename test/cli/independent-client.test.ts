/**
 * Done-when of issue 22: a client generated from `/openapi.json` by an independent generator
 * (`@hey-api/openapi-ts`, pinned; not the openapi-typescript + openapi-fetch pair slipway ships)
 * type-checks and runs the README's journey — provision → running → stop → start → switch → cancel
 * a slow provision → destroy — with no cast, against a whole local stack.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { holdCalls } from '../support/sfn-helpers';

const ROOT = path.join(__dirname, '..', '..');
const HERE = path.join(__dirname, 'independent-client');
/** Git-ignored: made by this test from the document the API serves (the committed one). */
const GENERATED = path.join(HERE, 'generated');

let h: Harness;

/** What `journey.ts` takes (its own types are checked with the generated client, above). */
interface JourneyOptions {
  baseUrl: string;
  token: string;
  holdNextMachineCreate(): { entered: Promise<void>; open(): void };
}

beforeAll(async () => {
  rmSync(GENERATED, { recursive: true, force: true });
  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'openapi-ts'), ['-i', 'lambdas/api/openapi.json', '-o', GENERATED, '-c', '@hey-api/client-fetch'], { cwd: ROOT, stdio: 'pipe' });
  h = await startHarness({ secondProvider: true });
}, 60_000);
afterAll(async () => {
  await h?.close();
});

describe('a client from an independent generator (@hey-api/openapi-ts)', () => {
  it('type-checks the journey against what it generated, with no cast', () => {
    // Act
    const check = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript-native', 'bin', 'tsc'), '-p', path.join(HERE, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8' });

    // Assert: no diagnostics (shown here when there are).
    expect({ status: check.status, diagnostics: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, diagnostics: '' });
  });

  it('runs the README journey: provision → running → stop → start → switch → cancel a slow provision → destroy', async () => {
    // Arrange: the journey is loaded only now, once its client is generated (by a path the
    // repository's own type-check does not follow: it has no generated client to check against).
    const journeyModule = './independent-client/journey';
    const { runJourney } = (await import(journeyModule)) as { runJourney: (options: JourneyOptions) => Promise<Record<string, unknown> & { switchTarget: string }> };
    const token = await h.token({ sub: 'heyapi-journey' });

    // Act
    const seen = await runJourney({
      baseUrl: h.api.url,
      token,
      holdNextMachineCreate: () => {
        const parked = holdCalls(h.provider.inner, 'createMachine', { once: true });
        return { entered: parked.entered, open: parked.open };
      },
    });

    // Assert
    expect(seen).toEqual({
      provisioned: 'SUCCEEDED',
      afterProvision: 'running',
      stop: 'SUCCEEDED',
      start: 'SUCCEEDED',
      switchedTo: seen.switchTarget,
      switchTarget: h.west!.name,
      cancel: { status: 200, settled: true, instanceStatus: 'failed', code: 'cancelled' },
      cancelAgain: { status: 200, sameRequest: true },
      destroy: 'SUCCEEDED',
      history: ['destroy', 'switch', 'start', 'stop', 'provision'],
      afterDestroy: 'instance_not_found',
    });
  }, 120_000);
});
