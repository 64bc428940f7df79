import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'hono';
import type { HTTPException } from 'hono/http-exception';
import * as z from 'zod';
import { ErrorNames, type ErrorName, SlipwayError } from '../shared/errors/core';
import { HttpStatusError, MalformedBodyError, MethodNotAllowedError, PayloadTooLargeError, ServiceUnavailableError, UnsupportedMediaTypeError, ValidationFailedError } from '../shared/errors/http';
import { AlreadySwitchingError, InstanceBusyError, NameTakenError, OperationEndedError, OperationNotCancellableError, ProviderMismatchError, ProvisionInProgressError, QuotaExceededError, ReconciliationPendingError, ReservationNotReleasableError, UnknownProviderError, UnsupportedPlacementError, VolumeInUseError, VolumeOwnershipUnverifiedError } from '../shared/errors/refusals';
import { ExecutionStillRunningError } from '../shared/errors/workflow';

/** RFC 9457 problem details, with a stable machine-readable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  [extension: string]: unknown;
}

interface Mapping {
  status: number;
  code: string;
  title: string;
  retryAfterSeconds?: number;
}

/** The one place where a domain error becomes an HTTP status (STYLE: Gilmore's error handler). */
const MAPPINGS = {
  [ErrorNames.ValidationFailed]: { status: 400, code: 'validation_failed', title: 'The request is not valid' },
  [ErrorNames.MalformedBody]: { status: 400, code: 'malformed_body', title: 'The request body cannot be read' },
  [ErrorNames.InvalidCursor]: { status: 400, code: 'invalid_cursor', title: 'Invalid cursor' },
  [ErrorNames.UnknownProvider]: { status: 400, code: 'unknown_provider', title: 'Unknown provider' },
  [ErrorNames.UnsupportedPlacement]: { status: 400, code: 'unsupported_placement', title: 'Region or size not offered' },
  [ErrorNames.NotFound]: { status: 404, code: 'not_found', title: 'Not found' },
  [ErrorNames.MethodNotAllowed]: { status: 405, code: 'method_not_allowed', title: 'Method not allowed' },
  [ErrorNames.PayloadTooLarge]: { status: 413, code: 'payload_too_large', title: 'Request body too large' },
  [ErrorNames.UnsupportedMediaType]: { status: 415, code: 'unsupported_media_type', title: 'Unsupported media type' },
  [ErrorNames.Unauthorized]: { status: 401, code: 'unauthorized', title: 'Authentication required' },
  [ErrorNames.Forbidden]: { status: 403, code: 'forbidden', title: 'Not allowed' },
  [ErrorNames.InstanceNotFound]: { status: 404, code: 'instance_not_found', title: 'Instance not found' },
  [ErrorNames.OwnerNotFound]: { status: 404, code: 'owner_not_found', title: 'Owner not found' },
  [ErrorNames.ProvisionInProgress]: { status: 409, code: 'provision_in_progress', title: 'A provision is already in progress' },
  [ErrorNames.ReconciliationPending]: { status: 409, code: 'reconciliation_pending', title: 'Reconciliation pending' },
  [ErrorNames.InstanceBusy]: { status: 409, code: 'instance_busy', title: 'Instance busy', retryAfterSeconds: 5 },
  [ErrorNames.NameTaken]: { status: 409, code: 'name_taken', title: 'Name taken' },
  [ErrorNames.OperationEnded]: { status: 409, code: 'operation_ended', title: 'The operation has already ended' },
  [ErrorNames.OperationNotCancellable]: { status: 409, code: 'operation_not_cancellable', title: 'This operation cannot be cancelled' },
  [ErrorNames.InvalidState]: { status: 409, code: 'invalid_state', title: 'Invalid state for this operation' },
  [ErrorNames.AlreadySwitching]: { status: 409, code: 'already_switching', title: 'Already switching provider' },
  [ErrorNames.ProviderMismatch]: { status: 409, code: 'provider_mismatch', title: 'The instance is on another provider' },
  [ErrorNames.SameProvider]: { status: 409, code: 'same_provider', title: 'Already on that provider' },
  [ErrorNames.DataTransferUnsupported]: { status: 422, code: 'data_transfer_unsupported', title: 'These providers cannot carry the volume data' },
  [ErrorNames.SweepRunning]: { status: 409, code: 'sweep_running', title: 'The sweep is running', retryAfterSeconds: 10 },
  [ErrorNames.ExecutionStillRunning]: { status: 409, code: 'execution_still_running', title: 'An execution still runs' },
  [ErrorNames.ExecutionNotFound]: { status: 404, code: 'execution_not_found', title: 'Execution not found' },
  [ErrorNames.ReservationNotFound]: { status: 404, code: 'reservation_not_found', title: 'Reservation not found' },
  [ErrorNames.ReservationNotReleasable]: { status: 409, code: 'reservation_not_releasable', title: 'Reservation already resolved' },
  [ErrorNames.IdempotencyKeyReused]: { status: 422, code: 'idempotency_key_reused', title: 'Idempotency-Key reused' },
  [ErrorNames.QuotaExceeded]: { status: 429, code: 'quota_exceeded', title: 'Instance quota exceeded', retryAfterSeconds: 60 },
  [ErrorNames.ContentionTimeout]: { status: 503, code: 'contention', title: 'Too much contention', retryAfterSeconds: 1 },
  [ErrorNames.WorkflowUnavailable]: { status: 503, code: 'workflow_unavailable', title: 'Workflow service unavailable', retryAfterSeconds: 2 },
  [ErrorNames.VolumeNotFound]: { status: 404, code: 'volume_not_found', title: 'Retained volume not found' },
  [ErrorNames.VolumeInUse]: { status: 409, code: 'volume_in_use', title: 'Volume in use', retryAfterSeconds: 30 },
  [ErrorNames.VolumeOwnershipUnverified]: { status: 409, code: 'volume_ownership_unverified', title: 'Volume ownership not proven' },
  [ErrorNames.ServiceUnavailable]: { status: 503, code: 'service_unavailable', title: 'Service unavailable', retryAfterSeconds: 5 },
  [ErrorNames.VolumeDeleteFailed]: { status: 502, code: 'volume_delete_failed', title: 'The provider did not delete the volume', retryAfterSeconds: 60 },
} as const satisfies Partial<Record<ErrorName, Mapping>>;

