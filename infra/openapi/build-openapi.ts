/** `npm run build:openapi`: write the OpenAPI document, readable and compressed (the API serves the latter). */
import { writeFileSync } from 'node:fs';
import { OPENAPI_COMPRESSED_FILE, OPENAPI_FILE, renderCompressedOpenApi, renderOpenApiDocument } from './document';

const document = renderOpenApiDocument();
writeFileSync(OPENAPI_FILE, document);
writeFileSync(OPENAPI_COMPRESSED_FILE, renderCompressedOpenApi(document));
process.stdout.write(`wrote ${OPENAPI_FILE} and ${OPENAPI_COMPRESSED_FILE}\n`);
