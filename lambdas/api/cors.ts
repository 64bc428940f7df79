/**
 * Cross-origin rules, as the deployed HTTP API's `CorsConfiguration` states them
 * (infra/orchestration-stack.ts, `corsPreflight`): API Gateway answers preflights itself there, so
 * the app answers them the same way wherever it runs without API Gateway (the local server).
 * Origins are `*`: tokens travel in the Authorization header, never in cookies, so no origin can
 * ride on a browser's ambient credentials.
 */
import { cors } from 'hono/cors';

/** What a browser on another origin may send and read. */
export const CORS_POLICY = {
  allowOrigins: ['*'],
  allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
  allowHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-correlation-id'],
  exposeHeaders: ['location', 'retry-after', 'x-correlation-id'],
  maxAgeSeconds: 3600,
} as const;

/** The middleware answering preflights and marking responses, by CORS_POLICY. */
export function corsMiddleware() {
  return cors({
    origin: CORS_POLICY.allowOrigins.includes('*') ? '*' : [...CORS_POLICY.allowOrigins],
    allowMethods: [...CORS_POLICY.allowMethods],
    allowHeaders: [...CORS_POLICY.allowHeaders],
    exposeHeaders: [...CORS_POLICY.exposeHeaders],
    maxAge: CORS_POLICY.maxAgeSeconds,
  });
}
