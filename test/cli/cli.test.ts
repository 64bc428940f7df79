import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { EXIT } from '../../cli/commands';
import { run } from '../../cli/main';
import { ProviderCapacityError } from '../../lambdas/shared/errors/provider';
import { startHarness, type Harness } from '../support/harness';
import { provisionRunning } from '../support/instances';
import { holdCalls } from '../support/sfn-helpers';

let h: Harness;

// A whole stack starts in a few seconds alone, more on a busy machine.
beforeAll(async () => {
  h = await startHarness({ secondProvider: true });
}, 30_000);
afterAll(async () => {
  await h.close();
});
beforeEach(() => {
  h.provider.reset();
});

/** Run the CLI in-process against the harness; what it printed and its exit code. */
async function cli(args: string[], options: { token?: string; env?: Record<string, string> } = {}) {
  let stdout = '';
  let stderr = '';
  const requests: string[] = [];
  const code = await run([...args, '--interval', '50'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { SLIPWAY_URL: h.api.url, ...(options.token ? { SLIPWAY_TOKEN: options.token } : {}), ...options.env },
    isTTY: false,
    fetch: (input, init) => {
      const request = input instanceof Request ? input : new Request(input, init);
      requests.push(`${request.method} ${request.url.slice(h.api.url.length)}`);
      return fetch(request);
    },
  });
  return { code, stdout, stderr, requests };
}

describe('slipway provision --wait', () => {
  it('shows each step as it finishes and exits 0 when the provision succeeds', async () => {
    // Arrange
    const token = await h.token({ sub: 'cli-ok' });

    // Act
    const out = await cli(['provision', '--name', 'from-cli', '--wait'], { token });

    // Assert
    expect(out.code).toBe(EXIT.ok);
    const lines = out.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^provision i-[0-9a-z]{26} {2}i-[0-9a-z]{26}-provision-v1$/);
    const finished = lines.filter((line) => line.startsWith('  ✓ ')).map((line) => line.slice(4).split('  ')[0]);
    expect(finished).toEqual(['MarkProviderWorkStarted', 'CreateVolume', 'CreateMachine', 'WaitMachineStarted', 'CommitProvision']);
    expect(lines.at(-1)).toMatch(/^✓ provision succeeded in \d+\.\ds$/);
    expect(out.stdout).toBe('');
    const id = /provision (i-[0-9a-z]{26})/.exec(lines[0]!)![1]!;
    expect((await h.instanceItem(id))!.status).toBe('running');
  });

  it('shows the failing step and its error in red, the compensation after it, and exits 1', async () => {
    // Arrange
    const token = await h.token({ sub: 'cli-fail' });
    h.provider.failNext('createVolume', () => new ProviderCapacityError('no capacity in ams'), { times: 1 });

    // Act
    const out = await cli(['provision', '--wait'], { token, env: { FORCE_COLOR: '1' } });

    // Assert
    expect(out.code).toBe(EXIT.operationFailed);
    expect(out.stderr).toContain('\x1b[31mProviderCapacity: no capacity in ams\x1b[0m');
    const plain = out.stderr.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
    expect(plain).toMatch(/ {2}✗ CreateVolume {2}\d+\.\ds {2}ProviderCapacity: no capacity in ams {2}\(caught\)/);
    expect(plain).toMatch(/ {2}✓ CompensateProvision {2}/);
    expect(plain).toMatch(/ {2}✓ FailProvision {2}/);
    expect(plain.trim().split('\n').at(-1)).toMatch(/^✗ provision FAILED: ProviderCapacity/);
  });

  it('prints one JSON document with the execution and its steps under --json', async () => {
    // Arrange
    const token = await h.token({ sub: 'cli-json' });

    // Act
    const out = await cli(['provision', '--wait', '--json'], { token });

    // Assert
    expect(out.code).toBe(EXIT.ok);
    expect(out.stderr).toBe('');
    const doc = JSON.parse(out.stdout) as { accepted: { instance: { id: string } }; execution: { status: string }; steps: Array<{ name: string; status: string }> };
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
    expect(doc.execution.status).toBe('SUCCEEDED');
    expect(doc.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(doc.accepted.instance.id).toMatch(/^i-/);
  });
});

