import * as z from 'zod';
import { cutOverRecovery } from '../steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

const input = providerStepInput.extend({ endpoint: z.string().nullable() });

/** One fenced transaction: the instance on the new machine and volume, and the old volume's retention when it has snapshots. */
export const CutOverRecovery = defineStep({
  name: 'CutOverRecovery',
  description: 'Point the instance at the replacement and retain the old volume, in one transaction',
  file: __filename,
  input,
  run: cutOverRecovery,
  // A TransactWriteItems of the instance (UpdateItem) and the retained volume (PutItem).
  permissions: { table: ['GetItem', 'UpdateItem', 'PutItem'], usesProvider: true, publishesEvents: true },
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = CutOverRecovery;
