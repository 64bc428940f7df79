/**
 * Routes as data: one definition per route carries its method, path, request schemas and documented
 * responses. The app mounts it (strict parsing and validation with the same schemas) and the build
 * step `npm run build:openapi` turns the same definitions into the OpenAPI document, so what is
 * validated and what is documented cannot drift — and the Lambda bundle carries no OpenAPI generator.
 */
import type { Context, Hono } from 'hono';
import * as z from 'zod';
import { MalformedBodyError, UnsupportedMediaTypeError, ValidationFailedError } from '../shared/errors/http';
import type { ApiEnv } from './auth';
import type { ProblemCode } from './problem';

/** HTTP methods the API uses. */
export type Method = 'get' | 'post' | 'put' | 'delete';

/** A response header the document names. */
export interface HeaderSpec {
  description: string;
  /** A header every such response carries (otherwise: only some do). */
  required?: boolean;
}

/** One documented success response (problems are listed by code, in `problems`). */
export interface ResponseSpec {
  description: string;
  /** The JSON body. */
  schema?: z.ZodType;
  headers?: Record<string, HeaderSpec>;
}

/** A route: what it accepts and what it answers. */
export interface RouteSpec {
  method: Method;
  /** OpenAPI path form: `/v1/instances/{id}`. */
  path: string;
  /** Stable, verb-first: the method name generated SDKs give it (`stopInstance`). Never renamed. */
  operationId: string;
  summary: string;
  /**
   * The problem codes this route answers beyond those every authenticated route may (see
   * `problemsOf`), each with when; their statuses come from the one mapping in problem.ts.
   */
  problems?: Partial<Record<ProblemCode, string>>;
  /** No token needed (health, the API description). */
  public?: boolean;
  request?: {
    params?: z.ZodType;
    query?: z.ZodType;
    headers?: z.ZodType;
    body?: z.ZodType;
    /** The body may be left out (no bytes, with or without a JSON Content-Type); the handler then gets `undefined`. */
    bodyOptional?: boolean;
  };
  responses: Record<number, ResponseSpec>;
}

/**
 * Every problem code a route may answer: its own, and those of the edge (token, scope, request
 * shape and size, a dependency outage) that every authenticated route shares.
 */
export function problemsOf(route: RouteSpec): Partial<Record<ProblemCode, string>> {
  if (route.public) return { ...route.problems };
  const query = route.request?.query as unknown as { shape?: Record<string, unknown> } | undefined;
  return {
    validation_failed: 'A parameter, header or the body is not valid (each in errors[])',
    malformed_body: 'The body is not UTF-8 JSON, or nests deeper than 32 levels',
    ...(query?.shape && 'cursor' in query.shape ? { invalid_cursor: 'The cursor was not issued for this listing' } : {}),
    unauthorized: 'No valid bearer token',
    forbidden: 'The token lacks the scope (instances, admin) or may not act for that owner',
    payload_too_large: 'The body exceeds 64 KB',
    ...(route.request?.body ? { unsupported_media_type: 'The body is not application/json' } : {}),
    ...route.problems,
    service_unavailable: 'The table did not answer in time or is overloaded; retry after Retry-After',
  };
}

/** Define a route (identity, with its literal types kept for `mount`). */
export function defineRoute<const R extends RouteSpec>(route: R): R {
  return route;
}

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;
type Req<R extends RouteSpec> = NonNullable<R['request']>;

/** The validated input a route's handler receives. */
export interface RouteInput<R extends RouteSpec> {
  params: Parsed<Req<R>['params']>;
  query: Parsed<Req<R>['query']>;
  headers: Parsed<Req<R>['headers']>;
  body: Parsed<Req<R>['body']>;
}

/** `/v1/instances/{id}` → `/v1/instances/:id`. */
function honoPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

/** A zod failure as the API's validation error, with each issue's path. */
export function validationError(issues: readonly z.core.$ZodIssue[], where: string): ValidationFailedError {
  // An unknown field is named in its own path (`body.force`), as a misspelt known one would be.
  const details = issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: [where, ...issue.path.map(String), key].join('.'), message: 'not a field of this request' }))
      : [{ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }],
  );
  return new ValidationFailedError(details.map((d) => `${d.path}: ${d.message}`).join('; '), details);
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error.issues, where);
  return result.data;
}

/** JSON media types: `application/json` and `application/<x>+json`, any parameters. */
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
/** A UTF-16 surrogate without its pair: JSON can spell one (`"\ud800"`), UTF-8 cannot carry it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/**
 * How deep a request body may nest. No body the API takes goes past 4; the cap keeps every later
 * walk over the value (zod, the surrogate check, logging) far from any stack limit.
 */
export const MAX_JSON_DEPTH = 32;

