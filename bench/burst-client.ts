/**
 * A client process for bursts (bench/contention.ts): on each message it sends all the given
 * requests at once and answers each one's status and latency, measured here, so that generating
 * 64 requests does not share the event loop with the API that answers them. Its connections stay
 * open (keep-alive) from one burst to the next, as a real client's would.
 */

/** One burst: the same POST with different Idempotency-Keys. */
export interface BurstRequest {
  url: string;
  token: string;
  keys: string[];
  body: string;
}

/** What one request of a burst got. */
export interface BurstAnswer {
  status: number;
  ms: number;
}

process.on('message', (burst: BurstRequest | 'exit') => {
  if (burst === 'exit') return process.exit(0);
  void Promise.all(
    burst.keys.map(async (key): Promise<BurstAnswer> => {
      const start = performance.now();
      try {
        const res = await fetch(`${burst.url}/v1/instances`, {
          method: 'POST',
          headers: { authorization: `Bearer ${burst.token}`, 'content-type': 'application/json', 'idempotency-key': key },
          body: burst.body,
        });
        await res.arrayBuffer();
        return { status: res.status, ms: performance.now() - start };
      } catch {
        return { status: 0, ms: performance.now() - start };
      }
    }),
  ).then((answers) => process.send!(answers));
});
