import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import type { Socket } from 'node:net';
import { createApp } from '../../lambdas/api/app';
import { rawProblemAnswer } from '../../lambdas/api/problem';
import { createTokenVerifier } from '../../lambdas/api/auth';
import type { JSONWebKeySet } from 'jose';
import { DEV_AUDIENCE, DEV_ISSUER } from './dev-auth';
import type { LocalRuntime } from './runtime';

/** The API served by a real Node HTTP server, over the local runtime. */
export interface LocalApiServer {
  url: string;
  close(): Promise<void>;
}

/** Serve the same Hono app API Gateway runs, verifying tokens against the dev key set. */
export async function startApiServer(runtime: LocalRuntime, options: { jwks: JSONWebKeySet; port?: number; host?: string }): Promise<LocalApiServer> {
  const { deps } = runtime;
  const app = createApp({
    deps,
    verifyToken: createTokenVerifier({ issuer: DEV_ISSUER, audience: DEV_AUDIENCE, jwks: options.jwks }),
    // Ready only when the table and the workflow endpoint both answer.
    readiness: {
      table: (abortSignal) => deps.db.send(new DescribeTableCommand({ TableName: deps.tableName }), { abortSignal }),
      workflows: (abortSignal) => deps.sfn.send(new ListStateMachinesCommand({ maxResults: 1 }), { abortSignal }),
    },
  });
  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
  });
  // Requests Node refuses before the app sees them answer problem details too, as Node would
  // answer them otherwise (431 for headers over its 16 KB limit, 408, 400), connection closed.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
    const answer =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? rawProblemAnswer(431, 'The request headers are larger than this server accepts (16 KB).')
        : error.code === 'HPE_REQUEST_TIMEOUT' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? rawProblemAnswer(408, 'The request was not received in time.')
          : rawProblemAnswer(400, 'The request is not valid HTTP/1.1.');
    socket.end(answer);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    // In-flight requests are cut, not awaited: one waiting on a dead dependency would hold the close forever.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
