/**
 * One provisioning path: every machine and volume slipway makes is made by
 * `lambdas/domain/provider-resources.ts` (create-or-adopt, by ownership tags), which the provision,
 * switch, recovery and mount-repair steps all call. No other module of `lambdas/` or `infra/` may
 * call a provider's create methods directly; the provider adapters implement them.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const THE_PATH = 'lambdas/domain/provider-resources.ts';
const CREATE_CALL = /\.(createVolume|createMachine|forkVolume|importVolume)\s*\(/;

/** Every TypeScript file under `dir`, relative to the repository root. */
function sources(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const relative = path.join(dir, name);
    if (statSync(path.join(ROOT, relative)).isDirectory()) return sources(relative);
    return relative.endsWith('.ts') ? [relative] : [];
  });
}

describe('the one provisioning path', () => {
  it('is the only module outside the provider adapters that calls a create method', () => {
    // Arrange
    const files = [...sources('lambdas'), ...sources('infra')].filter((file) => !file.startsWith('lambdas/providers/'));

    // Act
    const callers = files.filter((file) => CREATE_CALL.test(readFileSync(path.join(ROOT, file), 'utf8')));

    // Assert
    expect(callers).toEqual([THE_PATH]);
  });
});
