/**
 * Files the API ships beside its code rather than inside it: the console's assets and the OpenAPI
 * document (~55 KB together). Inlined, every cold start parsed them as JavaScript, though only
 * `/console` and `/openapi.json` ever read them; beside the bundle, they are read once, on first use.
 * The synthesized bundle finds them next to itself (the function catalog's `files` are copied there
 * after bundling); the source tree, which tests and the local runtime run, has them next to the
 * module that reads them, under the same name.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A JSON file in `dir` (the reading module's `__dirname`), parsed on the first call and kept. */
export function shippedJson<T>(dir: string, name: string): () => T {
  let value: T | undefined;
  return () => (value ??= JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as T);
}