const INTERNAL: Mapping = { status: 500, code: 'internal_error', title: 'Internal error' };

/** A problem `code` the API's own errors answer with. */
export type ProblemCode = (typeof MAPPINGS)[keyof typeof MAPPINGS]['code'];

/** Every problem code with its status and, where a retry is the answer, its Retry-After. */
export const PROBLEM_CODES: Readonly<Record<ProblemCode, Mapping>> = Object.fromEntries(Object.values(MAPPINGS).map((mapping) => [mapping.code, mapping])) as Record<ProblemCode, Mapping>;

const validationIssueSchema = z.object({ path: z.string().meta({ description: 'Where: body.name, query.limit, headers.idempotency-key…' }), message: z.string() });

/**
 * The extension members each problem code carries beside RFC 9457's (`extensionsOf` writes them),
 * for the document: a caller can act on them (which instance holds the reservation, which fields are wrong).
 */
export const PROBLEM_EXTRAS: Partial<Record<ProblemCode, z.ZodRawShape>> = {
  provision_in_progress: { instanceId: z.string().meta({ description: 'The instance whose provision holds the reservation' }) },
  reconciliation_pending: { instanceId: z.string() },
  instance_busy: { instanceId: z.string(), heldBy: z.string().nullable().meta({ description: 'The execution holding the claim' }) },
  already_switching: { instanceId: z.string(), heldBy: z.string().nullable() },
  name_taken: { name: z.string(), instanceId: z.string().meta({ description: 'The live instance that has the name' }) },
  method_not_allowed: { allow: z.array(z.string()) },
  provider_mismatch: { expectedProvider: z.string(), provider: z.string().meta({ description: 'The provider the instance is on' }) },
  validation_failed: { errors: z.array(validationIssueSchema) },
  payload_too_large: { limitBytes: z.number().int() },
  unknown_provider: { available: z.array(z.string()) },
  unsupported_placement: { field: z.string(), available: z.array(z.string()) },
  quota_exceeded: { limit: z.number().int() },
  execution_still_running: { executionArn: z.string() },
  reservation_not_releasable: { reservationStatus: z.string() },
  volume_in_use: { volumeId: z.string(), heldBy: z.string().nullable() },
  volume_ownership_unverified: { volumeId: z.string(), why: z.string() },
  operation_ended: { instanceId: z.string(), executionName: z.string().meta({ description: 'The operation that has ended' }) },
  operation_not_cancellable: { instanceId: z.string(), executionName: z.string(), kind: z.string().meta({ description: 'Its operation kind (destroy, recover)' }) },
};

