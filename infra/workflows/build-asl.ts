/** `npm run build:asl`: write every workflow's definition to `statemachines/<name>.asl.json`. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { WORKFLOW_NAMES } from '../../lambdas/shared/workflows';
import { definitionFile, renderDefinition } from './index';

for (const workflow of WORKFLOW_NAMES) {
  writeFileSync(definitionFile(workflow), renderDefinition(workflow));
  process.stdout.write(`wrote ${path.relative(process.cwd(), definitionFile(workflow))}\n`);
}
