/** Operations, each run by a workflow execution named `<instanceId>-<operation>-v<version>`. */
export const OPERATIONS = ['provision', 'start', 'stop', 'restart', 'destroy', 'recover', 'switch'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * The longest the reconcile sweep waits between two looks at a claim whose execution still runs
 * (seconds). The first look comes one sweep period after the claim and each next one after as long
 * again as the claim has lasted, up to this; a look that finds the execution gone or closed settles
 * the claim at once. These are not deadlines (each state machine's own TimeoutSeconds is the deadline).
 */
export const DEFAULT_CLAIM_TIMEOUT_SECONDS: Readonly<Record<Operation, number>> = {
  provision: 900,
  start: 300,
  stop: 300,
  restart: 300,
  destroy: 900,
  recover: 900,
  switch: 1800,
};
