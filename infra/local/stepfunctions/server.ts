import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTIONS } from './actions';
import type { StepFunctionsEngine } from './engine';
import { SfnServiceError } from './service-error';

/**
 * The AWS JSON 1.0 transport: `POST /` with `X-Amz-Target: AWSStepFunctions.<Action>`, a JSON
 * body in and out, and errors as `{"__type": code, "message": ...}`. Signatures are not checked.
 */

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

/** Listen on host:port (0 = any free port) and answer Step Functions requests from `engine`. */
export async function listen(engine: StepFunctionsEngine, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    void answer(engine, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Stop listening and drop open connections (SDK clients keep them alive), so close() cannot hang. */
export async function stopListening(server: Server): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

async function answer(engine: StepFunctionsEngine, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  try {
    const body = await readBody(request);
    if (request.method !== 'POST') throw new SfnServiceError('UnknownOperationException', `Method ${request.method} is not supported`);
    const target = request.headers['x-amz-target'];
    const actionName = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
    const action = actionName === undefined ? undefined : ACTIONS[actionName];
    if (!action) throw new SfnServiceError('UnknownOperationException', `Unknown operation: ${String(target)}`);
    let parsed: unknown;
    try {
      parsed = body.length === 0 ? {} : (JSON.parse(body) as unknown);
    } catch {
      throw new SfnServiceError('SerializationException', 'Request body is not valid JSON');
    }
    send(response, 200, requestId, await action(engine, parsed));
  } catch (error) {
    const failure =
      error instanceof SfnServiceError ? error : new SfnServiceError('InternalFailure', error instanceof Error ? error.message : String(error), 500);
    if (failure.status >= 500) console.error(JSON.stringify({ level: 'ERROR', service: 'local-stepfunctions', requestId, error: String(error) }));
    send(response, failure.status, requestId, { __type: failure.code, message: failure.message }, failure.code);
  }
}

function send(response: ServerResponse, status: number, requestId: string, body: Record<string, unknown>, errorType?: string): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}
