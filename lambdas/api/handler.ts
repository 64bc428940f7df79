import { handle } from 'hono/aws-lambda';
import { loadConfig, required } from '../shared/config';
import { providersFromConfig } from '../providers/configured';
import { depsFromConfig } from '../shared/deps';
import { createTokenVerifier } from './auth';
import { createApp } from './app';

// Built once per container so warm invocations reuse clients and fetched signing keys.
const config = loadConfig();
const app = createApp({
  // The admin views read the providers' live state.
  deps: depsFromConfig(config, { providers: providersFromConfig(config) }),
  verifyToken: createTokenVerifier({
    issuer: required(config, 'JWT_ISSUER'),
    audience: required(config, 'JWT_AUDIENCE'),
    jwksUrl: config.JWT_JWKS_URL,
    jwks: config.JWT_PUBLIC_JWKS ? JSON.parse(config.JWT_PUBLIC_JWKS) : undefined,
  }),
});

/** API Gateway HTTP API (payload v2) entry. */
export const handler = handle(app);
