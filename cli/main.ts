/**
 * `npx slipway …` (or `npm run cli -- …`): the API from a terminal or a script. Commands come from
 * `commands.ts`; `--wait` follows the operation step by step as it happens; `--json` prints exactly
 * one JSON document on stdout; the exit code says how it went (`EXIT`).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CLOSED_EXECUTION_STATUSES } from '../lambdas/shared/execution-progress';
import { COMMANDS, EXIT, exitCodeFor, PROGRESS_PATH, type CommandSpec, type ProgressAnswer } from './commands';
import { renderAnswer, Progress, type Style } from './output';
import { createSlipwayClient } from '../client';

/** Where the CLI reads and writes; tests pass their own. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (spinner and in-place redraws). */
  isTTY: boolean;
  fetch?: typeof fetch;
}

/** Flags every command takes. */
const GLOBAL_FLAGS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  wait: { type: 'boolean', default: false },
  timeout: { type: 'string' },
  interval: { type: 'string' },
  'idempotency-key': { type: 'string' },
  'no-color': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

const DEFAULT_URL = 'http://127.0.0.1:3000';

/** The package's version, as `--version` prints it. */
const VERSION: string = (require('../package.json') as { version: string }).version;

/** How long each `--wait` request asks the server to hold (under its 25 s cap). */
const SERVER_WAIT_SECONDS = 20;

/** A problem the API answered, or the network's failure (status 0). */
interface Failure {
  status: number;
  problem: { code?: string; detail?: string; title?: string; [key: string]: unknown };
}

function usage(): string {
  const lines = [
    'usage: slipway <command> [arguments] [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${[c.name, ...c.args.map((a) => `<${a}>`)].join(' ').padEnd(26)} ${c.summary}${c.flags.length ? `  [${c.flags.map((f) => `--${f.name}${f.required ? '' : '?'}`).join(' ')}]` : ''}`),
    '',
    'Flags:',
    '  --url <base>        API base URL (SLIPWAY_URL; default http://127.0.0.1:3000)',
    '  --token <jwt>       Bearer token (SLIPWAY_TOKEN)',
    '  --wait              Follow the operation step by step until it ends',
    '  --timeout <s>       Give up waiting after this many seconds (default 900)',
    '  --interval <ms>     Pause between looks when the server does not hold the request (default 1000)',
    '  --json              Print one JSON document on stdout, nothing else',
    '  --idempotency-key   For provision (default: a new one)',
    '  --no-color          No colours (also NO_COLOR)',
    '  --version           Print the version',
    '  -h, --help          This help (also: slipway help)',
    '',
    'Exit codes:',
    ...Object.entries(EXIT).map(([name, code]) => `  ${String(code).padStart(2)}  ${name}`),
    '',
  ];
  return lines.join('\n');
}

