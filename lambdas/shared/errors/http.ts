/** Refusals at the HTTP edge: authentication, request shape, routing, a dependency that did not answer. */

import { ErrorNames, SlipwayError, type ErrorOptions } from './core';

/** The request carries no valid token. */
export class UnauthorizedError extends SlipwayError {
  constructor(message = 'A valid bearer token is required.', options: ErrorOptions = {}) {
    super(ErrorNames.Unauthorized, message, options);
  }
}

/** The token is valid but does not allow this. */
export class ForbiddenError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.Forbidden, message, options);
  }
}

/** The request does not match its schema. */
export class ValidationFailedError extends SlipwayError {
  constructor(message: string, readonly issues: Array<{ path: string; message: string }> = [], options: ErrorOptions = {}) {
    super(ErrorNames.ValidationFailed, message, options);
  }
}

/** A request body that is not declared as JSON, or a body on a route that takes none. */
export class UnsupportedMediaTypeError extends SlipwayError {
  constructor(readonly contentType: string | null, options: ErrorOptions & { takesNoBody?: boolean } = {}) {
    super(
      ErrorNames.UnsupportedMediaType,
      options.takesNoBody
        ? 'This route takes no request body.'
        : `The request body must be application/json${contentType ? `, not ${contentType}` : ' (no Content-Type was sent)'}.`,
      options,
    );
  }
}

/** A request body over the API's limit. */
export class PayloadTooLargeError extends SlipwayError {
  constructor(readonly limitBytes: number, options: ErrorOptions = {}) {
    super(ErrorNames.PayloadTooLarge, `The request body exceeds ${limitBytes} bytes.`, options);
  }
}

/** A request body that is not valid UTF-8 JSON. */
export class MalformedBodyError extends SlipwayError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(ErrorNames.MalformedBody, message, options);
  }
}

/** A pagination cursor this API did not issue for this listing (forged, altered or another owner's). */
export class InvalidCursorError extends SlipwayError {
  constructor(options: ErrorOptions = {}) {
    super(ErrorNames.InvalidCursor, 'The cursor is not valid for this listing.', options);
  }
}

/** A framework middleware refused the request with an HTTP status of its own (kept as it is). */
export class HttpStatusError extends SlipwayError {
  constructor(readonly status: number, message: string, options: ErrorOptions = {}) {
    super(ErrorNames.HttpStatus, message || `HTTP ${status}`, options);
  }
}

/** The path exists, but not with this method; `allow` lists the methods it takes. */
export class MethodNotAllowedError extends SlipwayError {
  constructor(method: string, path: string, readonly allow: readonly string[], options: ErrorOptions = {}) {
    super(ErrorNames.MethodNotAllowed, `${path} does not take ${method}; it takes ${allow.join(', ')}.`, options);
  }
}

/** A dependency the request needs (the table) did not answer in time or is overloaded; retry soon. */
export class ServiceUnavailableError extends SlipwayError {
  constructor(readonly dependency: string, options: ErrorOptions = {}) {
    super(ErrorNames.ServiceUnavailable, `The ${dependency} did not answer in time or is overloaded; retry shortly (a provision with the same Idempotency-Key).`, options);
  }
}

/** No route matches the path. */
export class RouteNotFoundError extends SlipwayError {
  constructor(method: string, path: string, options: ErrorOptions = {}) {
    super(ErrorNames.NotFound, `No route ${method} ${path}.`, options);
  }
}
