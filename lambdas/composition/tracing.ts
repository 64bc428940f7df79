/**
 * X-Ray tracing of SDK clients with Powertools Tracer. Its own module, loaded (by `deps.ts`) only
 * where functions are traced: importing the tracer loads the X-Ray SDK, whose context tracking
 * (async hooks on every promise) makes each `await` several times slower in the whole process.
 */
import { Tracer } from '@aws-lambda-powertools/tracer';

let tracer: Tracer | undefined;

/** The client with an X-Ray subsegment for every call. */
export function captureClient<C extends object>(client: C): C {
  tracer ??= new Tracer({ serviceName: 'slipway' });
  return tracer.captureAWSv3Client(client);
}
