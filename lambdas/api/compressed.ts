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

/** A Hono handler answering the asset (read when first asked for); `headers` are added to every answer. */
export function compressedHandler(load: () => CompressedAsset, headers: Record<string, string> = {}) {
  let gzip: Uint8Array | undefined;
  let plain: Uint8Array | undefined;
  return (c: { req: { header(name: string): string | undefined } }): Response => {
    const asset = load();
    gzip ??= new Uint8Array(Buffer.from(asset.gzip, 'base64'));
    const acceptsGzip = /\bgzip\b/i.test(c.req.header('accept-encoding') ?? '');
    const body = acceptsGzip ? gzip : (plain ??= new Uint8Array(gunzipSync(gzip)));
    return new Response(body, {
      status: 200,
      headers: {
        'content-type': asset.type,
        'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        vary: 'accept-encoding',
        ...(acceptsGzip ? { 'content-encoding': 'gzip' } : {}),
        ...headers,
      },
    });
  };
}
