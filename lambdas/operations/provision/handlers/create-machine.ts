import * as z from 'zod';
import { createMachine } from '../steps';
import { createRecoveryMachine } from '../../recover/steps';
import { providersFromConfig } from '../../../providers/configured';
import { ErrorNames } from '../../../shared/errors/core';
import { defineStep } from '../../define-step';
import { providerStepInput } from '../../step-schemas';

/** A provision's machine: everything about it comes from the execution's input. */
const provisionInput = providerStepInput.extend({
  region: z.string(),
  size: z.string(),
  image: z.string(),
  volumeId: z.string(),
  generation: z.number().int().positive(),
  /** False: make the machine without starting it (a switch of a stopped instance). */
  start: z.boolean().optional(),
});

/** A recovery's replacement machine: on the forked volume, everything else as the instance records it. */
const recoveryInput = providerStepInput.extend({ purpose: z.literal('recovery'), volumeId: z.string() });

const input = z.union([recoveryInput, provisionInput]);

/** Create (or adopt) the instance's machine on its volume and record its id, fenced by the claim (a recovery records it as its pending machine). */
export const CreateMachine = defineStep({
  name: 'CreateMachine',
  description: 'Create or adopt the instance machine on its volume',
  file: __filename,
  input,
  run: (deps, input) => ('purpose' in input ? createRecoveryMachine(deps, input) : createMachine(deps, input)),
  transientErrors: [ErrorNames.ProviderUnavailable],
  providers: providersFromConfig,
});

export const { handler, createHandler } = CreateMachine;
