/**
 * The load generator of `npm run bench -- load`, run in its own process (forked by bench/load.ts)
 * so that generating load does not share the event loop with the API it measures. One autocannon
 * instance per route, all at once, their connections adding up to the total; each reports its own
 * latency histogram, throughput and status codes.
 */
import autocannon from 'autocannon';

/** What the parent sends: where to go, for how long, and what each route may use. */
export interface LoadClientConfig {
  url: string;
  durationSeconds: number;
  /** Tokens of owners that only provision (one fresh Idempotency-Key per request). */
  admissionTokens: string[];
  /** Running instances with their owners' tokens (reads and lifecycle operations). */
  instances: Array<{ id: string; token: string }>;
  connections: Record<LoadRouteName, number>;
  /** Requests per second per route (all its connections together); none: as fast as answers come. */
  rates?: Record<LoadRouteName, number>;
}

/** The routes of the mix. */
export type LoadRouteName = 'admission' | 'getInstance' | 'listInstances' | 'operations' | 'lifecycle';

/** What one route's autocannon instance measured. */
export interface LoadRouteFigures {
  name: string;
  /** `fan-out` reads call Step Functions once per operation the instance remembers (up to 50). */
  kind: 'read' | 'fan-out' | 'write';
  connections: number;
  total: number;
  requestsPerSecond: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  statuses: Record<string, number>;
  /** Connection errors and timeouts (no HTTP answer at all). */
  errors: number;
  timeouts: number;
}

type Request = { method?: string; path?: string; headers?: Record<string, string>; body?: string };

/** Pick round-robin, so every connection walks the whole pool. */
function roundRobin<T>(items: readonly T[]): () => T {
  let next = 0;
  return () => items[next++ % items.length]!;
}

function routes(config: LoadClientConfig): Array<{ name: LoadRouteName; label: string; kind: LoadRouteFigures['kind']; setup: (req: Request) => Request }> {
  const admissionToken = roundRobin(config.admissionTokens);
  const instance = roundRobin(config.instances);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  let keys = 0;
  const operation = new Map<string, 'stop' | 'start'>();
  return [
    {
      name: 'admission',
      label: 'POST /v1/instances',
      kind: 'write',
      setup: (req) => ({
        ...req,
        method: 'POST',
        path: '/v1/instances',
        headers: { ...bearer(admissionToken()), 'content-type': 'application/json', 'idempotency-key': `load-${process.pid}-${++keys}` },
        body: '{}',
      }),
    },
    {
      name: 'getInstance',
      label: 'GET /v1/instances/{id}',
      kind: 'read',
      setup: (req) => {
        const { id, token } = instance();
        return { ...req, method: 'GET', path: `/v1/instances/${id}`, headers: bearer(token) };
      },
    },
    { name: 'listInstances', label: 'GET /v1/instances', kind: 'read', setup: (req) => ({ ...req, method: 'GET', path: '/v1/instances?limit=20', headers: bearer(instance().token) }) },
    {
      name: 'operations',
      label: 'GET /v1/instances/{id}/operations',
      kind: 'fan-out',
      setup: (req) => {
        const { id, token } = instance();
        return { ...req, method: 'GET', path: `/v1/instances/${id}/operations`, headers: bearer(token) };
      },
    },
    {
      name: 'lifecycle',
      label: 'POST /v1/instances/{id}/stop|start',
      kind: 'write',
      setup: (req) => {
        const { id, token } = instance();
        // Alternate per instance; a 409 (busy, or already there) is an answer like any other.
        const next = operation.get(id) === 'stop' ? 'start' : 'stop';
        operation.set(id, next);
        return { ...req, method: 'POST', path: `/v1/instances/${id}/${next}`, headers: bearer(token) };
      },
    },
  ];
}

/** Run one route's load for the configured duration. */
function drive(config: LoadClientConfig, route: ReturnType<typeof routes>[number]): Promise<LoadRouteFigures> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: config.url,
        connections: config.connections[route.name],
        duration: config.durationSeconds,
        timeout: 10,
        // Paced: latencies are corrected for coordinated omission (a late answer delays no later request's clock).
        ...(config.rates ? { overallRate: Math.max(1, Math.round(config.rates[route.name])) } : {}),
        requests: [{ setupRequest: route.setup as never }],
      },
      (error, result) => {
        if (error) return reject(error);
        const statuses = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stats]) => [code, (stats as { count: number }).count]));
        resolve({
          name: route.label,
          kind: route.kind,
          connections: config.connections[route.name],
          total: result.requests.total,
          requestsPerSecond: result.requests.total / result.duration,
          latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max, mean: result.latency.mean },
          statuses,
          errors: result.errors,
          timeouts: result.timeouts,
        });
      },
    );
  });
}

process.once('message', (config: LoadClientConfig) => {
  Promise.all(routes(config).map((route) => drive(config, route))).then(
    (figures) => process.send!({ figures }, () => process.exit(0)),
    (error: unknown) => process.send!({ error: error instanceof Error ? error.message : String(error) }, () => process.exit(1)),
  );
});
