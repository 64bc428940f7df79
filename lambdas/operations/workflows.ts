/**
 * Every operation's workflow, built from its steps' StepSpecs. Kept out of the registry because it
 * imports every step's handler module: the infra code and the local runtime read it, a Lambda
 * bundle never does. `Record<Operation, …>`: an operation without a workflow does not compile.
 */
import type { Operation } from './registry';
import { destroy, restart, start, stop } from './lifecycle/workflow';
import { provision } from './provision/workflow';
import { recover } from './recover/workflow';
import { switchProvider } from './switch/workflow';
import type { StateMachineDefinition } from './workflow-builder';

/** The definition of each workflow (a workflow is named after the operation it runs). */
export const WORKFLOW_DEFINITIONS: Readonly<Record<Operation, StateMachineDefinition>> = { provision, start, stop, restart, destroy, recover, switch: switchProvider };
