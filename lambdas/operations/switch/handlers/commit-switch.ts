import * as z from 'zod';
import { commitSwitch } from '../steps';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

const input = fencedStepInput.extend({
  oldVolume: z.object({ volumeId: z.string(), volumeName: z.string(), region: z.string(), snapshotCount: z.number().int().min(0) }).nullable(),
  endpoint: z.string().nullable().optional(),
});

/** Commit a switch in one transaction: the instance on its new provider, the claim released, the old volume retained. */
export const CommitSwitch = defineStep({
  name: 'CommitSwitch',
  description: 'Commit a switch: instance on its new provider, claim released, old volume retained',
  file: __filename,
  input,
  run: commitSwitch,
  permissions: { table: ['GetItem', 'UpdateItem', 'PutItem'] },
});

export const { handler, createHandler } = CommitSwitch;
