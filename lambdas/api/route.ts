/**
 * Routes as data: one definition per route carries its method, path, request schemas and documented
 * responses. The app mounts it (strict parsing and validation with the same schemas) and the build
 * step `npm run build:openapi` turns the same definitions into the OpenAPI document, so what is
 * validated and what is documented cannot drift — and the Lambda bundle carries no OpenAPI generator.
 */
import type { Context, Hono } from 'hono';
import type * as z from 'zod';
import { MalformedBodyError, UnsupportedMediaTypeError, ValidationFailedError } from '../shared/errors';
import type { ApiEnv } from './auth';

/** HTTP methods the API uses. */
export type Method = 'get' | 'post' | 'put' | 'delete';

/** One documented response. */
export interface ResponseSpec {
  description: string;
  /** The JSON body; problem responses use the Problem schema. */
  schema?: z.ZodType;
  problem?: boolean;
}

/** A route: what it accepts and what it answers. */
export interface RouteSpec {
  method: Method;
  /** OpenAPI path form: `/v1/instances/{id}`. */
  path: string;
  summary: string;
  /** No token needed (health, the API description). */
  public?: boolean;
  request?: {
    params?: z.ZodType;
    query?: z.ZodType;
    headers?: z.ZodType;
    body?: z.ZodType;
    /** The body may be left out (no Content-Type, no bytes); the handler then gets `undefined`. */
    bodyOptional?: boolean;
  };
  responses: Record<number, ResponseSpec>;
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
  const details = issues.map((issue) => ({ path: [where, ...issue.path.map(String)].join('.'), message: issue.message }));
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

/** Whether the request carries a body at all (an empty one does not count). */
function hasBody(c: Context<ApiEnv>): boolean {
  const length = c.req.header('content-length');
  return c.req.header('transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
}

/** Whether every string (and every key) in a parsed JSON value is well-formed Unicode. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.every(wellFormed);
  if (value !== null && typeof value === 'object') return Object.entries(value).every(([key, item]) => !LONE_SURROGATE.test(key) && wellFormed(item));
  return true;
}

/**
 * The request body as JSON: refused (415) unless declared JSON, refused (400) unless valid UTF-8,
 * valid JSON and free of lone surrogates (which would be stored as U+FFFD). The size limit is
 * enforced before this, while the body streams in.
 */
async function jsonBody(c: Context<ApiEnv>): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_MEDIA_TYPE.test(type)) throw new UnsupportedMediaTypeError(type || null);
  let text: string;
  try {
    text = STRICT_UTF8.decode(await c.req.arrayBuffer());
  } catch (error) {
    throw new MalformedBodyError('The request body is not valid UTF-8.', { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MalformedBodyError('The request body is not valid JSON.', { cause: error });
  }
  if (!wellFormed(value)) throw new MalformedBodyError('The request body has a string that is not valid Unicode (a lone surrogate escape).');
  return value;
}

/** A request that carries no body at all: no Content-Type and no (or a zero) Content-Length. */
function isEmptyBody(c: Context<ApiEnv>): boolean {
  const length = c.req.header('content-length');
  return !c.req.header('content-type') && (length === undefined || length === '0') && !c.req.header('transfer-encoding');
}

/** Query parameters; a repeated parameter keeps its last value (the API has no list parameters). */
function queryOf(c: Context<ApiEnv>): Record<string, string> {
  return c.req.query();
}

/** Mount a route: parse and validate every part of the request, then call the handler. */
export function mount<R extends RouteSpec>(app: Hono<ApiEnv>, route: R, handler: (c: Context<ApiEnv>, input: RouteInput<R>) => Promise<Response>): void {
  const request = route.request ?? {};
  app.on(route.method.toUpperCase(), honoPath(route.path), async (c) => {
    // A route that takes no body refuses one (before anything else is read) rather than ignore what the caller meant to send.
    if (!request.body && hasBody(c)) throw new UnsupportedMediaTypeError(c.req.header('content-type') ?? null, { takesNoBody: true });
    const input = {
      params: request.params ? parse(request.params, c.req.param(), 'params') : undefined,
      query: request.query ? parse(request.query, queryOf(c), 'query') : undefined,
      headers: request.headers ? parse(request.headers, c.req.header(), 'headers') : undefined,
      body: request.body && !(request.bodyOptional && isEmptyBody(c)) ? parse(request.body, await jsonBody(c), 'body') : undefined,
    } as RouteInput<R>;
    return handler(c, input);
  });
}
