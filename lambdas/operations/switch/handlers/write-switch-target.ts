import * as z from 'zod';
import { writeSwitchTarget } from '../steps';
import { defineStep } from '../../define-step';
import { fencedStepInput } from '../../step-schemas';

const input = fencedStepInput.extend({ status: z.enum(['running', 'stopped']) });

/** The provider write of a switch: the instance names its target, and remembers where it came from (fenced). */
export const step = defineStep('WriteSwitchTarget', input, writeSwitchTarget);

export const { handler, createHandler } = step;
