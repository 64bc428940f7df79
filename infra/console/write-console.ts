/** `npm run build:console`: build the operator console into the assets file the API serves. */
import { writeFileSync } from 'node:fs';
import { CONSOLE_ASSETS_FILE, buildConsoleFiles, renderConsoleAssets } from './build-console';

const files = buildConsoleFiles();
writeFileSync(CONSOLE_ASSETS_FILE, renderConsoleAssets(files));
for (const file of files) process.stdout.write(`${file.path}  ${file.content.length} bytes\n`);
process.stdout.write(`wrote ${CONSOLE_ASSETS_FILE}\n`);
