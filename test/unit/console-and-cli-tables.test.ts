import { COMMANDS, EXIT, exitCodeFor } from '../../cli/commands';
import { ESCAPE_HATCHES } from '../../lambdas/api/console/escape-hatches';
import { HATCH_PAGES } from '../../lambdas/api/console/manifest';
import type { RouteSpec } from '../../lambdas/api/route';
import { ROUTES } from '../../lambdas/api/routes';

/**
 * CLI commands whose API is being built elsewhere: they call their endpoint already and receive
 * the API's 404 until it lands. Remove an entry when its route joins ROUTES.
 */
const PENDING_ROUTES: string[] = [];

const mounted = new Set(ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`));

describe('the escape hatches', () => {
  it.each(ESCAPE_HATCHES.map((hatch) => [hatch.id, hatch] as const))('%s calls an audited admin route that takes a reason', (_id, hatch) => {
    // The console sends { reason } as the body of every hatch, or as the query of a DELETE.
    const body = hatch.reasonIn === 'query' ? hatch.route.request?.query : hatch.route.request?.body;

    expect(mounted.has(`${hatch.route.method.toUpperCase()} ${hatch.route.path}`)).toBe(true);
    expect(hatch.route.path.startsWith('/v1/admin/')).toBe(true);
    expect(body?.safeParse({ reason: 'operator checked the provider by hand' }).success).toBe(true);
    expect(body?.safeParse({}).success).toBe(false);
  });

  it.each(ESCAPE_HATCHES.map((hatch) => [hatch.id, hatch] as const))('%s needs only path parameters its page supplies', (_id, hatch) => {
    const needed = [...hatch.route.path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!);
    const supplied = [...HATCH_PAGES[hatch.page], ...Object.keys(hatch.fixedParams ?? {})];

    expect(needed.filter((name) => !supplied.includes(name))).toEqual([]);
  });
});

describe('the CLI commands', () => {
  it.each(COMMANDS.map((command) => [command.name, command] as const))('%s calls a route the API mounts (or one listed as pending)', (_name, command) => {
    const key = `${command.method} ${command.path}`;

    expect(mounted.has(key) || PENDING_ROUTES.includes(key)).toBe(true);
  });

  it.each(COMMANDS.map((command) => [command.name, command] as const))('%s sends a body exactly when its route takes one', (_name, command) => {
    const route: RouteSpec | undefined = (ROUTES as readonly RouteSpec[]).find((candidate) => `${candidate.method.toUpperCase()} ${candidate.path}` === `${command.method} ${command.path}`);

    expect(command.flags.some((flag) => flag.into === 'body')).toBe(route?.request?.body !== undefined);
  });

  it('lists pending routes only while they are not mounted', () => {
    expect(PENDING_ROUTES.filter((key) => mounted.has(key))).toEqual([]);
  });

  it('maps every HTTP refusal to one documented exit code', () => {
    expect([401, 403, 404, 409, 422, 429, 400, 413, 415, 500, 503].map(exitCodeFor)).toEqual([
      EXIT.auth,
      EXIT.auth,
      EXIT.notFound,
      EXIT.conflict,
      EXIT.conflict,
      EXIT.conflict,
      EXIT.invalid,
      EXIT.invalid,
      EXIT.invalid,
      EXIT.unavailable,
      EXIT.unavailable,
    ]);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.keys(EXIT).length);
  });
});
