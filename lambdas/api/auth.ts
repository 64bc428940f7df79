import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet } from 'jose';
import * as z from 'zod';
import { ForbiddenError, UnauthorizedError } from '../shared/errors/http';
import { userOwner, type Owner } from '../domain/owner';
import type { Deps } from '../composition/deps';

/** Who is calling, taken only from a verified token. */
export interface Caller {
  sub: string;
  owner: Owner;
  orgs: string[];
  scopes: string[];
}

/** The claims slipway reads; anything else in the token is ignored. */
const claimsSchema = z.object({
  sub: z.string().min(1).max(128).regex(/^[A-Za-z0-9._@|:-]+$/),
  scope: z.string().optional(),
  scp: z.array(z.string()).optional(),
  orgs: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/)).optional(),
});

/** How tokens are verified: issuer, audience and where the keys come from. */
export interface VerifierOptions {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  jwks?: JSONWebKeySet;
}

/** Verifies bearer tokens and turns their claims into a Caller. */
export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

// Asymmetric algorithms only: `none` and HMAC with a public key are never accepted.
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'EdDSA'];

/** Build a verifier; the key set is created once so warm invocations reuse fetched keys. */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  let keys: JWTVerifyGetKey;
  if (options.jwks) keys = createLocalJWKSet(options.jwks);
  else if (options.jwksUrl) keys = createRemoteJWKSet(new URL(options.jwksUrl));
  else throw new Error('A token verifier needs JWT_JWKS_URL or JWT_PUBLIC_JWKS');

  // Tokens verified lately: a client polling with one token is not verified on every request.
  const verified = new Map<string, { caller: Caller; until: number }>();
  return async (authorization) => {
    // RFC 9110 §11.1: the scheme is case-insensitive; one or more spaces before the token68.
    const match = /^bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization ?? '');
    const token = match?.[1];
    if (!token) throw new UnauthorizedError();
    const now = Date.now();
    const hit = verified.get(token);
    if (hit && hit.until > now) return hit.caller;
    let payload: { exp?: number; aud?: string | string[]; client_id?: unknown };
    try {
      ({ payload } = await jwtVerify(token, keys, { issuer: options.issuer, algorithms: ALGORITHMS, requiredClaims: ['exp', 'sub'] }));
    } catch (error) {
      throw new UnauthorizedError('The bearer token is invalid or expired.', { cause: error });
    }
    if (!audienceMatches(payload, options.audience)) throw new UnauthorizedError('The bearer token was not issued for this API.');
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new UnauthorizedError('The bearer token lacks a usable subject.');
    const scopes = claims.data.scp ?? (claims.data.scope ? claims.data.scope.split(' ').filter(Boolean) : []);
    const caller: Caller = { sub: claims.data.sub, owner: userOwner(claims.data.sub), orgs: claims.data.orgs ?? [], scopes };
    // Never past the token's own expiry, and only briefly (a key removed from the set stops counting soon).
    if (verified.size >= VERIFIED_TOKENS_KEPT) verified.delete(verified.keys().next().value!);
    verified.set(token, { caller, until: Math.min((payload.exp ?? 0) * 1000, now + VERIFIED_TOKEN_SECONDS * 1000) });
    return caller;
  };
}

/**
 * The audience rule of API Gateway's JWT authorizer, so a token the gateway lets through is not
 * refused here: `aud` must name the audience; only when a token has no `aud` (Cognito access tokens)
 * does `client_id` stand in for it (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html).
 */
function audienceMatches(payload: { aud?: string | string[]; client_id?: unknown }, audience: string): boolean {
  if (payload.aud !== undefined) return (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).includes(audience);
  return payload.client_id === audience;
}

/** How many verified tokens a verifier remembers, and for how long at most. */
const VERIFIED_TOKENS_KEPT = 1000;
const VERIFIED_TOKEN_SECONDS = 60;

/** Require a scope, or 403. */
export function requireScope(caller: Caller, scope: string): void {
  if (!caller.scopes.includes(scope)) throw new ForbiddenError(`This token lacks the "${scope}" scope.`);
}

/** Owners the caller may act for: itself and the organisations its token lists. */
export function ownersOf(caller: Caller): Owner[] {
  return [caller.owner, ...caller.orgs.map((org) => `org:${org}`)];
}

/** Whether the caller may act for `owner`. */
export function mayActFor(caller: Caller, owner: string): boolean {
  return ownersOf(caller).includes(owner);
}

/** Hono context variables of authenticated routes: the verified caller. */
export type ApiEnv = { Variables: { caller: Caller; deps: Deps } };
