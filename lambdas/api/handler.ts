import type { Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { loadConfig, required } from '../shared/config';
import { providersFromConfig } from '../providers/configured';
import { depsFromConfig } from '../composition/deps';
import { createTokenVerifier } from './auth';
import { createApp } from './app';

// Built once per container so warm invocations reuse clients and fetched signing keys.
const config = loadConfig();
// The admin views read the providers' live state.
const deps = depsFromConfig(config, { providers: providersFromConfig(config) });
const app = createApp({
  deps,
  verifyToken: createTokenVerifier({
    issuer: required(config, 'JWT_ISSUER'),
    audience: required(config, 'JWT_AUDIENCE'),
    jwksUrl: config.JWT_JWKS_URL,
    jwks: config.JWT_PUBLIC_JWKS ? JSON.parse(config.JWT_PUBLIC_JWKS) : undefined,
  }),
});

const serve = handle(app);

/** API Gateway HTTP API (payload v2) entry: the Lambda context on every log line, metrics sent per invocation. */
export async function handler(event: Parameters<typeof serve>[0], context: Context) {
  deps.logger.addContext(context);
  try {
    return await serve(event, context);
  } finally {
    deps.metrics.flush();
  }
}
