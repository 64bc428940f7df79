import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ComputeProvider } from '../../lambdas/providers/compute-provider';
import { ProviderCapacityError, ProviderUnavailableError } from '../../lambdas/shared/errors/provider';
import { launchChromium, screenshot } from '../support/browser';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';

/** Provider calls a test holds until it lets them through, so the graph can be watched state by state. */
type Method = Exclude<keyof ComputeProvider, 'name'>;
const holds: Partial<Record<Method, { promise: Promise<void>; open: () => void }>> = {};
function hold(method: Method): () => void {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  holds[method] = { promise, open };
  return () => {
    delete holds[method];
    open();
  };
}
const heldProvider = (inner: ComputeProvider): ComputeProvider =>
  new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        await holds[property as Method]?.promise;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });

// A browser and a whole stack per test: generous, but every wait below is for an event, not a time.
jest.setTimeout(60_000);

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let admin: string;
/** Every URL the page asked for, to prove no token ever travels in one. */
const requested: string[] = [];

beforeAll(async () => {
  h = await startHarness({ wrap: heldProvider });
  admin = await h.token({ sub: 'console-admin', admin: true });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});
beforeEach(async () => {
  h.provider.reset();
  // A viewer far from UTC, so local times and their UTC titles differ.
  context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, timezoneId: 'Asia/Tokyo', locale: 'en-GB' });
  page = await context.newPage();
  page.on('request', (request) => requested.push(request.url()));
  page.on('pageerror', (error) => {
    throw error;
  });
});
afterEach(async () => {
  await context.close();
});

/** Open the console signed in the way `npm start`'s link does, then go to `hash`. */
async function signedIn(hash = '/executions'): Promise<void> {
  await page.goto(`${h.api.url}/console#token=${admin}`);
  await page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor();
  if (hash !== '/executions') await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
}

const stateStatus = (state: string) => page.locator(`.graph .state[data-state="${state}"]`).getAttribute('data-status');
const waitForState = (state: string, status: string) => page.locator(`.graph .state[data-state="${state}"][data-status="${status}"]`).waitFor({ timeout: 15_000 });