/** Extensions a caller can act on (which instance holds the reservation, which fields are wrong). */
export function extensionsOf(error: SlipwayError): Record<string, unknown> {
  if (error instanceof ProvisionInProgressError || error instanceof ReconciliationPendingError) return { instanceId: error.instanceId };
  if (error instanceof InstanceBusyError || error instanceof AlreadySwitchingError) return { instanceId: error.instanceId, heldBy: error.heldBy };
  if (error instanceof NameTakenError) return { name: error.instanceName, instanceId: error.instanceId };
  if (error instanceof MethodNotAllowedError) return { allow: error.allow };
  if (error instanceof ProviderMismatchError) return { expectedProvider: error.expected, provider: error.actual };
  if (error instanceof ValidationFailedError) return { errors: error.issues };
  if (error instanceof PayloadTooLargeError && error.limitBytes > 0) return { limitBytes: error.limitBytes };
  if (error instanceof UnknownProviderError) return { available: error.available };
  if (error instanceof UnsupportedPlacementError) return { field: error.field, available: error.available };
  if (error instanceof QuotaExceededError) return { limit: error.limit };
  if (error instanceof ExecutionStillRunningError) return { executionArn: error.executionArn };
  if (error instanceof ReservationNotReleasableError) return { reservationStatus: error.status };
  if (error instanceof VolumeInUseError) return { volumeId: error.volumeId, heldBy: error.heldBy };
  if (error instanceof VolumeOwnershipUnverifiedError) return { volumeId: error.volumeId, why: error.why };
  if (error instanceof OperationEndedError) return { instanceId: error.instanceId, executionName: error.executionName };
  if (error instanceof OperationNotCancellableError) return { instanceId: error.instanceId, executionName: error.executionName, kind: error.kind };
  return {};
}

/** The problem code an error is answered with (`internal_error` for one without a mapping). */
export function problemCodeOf(error: SlipwayError): ProblemCode {
  return ((MAPPINGS as Partial<Record<string, Mapping>>)[error.name]?.code ?? 'internal_error') as ProblemCode;
}

/** Codes of HTTP statuses a framework middleware may answer on its own (anything else: `http_<status>`). */
const HTTP_STATUS_CODES: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  408: 'request_timeout',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  422: 'unprocessable_content',
  429: 'too_many_requests',
  431: 'request_header_fields_too_large',
  500: 'internal_error',
  501: 'not_implemented',
  503: 'service_unavailable',
  504: 'gateway_timeout',
};

/** The mapping of an HTTP status a middleware chose: that very status, never a 500 in its place. */
function httpStatusMapping(error: HttpStatusError): Mapping | undefined {
  if (!Number.isInteger(error.status) || error.status < 400 || error.status > 599) return undefined;
  return { status: error.status, code: HTTP_STATUS_CODES[error.status] ?? `http_${error.status}`, title: error.message };
}

/**
 * An HTTPException that a Hono middleware threw, as the error it stands for: every status keeps
 * its own meaning (413 stays 413, 415 stays 415), never a 500.
 */
