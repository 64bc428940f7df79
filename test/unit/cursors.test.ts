import { cursorCodec } from '../../lambdas/adapters/cursors';
import { ConfigError } from '../../lambdas/shared/config';
import { InvalidCursorError } from '../../lambdas/shared/errors/http';

const SECRET = 'a-test-secret-of-at-least-thirty-two-characters';
const KEY = { pk: 'INSTANCE#i-1', sk: 'INSTANCE', ownerPk: 'OWNER#user:alice', ownerSk: '2026-01-01T00:00:00.000Z#i-1' };

describe('pagination cursors', () => {
  const codec = cursorCodec(async () => SECRET);

  it('opens a cursor it sealed for the same listing to the key it carries', async () => {
    const cursor = await codec.seal(KEY, 'instances:user:alice:live');

    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(Buffer.from('OWNER#').toString('base64url').slice(0, 6));
    expect(await codec.open(cursor, 'instances:user:alice:live')).toEqual(KEY);
  });

  it.each([
    ['another listing of the same owner', async (c: string) => codec.open(c, 'instances:user:alice:all')],
    ['another owner', async (c: string) => codec.open(c, 'instances:user:mallory:live')],
    ['one altered character', async (c: string) => codec.open(`${c.slice(0, 20)}${c[20] === 'A' ? 'B' : 'A'}${c.slice(21)}`, 'instances:user:alice:live')],
    ['another secret', async (c: string) => cursorCodec(async () => `${SECRET}-rotated`).open(c, 'instances:user:alice:live')],
    ['base64 JSON of a key', async () => codec.open(Buffer.from(JSON.stringify(KEY)).toString('base64url'), 'instances:user:alice:live')],
    ['characters outside base64url', async () => codec.open('not a cursor!', 'instances:user:alice:live')],
  ])('refuses a cursor for %s', async (_label, open) => {
    const cursor = await codec.seal(KEY, 'instances:user:alice:live');

    await expect(open(cursor)).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('refuses a secret shorter than 32 characters as a configuration error', async () => {
    await expect(cursorCodec(async () => 'short').seal(KEY, 'x')).rejects.toBeInstanceOf(ConfigError);
  });
});
