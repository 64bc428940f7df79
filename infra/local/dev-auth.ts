import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JSONWebKeySet } from 'jose';

/** Issuer and audience of dev tokens; the local API verifies exactly these. */
export const DEV_ISSUER = 'https://slipway.local/dev-issuer';
export const DEV_AUDIENCE = 'slipway';

/** The dev signing key: private part for minting, public set for verifying. */
export interface DevKey {
  privateJwk: JWK;
  jwks: JSONWebKeySet;
}

/** Load the dev key from `<dataDir>/dev-signing-key.json`, creating it on first use. */
export async function ensureDevKey(dataDir: string): Promise<DevKey> {
  const file = path.join(dataDir, 'dev-signing-key.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevKey;
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `dev-${Date.now().toString(36)}`;
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const key: DevKey = { privateJwk, jwks: { keys: [publicJwk] } };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(key, null, 2), { mode: 0o600 });
  return key;
}

/**
 * The local cursor secret from `<dataDir>/cursor-secret`, created on first use (what a generated
 * Secrets Manager secret is on AWS), so cursors stay valid across restarts of `npm start`.
 */
export function ensureCursorSecret(dataDir: string): string {
  const file = path.join(dataDir, 'cursor-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** What a dev token says. */
export interface DevTokenClaims {
  sub: string;
  orgs?: string[];
  admin?: boolean;
  /** Lifetime in seconds (default 12 h). */
  ttlSeconds?: number;
}

/** Mint a token the local API accepts, with scope `instances` (and `admin` on request). */
export async function mintDevToken(key: DevKey, claims: DevTokenClaims): Promise<string> {
  const signingKey = await importJWK(key.privateJwk, 'ES256');
  const scope = ['instances', ...(claims.admin ? ['admin'] : [])].join(' ');
  return new SignJWT({ scope, ...(claims.orgs?.length ? { orgs: claims.orgs } : {}) })
    .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid })
    .setSubject(claims.sub)
    .setIssuer(DEV_ISSUER)
    .setAudience(DEV_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${claims.ttlSeconds ?? 12 * 3600}s`)
    .sign(signingKey);
}
