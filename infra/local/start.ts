import './polyfills';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startApiServer } from './api-server';
import { ensureCursorSecret, ensureDevKey, mintDevToken } from './dev-auth';
import { DynamoDbLocalError, startDynamoDbLocal } from './dynamodb-local';
import { startLocalRuntime } from './runtime';

/**
 * `npm start`: DynamoDB Local, the local Step Functions endpoint, the API, the dev issuer and the
 * `local` provider in one process. Ctrl-C / SIGTERM stops everything, the JVM and machines included.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'in-memory': { type: 'boolean', default: false }, 'data-dir': { type: 'string' } }, strict: true });
  const dataDir = path.resolve(values['data-dir'] ?? process.env.SLIPWAY_DATA_DIR ?? '.data');
  const inMemory = values['in-memory'];
  const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

  const dynamo = await startDynamoDbLocal({ port: port('DYNAMODB_PORT', 8000), dataDir: inMemory ? undefined : path.join(dataDir, 'dynamodb') });
  const providerRoot = inMemory ? path.join(dataDir, `provider-ephemeral-${process.pid}`) : path.join(dataDir, 'provider');
  const runtime = await startLocalRuntime({
    dynamoEndpoint: dynamo.endpoint,
    tableName: process.env.TABLE_NAME ?? 'slipway',
    providerRoot,
    sfnPort: port('STEPFUNCTIONS_PORT', 8083),
    logLevel: (process.env.LOG_LEVEL as 'INFO' | undefined) ?? 'INFO',
    // DEFAULT_INSTANCE_LIMIT, RESERVATION_DEADLINE_SECONDS… are read exactly as a Lambda reads them.
    env: { CURSOR_SECRET: inMemory ? undefined : ensureCursorSecret(dataDir), ...process.env },
    // The reconcile sweep every SWEEP_PERIOD_SECONDS, and everything in flight before a restart settled at once.
    sweepTimer: true,
    settleOnStart: true,
  });
  const key = await ensureDevKey(dataDir);
  const api = await startApiServer(runtime, { jwks: key.jwks, port: port('PORT', 3000) });
  const token = await mintDevToken(key, { sub: 'alice', admin: true });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping…\n`);
    await api.close().catch(() => undefined);
    await runtime.close().catch(() => undefined);
    await dynamo.stop().catch(() => undefined);
    if (inMemory) rmSync(providerRoot, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  process.stdout.write(
    [
      '',
      'slipway is running locally',
      `  API              ${api.url}   (docs: ${api.url}/docs)`,
      `  Console          ${api.url}/console#token=${token}`,
      `                   (the token rides in the fragment, which never reaches the server; the page keeps it in its tab's session storage)`,
      `  Step Functions   ${runtime.stepFunctions.endpoint}   (aws --endpoint-url ${runtime.stepFunctions.endpoint} stepfunctions list-state-machines)`,
      `  DynamoDB Local   ${dynamo.endpoint}   (${inMemory ? 'in memory' : `data in ${path.join(dataDir, 'dynamodb')}`})`,
      `  Provider         local, state in ${providerRoot}`,
      '',
      `  Token (alice, scopes instances+admin, 12 h):`,
      `  export TOKEN=${token}`,
      '',
      '  Try:',
      `  curl -s -X POST ${api.url}/v1/instances -H "authorization: Bearer $TOKEN" -H "idempotency-key: $(date +%s)-demo" -H 'content-type: application/json' -d '{"name":"demo"}'`,
      `  curl -s ${api.url}/v1/instances -H "authorization: Bearer $TOKEN"`,
      `  SLIPWAY_URL=${api.url} SLIPWAY_TOKEN=$TOKEN npx slipway provision --name demo --wait`,
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  if (error instanceof DynamoDbLocalError) process.stderr.write(`\n${error.message}\n`);
  else process.stderr.write(`\nslipway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
