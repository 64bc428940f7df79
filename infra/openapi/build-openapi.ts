/** `npm run build:openapi`: write the OpenAPI document the API serves. */
import { writeFileSync } from 'node:fs';
import { OPENAPI_FILE, renderOpenApiDocument } from './document';

writeFileSync(OPENAPI_FILE, renderOpenApiDocument());
process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
