/** Operations, each run by a workflow execution named `<instanceId>-<operation>-v<version>`; listed once, in the registry. */
import { OPERATION_NAMES, OPERATIONS as SPECS, type Operation } from '../operations/registry';

export const OPERATIONS = OPERATION_NAMES;
export type { Operation };

/**
 * The longest the reconcile sweep waits between two looks at a claim whose execution still runs
 * (seconds). The first look comes one sweep period after the claim and each next one after as long
 * again as the claim has lasted, up to this; a look that finds the execution gone or closed settles
 * the claim at once. These are not deadlines (each state machine's own TimeoutSeconds is the deadline).
 * Each operation's spec states its own.
 */
export const DEFAULT_CLAIM_TIMEOUT_SECONDS = Object.fromEntries(OPERATION_NAMES.map((name) => [name, SPECS[name].claimTimeoutSeconds])) as Readonly<Record<Operation, number>>;