describe('slipway lifecycle and reads', () => {
  it('stops with --wait, lists, shows and lists operations (human and --json)', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cli-life');

    // Act
    const stop = await cli(['stop', id, '--wait'], { token });
    const ls = await cli(['ls'], { token });
    const show = await cli(['show', id, '--json'], { token });
    const ops = await cli(['ops', id], { token });

    // Assert
    expect(stop.code).toBe(EXIT.ok);
    // One request that the server holds until the stop ended, no polling.
    expect(stop.requests).toEqual([`POST /v1/instances/${id}/stop`, `GET /v1/instances/${id}/operations/${id}-stop-v2?wait=20`]);
    expect(stop.stderr).toMatch(/✓ StopMachine/);
    expect(stop.stderr).toMatch(/✓ stop succeeded/);
    expect(ls.stdout.split('\n')[0]).toMatch(/^ID +NAME +STATUS +PROVIDER +CREATED$/);
    expect(ls.stdout).toMatch(new RegExp(`${id} .* stopped `));
    expect(JSON.parse(show.stdout)).toMatchObject({ id, status: 'stopped' });
    expect(ops.stdout.split('\n').slice(1, 3).map((line) => line.split(/ +/).slice(0, 3))).toEqual([
      [`${id}-stop-v2`, 'stop', 'SUCCEEDED'],
      [`${id}-provision-v1`, 'provision', 'SUCCEEDED'],
    ]);
  });

  it('exits with the code of what the API refused: 5 busy or invalid, 4 not found, 3 unauthorised, 2 usage', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cli-codes');
    const noAdmin = await h.token({ sub: 'cli-codes' });

    // Act
    const invalid = await cli(['start', id], { token });
    const missing = await cli(['show', 'i-00000000000000000000000000'], { token });
    const badToken = await cli(['ls'], { token: 'not.a.token' });
    const noToken = await cli(['ls']);
    const badArgs = await cli(['stop'], { token });
    const unknown = await cli(['fly-away'], { token });
    const jsonRefusal = await cli(['start', id, '--json'], { token });
    const notAdmin = await cli(['ls', '--owner', 'user:someone-else'], { token: noAdmin });

    // Assert
    expect([invalid.code, missing.code, badToken.code, noToken.code, badArgs.code, unknown.code, notAdmin.code]).toEqual([EXIT.conflict, EXIT.notFound, EXIT.auth, EXIT.usage, EXIT.usage, EXIT.usage, EXIT.notFound]);
    expect(invalid.stderr).toMatch(/^error: .* \(invalid_state, HTTP 409\)\n$/);
    expect(JSON.parse(jsonRefusal.stdout)).toMatchObject({ status: 409, error: { code: 'invalid_state' } });
    expect(jsonRefusal.stderr).toBe('');
  });

  it('cancels a running operation, answers a repeat the same, and exits 5 for one that has ended', async () => {
    // Arrange: a stop held at the provider.
    const { id, token } = await provisionRunning(h, 'cli-cancel');
    const parked = holdCalls(h.provider.inner, 'stopMachine');
    const stop = await cli(['stop', id, '--json'], { token });
    const name = JSON.parse(stop.stdout).operation.executionName as string;
    await parked.entered;
    parked.restore();

    // Act
    const cancelled = await cli(['cancel', id, name], { token });
    const again = await cli(['cancel', id, name, '--json'], { token });
    const provisionName = (await h.instanceItem(id))!.operations![0]!.executionName;
    const ended = await cli(['cancel', id, provisionName], { token });
    parked.open();

    // Assert
    expect([cancelled.code, cancelled.stdout]).toEqual([EXIT.ok, `cancelled: stop of ${id}, execution ${name} ABORTED; the instance is running\n`]);
    expect([again.code, JSON.parse(again.stdout).instance.lastStopError.code]).toEqual([EXIT.ok, 'cancelled']);
    expect(cancelled.requests).toEqual([`DELETE /v1/instances/${id}/operations/${name}`]);
    expect(ended.code).toBe(EXIT.conflict);
    expect(ended.stderr).toMatch(/\(operation_ended, HTTP 409\)\n$/);
  });

  it('switches provider with --wait, showing each step, and refuses an unknown provider with its problem', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cli-switch');

    // Act
    const unknown = await cli(['switch-provider', id, '--provider', 'elsewhere', '--wait'], { token });
    const noProvider = await cli(['switch-provider', id], { token });
    const moved = await cli(['switch-provider', id, '--provider', h.west!.name, '--data', 'copy', '--wait'], { token });

    // Assert
    expect(unknown.code).toBe(EXIT.invalid);
    expect(unknown.stderr).toContain('(unknown_provider, HTTP 400)');
    expect(noProvider.code).toBe(EXIT.usage);
    expect(moved.code).toBe(EXIT.ok);
    const finished = moved.stderr.split('\n').filter((line) => line.startsWith('  ✓ ')).map((line) => line.slice(4).split('  ')[0]);
    expect(finished).toEqual(['StopMachine', 'WriteSwitchTarget', 'CreateVolume', 'CreateMachine', 'WasRunning', 'WaitMachineStarted', 'RetireSwitchedFrom', 'CommitSwitch']);
    expect(await h.instanceItem(id)).toMatchObject({ status: 'running', provider: h.west!.name });
  });

  it('runs as `npx slipway` through its bin entry', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'slipway.cjs'), '--help']);

    expect(stdout).toMatch(/^usage: slipway <command>/);
    expect(stdout).toContain('switch-provider <id>');
  });
});