export function errorFromHttpException(error: HTTPException): unknown {
  switch (error.status) {
    case 400:
      return new MalformedBodyError(error.message || 'The request cannot be read.', { cause: error });
    case 413:
      return new PayloadTooLargeError(0, { cause: error });
    case 415:
      return new UnsupportedMediaTypeError(null, { cause: error });
    default:
      return new HttpStatusError(error.status, error.message, { cause: error });
  }
}

/** Socket-level failures of a call to a dependency: it is down or unreachable, not wrong. */
const TRANSPORT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
/** AWS error names that mean "overloaded or failing on its side, try again" (DynamoDB's among them). */
const AWS_UNAVAILABLE_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ThrottlingException', 'ProvisionedThroughputExceededException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException']);

/**
 * Whether an error the domain did not name is a dependency being down (a refused or timed-out
 * connection, a 5xx or throttling answer from an AWS service), looked for along its `cause` chain:
 * the caller should retry (503 with Retry-After), not report a bug (500).
 */
export function isDependencyOutage(error: unknown): boolean {
  for (let current = error, depth = 0; current && typeof current === 'object' && depth < 8; current = (current as { cause?: unknown }).cause, depth++) {
    const e = current as { name?: string; code?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } };
    if (e.code && TRANSPORT_CODES.has(e.code)) return true;
    // The SDK's retry layer re-wraps a socket error it cannot copy as "AWS SDK error wrapper for Error: connect ECONNREFUSED …".
    if (e.$metadata && typeof e.message === 'string' && [...TRANSPORT_CODES].some((code) => e.message!.includes(code))) return true;
    if (e.name && AWS_UNAVAILABLE_NAMES.has(e.name)) return true;
    if (e.$metadata && (e.$fault === 'server' || (e.$metadata.httpStatusCode ?? 0) >= 500)) return true;
  }
  return false;
}

/** The problem document's text. */
export function problemText(problem: Problem): string {
  return JSON.stringify(problem);
}

/**
 * A whole HTTP/1.1 problem answer, for a server to write on a socket whose request never reached
 * the app (headers over the server's limit, a request it cannot parse); the connection is closed.
 */
export function rawProblemAnswer(status: 400 | 408 | 431, detail: string): string {
  const code = HTTP_STATUS_CODES[status]!;
  const title = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' }[status];
  const body = problemText({ type: `https://slipway.dev/problems/${code}`, title, status, detail, code });
  return `HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Build a problem response from any thrown value; unknown errors are logged and hidden. */
export function problemResponse(c: Context, error: unknown, logger: Logger): Response {
  if (!(error instanceof SlipwayError) && isDependencyOutage(error)) error = new ServiceUnavailableError('table or workflow service', { cause: error });
  const known = error instanceof HttpStatusError ? httpStatusMapping(error) : error instanceof SlipwayError ? (MAPPINGS as Partial<Record<string, Mapping>>)[error.name] : undefined;
  const mapping = known ?? INTERNAL;
  if (!known || mapping.status >= 500) logger.error(known ? 'request failed' : 'unhandled error', { error: error as Error, path: c.req.path });
  const slipwayError = error instanceof SlipwayError ? error : null;
  const body: Problem = {
    type: `https://slipway.dev/problems/${mapping.code}`,
    title: mapping.title,
    status: mapping.status,
    detail: known ? (slipwayError?.message ?? mapping.title) : 'Something went wrong on our side; it has been logged.',
    code: mapping.code,
    instance: c.req.path,
    ...(known && slipwayError ? extensionsOf(slipwayError) : {}),
  };
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (mapping.retryAfterSeconds) headers['retry-after'] = String(mapping.retryAfterSeconds);
  if (mapping.status === 401) headers['www-authenticate'] = 'Bearer';
  if (error instanceof MethodNotAllowedError) headers.allow = error.allow.join(', ');
  // The body of a refused oversized request is left unread: closing the connection is the only way
  // a keep-alive client does not send its next request into those bytes (RFC 9110 §15.5.14).
  if (mapping.status === 413) headers.connection = 'close';
  return new Response(problemText(body), { status: mapping.status, headers });
}
