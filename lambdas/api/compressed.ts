/**
 * Serving a file built ahead and stored gzip-compressed (base64) in the bundle: the console's
 * assets and the OpenAPI document. Browsers and most clients accept gzip and get the bytes as
 * they are (Hono's Lambda adapter base64-encodes a gzip body for API Gateway); a client that does
 * not gets a copy decompressed once per container. Keeps the API bundle small.
 */
import { gunzipSync } from 'node:zlib';

/** A file as the build stores it. */
export interface CompressedAsset {
  type: string;
  /** Its name carries its content hash, so it may be cached for good. */
  immutable: boolean;
  /** The file, gzip-compressed, in base64. */
  gzip: string;
}

/** A file in both encodings, each made on first use and kept. */
export interface EncodedBody {
  type: string;
  immutable: boolean;
  gzip(): Uint8Array;
  plain(): Uint8Array;
}

/** Answer `body` gzip-compressed to a client that accepts it, plain otherwise; `headers` are added. */
export function negotiatedResponse(c: { req: { header(name: string): string | undefined } }, body: EncodedBody, headers: Record<string, string> = {}): Response {
  const acceptsGzip = /\bgzip\b/i.test(c.req.header('accept-encoding') ?? '');
  return new Response(acceptsGzip ? body.gzip() : body.plain(), {
    status: 200,
    headers: {
      'content-type': body.type,
      'cache-control': body.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
      ...(acceptsGzip ? { 'content-encoding': 'gzip' } : {}),
      ...headers,
    },
  });
}

/** A Hono handler answering the asset (read when first asked for); `headers` are added to every answer. */
export function compressedHandler(load: () => CompressedAsset, headers: Record<string, string> = {}) {
  let gzip: Uint8Array | undefined;
  let plain: Uint8Array | undefined;
  const body: EncodedBody = {
    get type() {
      return load().type;
    },
    get immutable() {
      return load().immutable;
    },
    gzip: () => (gzip ??= new Uint8Array(Buffer.from(load().gzip, 'base64'))),
    plain: () => (plain ??= new Uint8Array(gunzipSync(body.gzip()))),
  };
  return (c: { req: { header(name: string): string | undefined } }): Response => negotiatedResponse(c, body, headers);
}
