/** Every workflow's definition, by name (built from the operations' StepSpecs). */
import type { WorkflowName } from '../shared/workflows';
import { destroy, restart, start, stop } from './lifecycle/workflow';
import { provision } from './provision/workflow';
import { recover } from './recover/workflow';
import { switchProvider } from './switch/workflow';
import type { StateMachineDefinition } from './workflow-builder';

/** The definition of each workflow. */
export const WORKFLOW_DEFINITIONS: Readonly<Record<WorkflowName, StateMachineDefinition>> = { provision, start, stop, restart, destroy, switch: switchProvider, recover };