describe('the operator console', () => {
  it('signs in from the printed link, keeps the token out of the address bar, the page and every URL', async () => {
    // Act
    await signedIn();

    // Assert
    expect(page.url()).toBe(`${h.api.url}/console#/executions`);
    expect(await page.evaluate("sessionStorage.getItem('slipway.console.token')")).toBe(admin);
    expect(await page.content()).not.toContain(admin);
    expect(requested.filter((url) => url.includes(admin.slice(20, 60)) && !url.includes('#token='))).toEqual([]);
    await screenshot(page, '01-executions');
  });

  it('watches a provision turn green state by state, from one started through the API', async () => {
    // Arrange: hold the volume and the machine so each step can be seen running.
    const releaseVolume = hold('createVolume');
    const releaseMachine = hold('createMachine');
    const token = await h.token({ sub: 'console-watch' });
    const res = await h.request('POST', '/v1/instances', { token, body: { name: 'watched' }, headers: { 'idempotency-key': `watch-${Date.now()}` } });
    expect(res.status).toBe(202);
    const name = res.body.operation.executionName as string;
    await signedIn(`/executions/provision/${name}`);

    // Act + Assert: one state at a time.
    await waitForState('MarkProviderWorkStarted', 'succeeded');
    await waitForState('CreateVolume', 'running');
    expect(await stateStatus('CreateMachine')).toBe('not-run');
    await screenshot(page, '02-provision-running-create-volume');
    releaseVolume();
    await waitForState('CreateVolume', 'succeeded');
    await waitForState('CreateMachine', 'running');
    expect(await stateStatus('WaitMachineStarted')).toBe('not-run');
    await screenshot(page, '03-provision-running-create-machine');
    releaseMachine();
    for (const state of ['CreateMachine', 'WaitMachineStarted', 'CommitProvision']) await waitForState(state, 'succeeded');
    await page.locator('main[data-execution-status="SUCCEEDED"]').waitFor();
    expect(await stateStatus('CompensateProvision')).toBe('not-run');
    await screenshot(page, '04-provision-succeeded');
    await h.waitForExecution(res.body.operation.executionArn);
  });

  it('opens a failed execution and reads the failing state’s error and cause, by keyboard', async () => {
    // Arrange
    h.provider.failNext('createVolume', () => new ProviderCapacityError('no capacity in ams for this volume'), { times: 1 });
    const token = await h.token({ sub: 'console-failed' });
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `failed-${Date.now()}` } });
    await h.waitForExecution(res.body.operation.executionArn);
    await signedIn();
    await page.getByLabel('Status').selectOption('FAILED');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: res.body.operation.executionName }).click();
    await waitForState('ProvisionFailed', 'failed');

    // Act: Tab from the page heading to the failing state, then Enter.
    let focused: string | null = null;
    for (let i = 0; i < 60 && focused !== 'CreateVolume'; i++) {
      await page.keyboard.press('Tab');
      focused = (await page.evaluate('document.activeElement?.dataset?.state ?? null')) as string | null;
    }
    await page.keyboard.press('Enter');

    // Assert
    const details = page.getByRole('complementary', { name: 'Selected state' });
    await expect(details.getByRole('heading', { level: 2 }).textContent()).resolves.toBe('CreateVolume');
    expect(await page.evaluate('document.activeElement?.textContent')).toBe('CreateVolume');
    expect(await stateStatus('CreateVolume')).toBe('caught');
    expect(await stateStatus('CompensateProvision')).toBe('succeeded');
    expect(await details.locator('.error-text').textContent()).toBe('ProviderCapacity');
    expect(await details.textContent()).toContain('no capacity in ams for this volume');
    expect(await page.locator('.summary').textContent()).toContain('ProviderCapacity');
    await screenshot(page, '05-failed-execution-error');
  });

  it('releases a stuck reservation with a reason and shows the audit entry', async () => {
    // Arrange: a provision whose cleanup cannot be verified leaves its reservation needs_reconciliation.
    h.provider.failNext('createMachine', () => new ProviderCapacityError('no capacity'), { times: 1 });
    h.provider.failNext('deleteVolume', () => new ProviderUnavailableError('provider down'), { times: 10_000 });
    const owner = 'console-stuck';
    const token = await h.token({ sub: owner });
    const res = await h.request('POST', '/v1/instances', { token, body: {}, headers: { 'idempotency-key': `stuck-${Date.now()}` } });
    await h.waitForExecution(res.body.operation.executionArn);
    expect((await h.item({ pk: `OWNER#user:${owner}`, sk: 'RESERVATION' }))?.status).toBe('needs_reconciliation');
    await signedIn(`/owners/user:${owner}`);
    await page.getByRole('heading', { level: 2, name: 'Reservation' }).waitFor();

    // Act
    await page.getByRole('button', { name: 'Release the reservation…' }).click();
    const reason = 'volume deleted by hand in the provider console, ticket OPS-42';
    await page.getByLabel('Reason (required, kept in the audit trail)').fill(reason);
    await page.locator('.hatch-form').getByRole('button', { name: 'Release the reservation' }).click();

    // Assert
    const row = page.locator('table.audit-trail tbody tr', { hasText: reason });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('td').nth(1).textContent()).toBe('reservation.release');
    expect(await row.locator('td').nth(2).textContent()).toBe('user:console-admin');
    await expect(page.locator('.facts dd').first().textContent()).resolves.toBe('released');
    expect((await h.item({ pk: `OWNER#user:${owner}`, sk: 'RESERVATION' }))?.status).toBe('released');
    await screenshot(page, '06-reservation-released-audit');
    h.provider.reset();
  });

  it('shows an instance’s debug view with its operations and the settle hatch, times in the viewer’s zone with UTC on hover', async () => {
    // Arrange
    const { id } = await provisionRunning(h, 'console-instance');
    await signedIn(`/instances/${id}`);

    // Act
    await page.getByRole('heading', { level: 2, name: /Live provider view/ }).waitFor();
    await page.locator('.operations tbody tr').first().waitFor();

    // Assert
    const created = page.locator('dl.facts time').first();
    expect(await created.getAttribute('title')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(await created.textContent()).toMatch(/GMT\+9/);
    expect(await page.locator('.operations tbody tr').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Settle now…' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Force a recovery…' }).count()).toBe(1);
    expect(await page.locator('#s-volumes').locator('xpath=..').textContent()).toContain('none');
    await screenshot(page, '07-instance-debug-view');
  });

  it('forces a recovery with a reason, then deletes the retained volume early from its row', async () => {
    // Arrange: a running instance whose volume has a snapshot, so a recovery retains it.
    const { id } = await provisionRunning(h, 'console-recover');
    const oldVolumeId = (await h.instanceItem(id))!.volumeId!;
    await h.backend.createSnapshot(oldVolumeId);
    await signedIn(`/instances/${id}`);
    await page.getByRole('heading', { level: 2, name: /Live provider view/ }).waitFor();

    // Act: force the recovery, let it finish, and open the instance again.
    await page.getByRole('button', { name: 'Force a recovery…' }).click();
    await page.locator('[data-hatch="force-recovery"]').getByLabel('Reason (required, kept in the audit trail)').fill('disk errors reported by the owner');
    await page.locator('[data-hatch="force-recovery"] .hatch-form').getByRole('button', { name: 'Force a recovery' }).click();
    await page.locator('[data-hatch="force-recovery"] .hatch-result.ok').waitFor();
    await h.runtime.stepFunctions.idle();
    await page.reload();
    const row = page.locator('#s-volumes').locator('xpath=..').locator('tbody tr', { hasText: oldVolumeId });
    await row.waitFor({ timeout: 15_000 });
    const retained = await row.textContent();
    await screenshot(page, '09-recovered-volume-retained');
    await row.getByRole('button', { name: 'Delete this volume now…' }).click();
    await row.getByLabel('Reason (required, kept in the audit trail)').fill('owner copied the data off it');
    await row.locator('.hatch-form').getByRole('button', { name: 'Delete this volume now' }).click();
    await page.locator('#s-volumes').locator('xpath=..').locator('.hatch-result.ok').or(page.locator('#s-volumes').locator('xpath=..').locator('tbody tr', { hasText: 'deleted' })).first().waitFor({ timeout: 15_000 });

    // Assert
    expect(retained).toContain('retained');
    expect((await h.instanceItem(id))).toMatchObject({ status: 'running' });
    expect((await h.instanceItem(id))?.volumeId).not.toBe(oldVolumeId);
    expect(await h.item({ pk: `VOLUME#${oldVolumeId}`, sk: 'VOLUME' })).toMatchObject({ state: 'deleted', deletedBy: 'operator:user:console-admin' });
    expect((await h.backend.getVolume(oldVolumeId))?.state ?? 'destroyed').toBe('destroyed');
  });

  it('lists what needs attention and runs the reconcile sweep with a reason', async () => {
    // Arrange
    await signedIn('/attention');
    await page.getByRole('heading', { level: 2, name: 'Due for the sweeps now' }).waitFor();

    // Act
    await page.getByRole('button', { name: 'Run the reconcile sweep…' }).click();
    await page.locator('[data-hatch="run-sweep-reconcile"]').getByLabel('Reason (required, kept in the audit trail)').fill('checking the sweep after a deploy');
    await page.locator('[data-hatch="run-sweep-reconcile"] .hatch-form').getByRole('button', { name: 'Run the reconcile sweep' }).click();

    // Assert
    await page.locator('.hatch-result.ok').waitFor();
    await screenshot(page, '08-attention');
  });

  it('shows a token without the admin scope nothing: every data call is refused with 403', async () => {
    // Arrange
    const notAdmin = await h.token({ sub: 'console-nobody' });
    const answers: number[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/v1/')) answers.push(response.status());
    });

    // Act
    await page.goto(`${h.api.url}/console#token=${notAdmin}`);

    // Assert
    await page.getByRole('alert').filter({ hasText: 'lacks the admin scope' }).waitFor();
    expect(answers).toEqual([403]);
    expect(await page.evaluate("sessionStorage.getItem('slipway.console.token')")).toBeNull();
    expect(await page.content()).not.toContain(notAdmin);
    await screenshot(page, '09-not-admin');
  });

  it('renders 1,000 executions page by page without stalling', async () => {
    // Arrange: 1,000 stop executions (each fails at once: its input names no instance).
    const arn = h.runtime.deps.stateMachines.stop;
    const started: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const arns = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const n = batch * 50 + i;
          const out = await h.runtime.deps.sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: `i-${'s'.repeat(20)}${String(n).padStart(6, '0')}-stop-v1`, input: '{}' }));
          return out.executionArn!;
        }),
      );
      started.push(...arns);
      await Promise.all(arns.map((executionArn) => h.waitForExecution(executionArn)));
    }
    await signedIn('/executions?workflow=stop');
    await page.getByText(/^Showing 100 executions; older ones remain\.$/).waitFor();

    // Act
    const began = Date.now();
    for (let shown = 100; shown < 1000; shown += 100) {
      await page.getByRole('button', { name: 'Load older executions' }).click();
      await page.getByText(new RegExp(`^Showing ${shown + 100} executions`)).waitFor({ timeout: 20_000 });
    }
    const tookMs = Date.now() - began;

    // Assert
    expect(await page.locator('.executions tbody tr').count()).toBeGreaterThanOrEqual(1000);
    const renders = (await page.evaluate('window.__slipwayConsole.renders')) as Array<{ page: string; rows: number; ms: number }>;
    const mine = renders.filter((render) => render.page === 'executions');
    expect(mine.length).toBeGreaterThanOrEqual(10);
    // Each page of 100 rows renders in well under a frame budget's worth of stalling.
    expect(Math.max(...mine.map((render) => render.ms))).toBeLessThan(250);
    process.stdout.write(`console: 1,000 executions in ${mine.length} pages; render ms per page max ${Math.max(...mine.map((r) => r.ms)).toFixed(1)}, total ${mine.reduce((s, r) => s + r.ms, 0).toFixed(1)}; clicks to 1,000 rows ${tookMs} ms\n`);
    await screenshot(page, '10-thousand-executions');
  }, 180_000);
});
