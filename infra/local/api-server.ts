import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ListStateMachinesCommand } from '@aws-sdk/client-sfn';
import { createApp } from '../../lambdas/api/app';
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
    isReady: async () => {
      await deps.db.send(new DescribeTableCommand({ TableName: deps.tableName }));
      await deps.sfn.send(new ListStateMachinesCommand({ maxResults: 1 }));
      return true;
    },
  });
  const host = options.host ?? '127.0.0.1';
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: host }, () => resolve(s));
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