describe('what the CLI tells a new user', () => {
  it('prints its version, help on `help`, the providers, and show with labels', async () => {
    // Arrange
    const { id, token } = await provisionRunning(h, 'cli-gaps');
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };

    // Act
    const version = await cli(['--version']);
    const help = await cli(['help']);
    const providers = await cli(['providers'], { token });
    const show = await cli(['show', id], { token });

    // Assert
    expect([version.code, version.stdout]).toEqual([EXIT.ok, `slipway ${pkg.version}\n`]);
    expect(help.code).toBe(EXIT.ok);
    expect(help.stdout).toContain('--interval <ms>');
    expect(help.stdout).toMatch(/^ {2}providers +The providers/m);
    expect(providers.stdout.split('\n')[0]).toMatch(/^NAME +KIND +REGIONS +SIZES$/);
    expect(providers.stdout).toMatch(new RegExp(`^${h.provider.name} +local +${h.region} .* default$`, 'm'));
    expect(show.stdout).toMatch(new RegExp(`^provider +${h.provider.name}$`, 'm'));
    expect(show.stdout).toMatch(new RegExp(`^region +${h.region}$`, 'm'));
    expect(show.stdout).toMatch(/^size +\S+$/m);
  });

  it('explains an owner the token may not act for, and a name already taken', async () => {
    // Arrange
    const token = await h.token({ sub: 'cli-hints' });
    await cli(['provision', '--name', 'taken', '--wait'], { token });

    // Act
    const owner = await cli(['ls', '--owner', 'org:nope'], { token });
    const taken = await cli(['provision', '--name', 'taken'], { token });

    // Assert
    expect(owner.code).toBe(EXIT.notFound);
    expect(owner.stderr).toContain('hint: your token may not act for that owner');
    expect(taken.code).toBe(EXIT.conflict);
    expect(taken.stderr).toMatch(/\(name_taken, HTTP 409\)\nhint: instance i-[0-9a-z]{26} has that name/);
  });
});
