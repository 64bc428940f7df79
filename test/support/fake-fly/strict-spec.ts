/**
 * The Fly Machines spec, made strict for the fake: every object schema that lists its properties
 * and says nothing about others refuses unknown ones (`additionalProperties: false`), so a request
 * field the real API does not know fails here instead of being silently ignored there.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The vendored spec (a verbatim copy of ../shared/fly). */
export const SPEC_FILE = path.resolve(__dirname, '..', '..', '..', 'spec', 'fly', 'machines-openapi3.json');

type Json = Record<string, unknown>;

function tighten(node: unknown): void {
  if (Array.isArray(node)) {
    node.forEach(tighten);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const schema = node as Json;
  if (schema.properties && typeof schema.properties === 'object' && schema.additionalProperties === undefined && !schema.allOf && !schema.oneOf && !schema.anyOf) {
    schema.additionalProperties = false;
  }
  for (const value of Object.values(schema)) tighten(value);
}

/** The spec with every listed-properties object closed, and the one duplicate operation id renamed. */
export function strictSpec(): Json {
  const spec = JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as Json & { components: { schemas: Json }; paths: Record<string, Record<string, { operationId?: string }>> };
  tighten(spec.components.schemas);
  for (const methods of Object.values(spec.paths)) for (const operation of Object.values(methods)) tighten((operation as Json).requestBody);
  const seen = new Set<string>();
  for (const methods of Object.values(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!operation?.operationId) continue;
      if (seen.has(operation.operationId)) operation.operationId = `${operation.operationId}_${method}`;
      seen.add(operation.operationId);
    }
  }
  return spec;
}
