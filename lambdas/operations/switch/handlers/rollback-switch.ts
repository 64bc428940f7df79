import { rollbackSwitch } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

/** Undo a switch: destroy what it made on the target (verified), point the instance at its old provider again (fenced). */
export const RollbackSwitch = defineStep({
  name: 'RollbackSwitch',
  description: 'Destroy what a switch made on its target (verified) and restore the old provider',
  file: __filename,
  input: fencedStepInput,
  run: rollbackSwitch,
  timeoutSeconds: 120,
  permissions: { table: ['GetItem', 'UpdateItem', 'BatchGetItem'], usesProvider: true },
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = RollbackSwitch;
