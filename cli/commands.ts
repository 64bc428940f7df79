/**
 * The CLI's commands, as data: each names the API call it makes (method and path template), its
 * positional arguments and flags, and whether `--wait` can follow the operation it starts. A test
 * keeps every command's route mounted by the API.
 */
import { LIFECYCLE_OPERATIONS, OPERATIONS, type LifecycleOperation } from '../lambdas/operations/registry';

/** A flag a command takes: `--name value` (or a boolean `--flag`). */
export interface FlagSpec {
  name: string;
  description: string;
  /** Where the value goes in the request. */
  into: 'body' | 'query';
  /** The body or query field (defaults to the flag name in camelCase). */
  field?: string;
  required?: boolean;
  /** Parsed as JSON (an object or array value). */
  json?: boolean;
}

/** One command. */
export interface CommandSpec {
  name: string;
  summary: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** OpenAPI path template; `{id}` is the first positional argument. */
  path: string;
  args: readonly string[];
  flags: readonly FlagSpec[];
  /** It starts an operation (202 with `operation.executionName`): `--wait` follows it. */
  startsOperation?: boolean;
  /** A provision sends an Idempotency-Key (generated unless `--idempotency-key` is given). */
  idempotent?: boolean;
  /** How the human output renders the answer. */
  render: 'accepted' | 'instances' | 'instance' | 'operations' | 'providers' | 'cancelled';
}

/** A lifecycle operation's command, from its spec (`slipway start <id>` → `POST /v1/instances/{id}/start`). */
function lifecycleCommand(operation: LifecycleOperation): CommandSpec {
  const { method, path, command } = OPERATIONS[operation].lifecycle;
  return { name: operation, summary: command, method: method === 'delete' ? 'DELETE' : 'POST', path, args: ['id'], flags: [], startsOperation: true, render: 'accepted' };
}

const owner: FlagSpec = { name: 'owner', description: 'Act for this owner (user:<you> or an org your token lists)', into: 'query' };

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'provision',
    summary: 'Provision an instance',
    method: 'POST',
    path: '/v1/instances',
    args: [],
    flags: [
      { name: 'name', description: 'A name for it', into: 'body' },
      { name: 'provider', description: 'Provider (see GET /v1/providers)', into: 'body' },
      { name: 'region', description: 'Region', into: 'body' },
      { name: 'size', description: 'Machine size', into: 'body' },
      { name: 'image', description: 'Machine image', into: 'body' },
      owner,
    ],
    startsOperation: true,
    idempotent: true,
    render: 'accepted',
  },
  ...LIFECYCLE_OPERATIONS.map(lifecycleCommand),
  {
    name: 'switch-provider',
    summary: 'Move an instance to another provider',
    method: 'POST',
    path: '/v1/instances/{id}/switch-provider',
    args: ['id'],
    flags: [
      { name: 'provider', description: 'The provider to move to', into: 'body', required: true },
      { name: 'expected-provider', description: 'Refuse unless it is on this provider now', into: 'body', field: 'expectedProvider' },
      { name: 'region', description: 'Region on the new provider', into: 'body' },
      { name: 'size', description: 'Machine size on the new provider', into: 'body' },
      { name: 'data', description: 'copy (the default, where the providers can carry it) or fresh (an empty volume)', into: 'body' },
    ],
    startsOperation: true,
    render: 'accepted',
  },
  {
    name: 'ls',
    summary: 'List your (or an owner’s) instances',
    method: 'GET',
    path: '/v1/instances',
    args: [],
    flags: [
      owner,
      { name: 'status', description: 'Only instances in this status', into: 'query' },
      { name: 'provider', description: 'Only instances on this provider', into: 'query' },
      { name: 'name', description: 'Only the instance with this name', into: 'query' },
      { name: 'limit', description: 'Page size (1-100)', into: 'query' },
      { name: 'cursor', description: 'Next page', into: 'query' },
    ],
    render: 'instances',
  },
  { name: 'show', summary: 'Show one instance', method: 'GET', path: '/v1/instances/{id}', args: ['id'], flags: [], render: 'instance' },
  {
    name: 'cancel',
    summary: 'Cancel a running operation (<name>: its execution name, from `slipway ops <id>`); a destroy or a recovery is never cancelled',
    method: 'DELETE',
    path: '/v1/instances/{id}/operations/{name}',
    args: ['id', 'name'],
    flags: [],
    render: 'cancelled',
  },
  { name: 'ops', summary: "An instance's operations, newest first", method: 'GET', path: '/v1/instances/{id}/operations', args: ['id'], flags: [{ name: 'cursor', description: 'Older operations', into: 'query' }], render: 'operations' },
  { name: 'providers', summary: 'The providers this deployment runs, their regions and sizes', method: 'GET', path: '/v1/providers', args: [], flags: [], render: 'providers' },
];

/** The progress answer (`GET /v1/instances/{id}/operations/{name}`). */
export interface ProgressAnswer {
  instanceId: string;
  execution: { name: string; kind: string; status: string; startedAt: string | null; stoppedAt: string | null; error: string | null; cause: string | null };
  steps: Array<{ name: string; type: string; status: string; attempts: number; enteredAt: string; exitedAt: string | null; error: string | null; message: string | null }>;
}

/** Follows an operation step by step (`--wait`). */
export const PROGRESS_PATH = '/v1/instances/{id}/operations/{name}';

/**
 * Exit codes a script can rely on. The API's problem `code` is printed too; these group them.
 */
export const EXIT = {
  ok: 0,
  /** `--wait`: the operation's execution ended FAILED, TIMED_OUT or ABORTED (or was lost). */
  operationFailed: 1,
  /** Bad flags or arguments, or no token. */
  usage: 2,
  /** 401 or 403: the token is missing, invalid, or lacks the scope or owner. */
  auth: 3,
  /** 404: no such instance, operation or route. */
  notFound: 4,
  /** 409, 422 or 429: refused in the current state (busy, in progress, key reused, quota). */
  conflict: 5,
  /** Any other 4xx: the request is invalid. */
  invalid: 6,
  /** 5xx, or the API did not answer. */
  unavailable: 7,
  /** `--wait`: the operation was still running when `--timeout` passed. */
  timeout: 8,
} as const;

/** The exit code for an HTTP status the API answered. */
export function exitCodeFor(status: number): number {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if (status === 409 || status === 422 || status === 429) return EXIT.conflict;
  if (status >= 400 && status < 500) return EXIT.invalid;
  return EXIT.unavailable;
}
