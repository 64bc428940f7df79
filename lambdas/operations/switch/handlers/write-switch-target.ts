import * as z from 'zod';
import { writeSwitchTarget } from '../steps';
import { defineStep, TABLE_ONLY } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

const input = fencedStepInput.extend({ status: z.enum(['running', 'stopped']) });

/** The provider write of a switch: the instance names its target, and remembers where it came from (fenced). */
export const WriteSwitchTarget = defineStep({
  name: 'WriteSwitchTarget',
  description: 'The provider write of a switch: target recorded, old placement remembered (fenced)',
  file: __filename,
  input,
  run: writeSwitchTarget,
  permissions: TABLE_ONLY,
});

export const { handler, createHandler } = WriteSwitchTarget;