/** `--name-of-flag` → `nameOfFlag`. */
const camel = (name: string) => name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** Run the CLI; resolves to its exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const name = argv.find((arg) => !arg.startsWith('-'));
  const command = COMMANDS.find((c) => c.name === name);
  if (!command && argv.includes('--version')) {
    io.stdout.write(`slipway ${VERSION}\n`);
    return EXIT.ok;
  }
  if (!command) {
    const asked = argv.includes('--help') || argv.includes('-h') || argv.length === 0 || name === 'help';
    (asked ? io.stdout : io.stderr).write(`${asked ? '' : `unknown command${name ? ` "${name}"` : ''}\n\n`}${usage()}`);
    return asked ? EXIT.ok : EXIT.usage;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const options: ParseArgsConfig['options'] = { ...GLOBAL_FLAGS, ...Object.fromEntries(command.flags.map((f) => [f.name, { type: 'string' as const }])) };
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${usage()}`);
    return EXIT.usage;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    io.stdout.write(usage());
    return EXIT.ok;
  }
  const positionals = parsed.positionals.slice(1);
  const json = values.json === true;
  const style: Style = { color: !json && values['no-color'] !== true && !io.env.NO_COLOR && (io.isTTY || Boolean(io.env.FORCE_COLOR)), tty: io.isTTY && !json };
  const fail = (code: number, message: string) => {
    if (json) io.stdout.write(`${JSON.stringify({ error: { code: 'usage', detail: message } })}\n`);
    else io.stderr.write(`${message}\n`);
    return code;
  };

  if (positionals.length !== command.args.length) return fail(EXIT.usage, `${command.name} takes ${command.args.map((a) => `<${a}>`).join(' ') || 'no arguments'}`);
  const token = (values.token as string | undefined) ?? io.env.SLIPWAY_TOKEN;
  if (!token) return fail(EXIT.usage, 'no token: pass --token or set SLIPWAY_TOKEN');
  const base = ((values.url as string | undefined) ?? io.env.SLIPWAY_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  const timeoutSeconds = Number(values.timeout ?? 900);
  const intervalMs = Number(values.interval ?? 1000);
  if (!(timeoutSeconds > 0) || !(intervalMs > 0)) return fail(EXIT.usage, '--timeout and --interval must be positive numbers');

  // The request: positional arguments fill the path, flags the body or the query.
  const params = Object.fromEntries(command.args.map((arg, i) => [arg, positionals[i]!]));
  const body: Record<string, unknown> = {};
  const search = new URLSearchParams();
  for (const flag of command.flags) {
    const value = values[flag.name] as string | undefined;
    if (value === undefined) {
      if (flag.required) return fail(EXIT.usage, `${command.name} needs --${flag.name}`);
      continue;
    }
    let parsedValue: unknown = value;
    if (flag.json) {
      try {
        parsedValue = JSON.parse(value);
      } catch {
        return fail(EXIT.usage, `--${flag.name} must be JSON`);
      }
    }
    if (flag.into === 'query') search.set(flag.field ?? camel(flag.name), value);
    else body[flag.field ?? camel(flag.name)] = parsedValue;
  }
  const http = client(io, base, token);
  const path = fillPath(command.path, params) + (search.size ? `?${search}` : '');
  const headers: Record<string, string> = command.idempotent ? { 'idempotency-key': (values['idempotency-key'] as string | undefined) ?? `cli-${randomUUID()}` } : {};
  // Only a command whose route takes a body sends one: the API refuses a body where none is taken (415).
  const sendsBody = command.flags.some((flag) => flag.into === 'body');
  const answer = await http(command.method, path, sendsBody ? body : undefined, headers);
  if ('failure' in answer) return report(io, json, style, answer.failure);

  if (!values.wait || !command.startsOperation) {
    if (json) io.stdout.write(`${JSON.stringify(answer.body)}\n`);
    else io.stdout.write(renderAnswer(command.render, answer.body, style));
    return EXIT.ok;
  }
  return follow(io, http, command, answer.body as Accepted, { json, style, timeoutSeconds, intervalMs });
}

/** A 202 answer: the instance and the operation it started. */
interface Accepted {
  instance: { id: string };
  operation: { kind: string; executionName: string };
}

/** Follow an operation until its execution closes, printing each step as it happens. */
async function follow(
  io: CliIo,
  http: Http,
  command: CommandSpec,
  accepted: Accepted,
  options: { json: boolean; style: Style; timeoutSeconds: number; intervalMs: number },
): Promise<number> {
  const { json, style } = options;
  const path = fillPath(PROGRESS_PATH, { id: accepted.instance.id, name: accepted.operation.executionName });
  const progress = new Progress(io.stderr, style);
  if (!json) progress.header(`${accepted.operation.kind} ${accepted.instance.id}`, accepted.operation.executionName);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let last: ProgressAnswer | undefined;
  for (;;) {
    // The server holds the request until the operation ends (or the wait runs out): no polling loop here.
    const wait = Math.max(0, Math.min(SERVER_WAIT_SECONDS, Math.ceil((deadline - Date.now()) / 1000)));
    const asked = Date.now();
    const answer = await http('GET', `${path}?wait=${wait}`);
    if ('failure' in answer) {
      progress.stop();
      return report(io, json, style, answer.failure);
    }
    last = answer.body as ProgressAnswer;
    if (!json) progress.update(last.steps);
    if (CLOSED_EXECUTION_STATUSES.includes(last.execution.status)) break;
    if (Date.now() >= deadline) {
      progress.stop();
      if (json) io.stdout.write(`${JSON.stringify({ accepted, execution: last.execution, steps: last.steps, timedOut: true })}\n`);
      else io.stderr.write(progress.paint('yellow', `… ${command.name} still ${last.execution.status} after ${options.timeoutSeconds} s; it goes on without us (slipway ops ${accepted.instance.id})\n`));
      return EXIT.timeout;
    }
    // Only an answer that came back before its wait (a server without ?wait) is spaced by --interval.
    if (Date.now() - asked < wait * 1000) await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
  }
  const succeeded = last.execution.status === 'SUCCEEDED';
  if (json) io.stdout.write(`${JSON.stringify({ accepted, execution: last.execution, steps: last.steps })}\n`);
  else progress.finish(last.execution);
  return succeeded ? EXIT.ok : EXIT.operationFailed;
}

/** What to do next, for problems a person can act on. */
const HINTS: Record<string, (problem: Failure['problem']) => string> = {
  owner_not_found: () => 'your token may not act for that owner: it names only you and the orgs in its "orgs" claim (or the owner does not exist)',
  unauthorized: () => 'pass a valid token with --token or SLIPWAY_TOKEN (npm run token mints one locally)',
  forbidden: () => 'your token lacks the scope this needs ("instances", or "admin" for operator commands)',
  instance_busy: (p) => `another operation holds it${p.heldBy ? ` (${String(p.heldBy)})` : ''}; wait for it (slipway ops <id>) and retry`,
  name_taken: (p) => `instance ${String(p.instanceId)} has that name; pick another or destroy it first`,
  quota_exceeded: (p) => `the owner has its limit${p.limit !== undefined ? ` of ${String(p.limit)}` : ''} of live instances; destroy one first`,
  unreachable: () => 'is the API running (npm start)? is --url (SLIPWAY_URL) right?',
};

/** Print an API problem; its exit code. */
function report(io: CliIo, json: boolean, style: Style, failure: Failure): number {
  if (json) io.stdout.write(`${JSON.stringify({ error: failure.problem, status: failure.status })}\n`);
  else {
    const code = failure.problem.code ? ` (${failure.problem.code}${failure.status ? `, HTTP ${failure.status}` : ''})` : '';
    const hint = HINTS[failure.problem.code ?? ''];
    const text = `error: ${failure.problem.detail ?? failure.problem.title ?? 'the request failed'}${code}\n${hint ? `hint: ${hint(failure.problem)}\n` : ''}`;
    io.stderr.write(style.color ? `\x1b[31m${text}\x1b[0m` : text);
  }
  return failure.status === 0 ? EXIT.unavailable : exitCodeFor(failure.status);
}

type Http = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ body: unknown } | { failure: Failure }>;

/**
 * The API client: the shipped typed client (`slipway/client`, openapi-fetch), with problems and
 * network failures as values. The CLI's commands are data (method and path template), so it calls
 * by method and filled path; the typed calls are the client's own.
 */
function client(io: CliIo, base: string, token: string): Http {
  const api = createSlipwayClient({ baseUrl: base, token, fetch: io.fetch });
  const call = api.request as unknown as (method: string, path: string, init: { body?: unknown; headers?: Record<string, string> }) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
  return async (method, path, body, headers = {}) => {
    let answer: Awaited<ReturnType<typeof call>>;
    try {
      answer = await call(method.toLowerCase(), path, { ...(body === undefined ? {} : { body }), headers: { accept: 'application/json', ...headers } });
    } catch (error) {
      return { failure: { status: 0, problem: { code: 'unreachable', detail: `${base} did not answer (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)})` } } };
    }
    const { response, data, error } = answer;
    if (!response.ok) return { failure: { status: response.status, problem: typeof error === 'object' && error ? (error as Failure['problem']) : { detail: String(error || response.statusText) } } };
    return { body: data ?? null };
  };
}

/** A path template with its parameters filled (each encoded). */
function fillPath(template: string, params: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_m, key: string) => encodeURIComponent(params[key] ?? ''));
}

/** The process entry: run with the process's arguments and streams, and set its exit code. */
export function main(): void {
  run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, isTTY: Boolean(process.stderr.isTTY) }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`slipway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.unavailable;
    },
  );
}

if (require.main === module) main();
