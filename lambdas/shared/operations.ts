/** Operations, each run by a workflow execution named `<instanceId>-<operation>-v<version>`. */
export const OPERATIONS = ['provision', 'start', 'stop', 'restart', 'destroy', 'recover', 'switch'] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * How long each operation may hold an instance's claim before the reconcile sweep looks at its
 * execution (seconds). A look at a still-running execution only schedules the next one; these are
 * first looks, not deadlines (each state machine's own TimeoutSeconds is the deadline).
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