/** Whether the request carries a body at all (an empty one does not count). */
function hasBody(c: Context<ApiEnv>): boolean {
  const length = c.req.header('content-length');
  return c.req.header('transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
}

/** How deep JSON text nests, counted without parsing or recursion (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

/** Whether every string (and every key) in a parsed JSON value is well-formed Unicode; walked with a stack, not recursion. */
function wellFormed(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) return false;
    } else if (Array.isArray(value)) pending.push(...value);
    else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        if (LONE_SURROGATE.test(key)) return false;
        pending.push(item);
      }
    }
  }
  return true;
}

/** The body's bytes as strict UTF-8 text; the size limit is enforced before this, while the body streams in. */
async function bodyText(c: Context<ApiEnv>): Promise<string> {
  try {
    return STRICT_UTF8.decode(await c.req.arrayBuffer());
  } catch (error) {
    throw new MalformedBodyError('The request body is not valid UTF-8.', { cause: error });
  }
}

/** JSON text as a value: refused (400) unless valid JSON, nested at most MAX_JSON_DEPTH deep, and free of lone surrogates (stored as U+FFFD otherwise). */
function parseJson(text: string): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new MalformedBodyError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedBodyError('The request body is not valid JSON.', { cause: error });
  }
  if (!wellFormed(value)) throw new MalformedBodyError('The request body has a string that is not valid Unicode (a lone surrogate escape).');
  return value;
}

/** What a route that takes no body accepts in its place: nothing, or an empty JSON object. */
const NO_BODY = z.strictObject({});
const NO_BODY_MESSAGE = 'This route takes no request body: send none, an empty one, or {}.';

/**
 * The body of a route that takes none. Many HTTP clients and generated SDKs send `{}` (or an empty
 * body with `Content-Type: application/json`) on every POST, so those are accepted; anything else
 * is refused (400) with the reason rather than ignored, since the caller meant something by it.
 */
async function noBody(c: Context<ApiEnv>): Promise<undefined> {
  if (!hasBody(c)) return undefined;
  const text = await bodyText(c);
  if (text.trim() === '') return undefined;
  if (!JSON_MEDIA_TYPE.test(c.req.header('content-type') ?? '')) throw new ValidationFailedError(NO_BODY_MESSAGE, [{ path: 'body', message: NO_BODY_MESSAGE }]);
  const value = parseJson(text);
  const result = NO_BODY.safeParse(value);
  if (!result.success) {
    const refused = validationError(result.error.issues, 'body');
    throw new ValidationFailedError(`${NO_BODY_MESSAGE} ${refused.message}`, refused.issues);
  }
  return undefined;
}

/**
 * The body of a route that takes one, as JSON: refused (415) unless declared JSON, then read as
 * `parseJson` says. An optional body may be left out entirely or sent empty (`undefined`).
 */
async function jsonBody(c: Context<ApiEnv>, optional: boolean): Promise<unknown> {
  if (optional && !hasBody(c) && !c.req.header('content-type')) return undefined;
  const type = c.req.header('content-type') ?? '';
  if (!JSON_MEDIA_TYPE.test(type)) {
    if (optional && !hasBody(c)) return undefined;
    throw new UnsupportedMediaTypeError(type || null);
  }
  const text = hasBody(c) ? await bodyText(c) : '';
  if (optional && text.trim() === '') return undefined;
  return parseJson(text);
}

/**
 * Query parameters. A repeated parameter is refused: the API has no list parameters, and which of
 * two values a proxy or a framework keeps differs (API Gateway joins them with commas, Hono keeps
 * the first), so taking either would be a guess.
 */
function queryOf(c: Context<ApiEnv>): Record<string, string> {
  const all = c.req.queries();
  const repeated = Object.entries(all).filter(([, values]) => values.length > 1).map(([name]) => name);
  if (repeated.length > 0) {
    const issues = repeated.map((name) => ({ path: `query.${name}`, message: 'given more than once; give it once' }));
    throw new ValidationFailedError(issues.map((i) => `${i.path}: ${i.message}`).join('; '), issues);
  }
  return Object.fromEntries(Object.entries(all).map(([name, values]) => [name, values[0]!]));
}

async function parsedBody(schema: z.ZodType, c: Context<ApiEnv>, optional: boolean): Promise<unknown> {
  const value = await jsonBody(c, optional);
  return value === undefined && optional ? undefined : parse(schema, value, 'body');
}

/** Mount a route: parse and validate every part of the request, then call the handler. */
export function mount<R extends RouteSpec>(app: Hono<ApiEnv>, route: R, handler: (c: Context<ApiEnv>, input: RouteInput<R>) => Promise<Response>): void {
  const request = route.request ?? {};
  app.on(route.method.toUpperCase(), honoPath(route.path), async (c) => {
    if (!request.body) await noBody(c);
    const input = {
      params: request.params ? parse(request.params, c.req.param(), 'params') : undefined,
      query: request.query ? parse(request.query, queryOf(c), 'query') : undefined,
      headers: request.headers ? parse(request.headers, c.req.header(), 'headers') : undefined,
      body: request.body ? await parsedBody(request.body, c, request.bodyOptional === true) : undefined,
    } as RouteInput<R>;
    return handler(c, input);
  });
}
