/**
 * `slipway/client`: a typed client of the HTTP API. Its types are generated from the OpenAPI
 * document at build time (`npm run build:client`, openapi-typescript → `openapi.d.ts`, committed;
 * a test keeps it current) and its calls are openapi-fetch's, so every path, parameter, body and
 * answer (problems included) is checked by the compiler against the document the API serves.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, operations, paths } from './openapi';

export type { components, operations, paths };

/** An API resource shape by its component name: `Schema<'Instance'>`. */
export type Schema<N extends keyof components['schemas']> = components['schemas'][N];

/** The client: `GET`, `POST`, `PUT`, `DELETE` by path, typed by the document. */
export type SlipwayClient = Client<paths>;

/** Where and as whom the client calls. */
export interface SlipwayClientOptions {
  /** The API's base URL, e.g. `http://127.0.0.1:3000` (`npm start`) or the deployed API's. */
  baseUrl: string;
  /** A bearer token (scope `instances`, or `admin` for `/v1/admin`). */
  token: string;
  /** A fetch of the caller's own (tests, proxies); the global one otherwise. */
  fetch?: typeof fetch;
}

/** A client for one base URL and token. */
export function createSlipwayClient(options: SlipwayClientOptions): SlipwayClient {
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.token}` },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}
