/**
 * The operations, listed once. Everything that names operations derives from this: their names and
 * the `Operation` type, the claim rules, the claim timeouts, the state machine ARN settings, the
 * lifecycle routes and CLI commands, the catalog's workflow grants; the `Record<Operation, …>`
 * maps of code beside it (settle rules, workflows) are kept complete by the compiler.
 *
 * Adding an operation: its folder with a `spec.ts`, one line here, one in `settle-rules.ts` and
 * one in `workflows.ts` (docs/operations.md walks through it).
 */
import { destroyOperation, restartOperation, startOperation, stopOperation } from './lifecycle/spec';
import type { OperationSpec } from './operation-spec';
import { provisionOperation } from './provision/spec';
import { recoverOperation } from './recover/spec';
import { switchOperation } from './switch/spec';

/** Every operation's spec, by name; each runs in a workflow of its name, executions named `<instanceId>-<operation>-v<version>`. */
export const OPERATIONS = {
  provision: provisionOperation,
  start: startOperation,
  stop: stopOperation,
  restart: restartOperation,
  destroy: destroyOperation,
  recover: recoverOperation,
  switch: switchOperation,
} as const satisfies Record<string, OperationSpec>;

/** An operation's name; also its workflow's. */
export type Operation = keyof typeof OPERATIONS;

/** A non-empty list, as `z.enum` takes it. */
type NonEmpty<T> = readonly [T, ...T[]];

/** The operations' names, in registry order. */
export const OPERATION_NAMES = Object.keys(OPERATIONS) as unknown as NonEmpty<Operation>;

/**
 * The longest the reconcile sweep waits between two looks at a claim whose execution still runs
 * (seconds). The first look comes one sweep period after the claim and each next one after as long
 * again as the claim has lasted, up to this; a look that finds the execution gone or closed settles
 * the claim at once. These are not deadlines (each state machine's own TimeoutSeconds is the deadline).
 * Each operation's spec states its own.
 */
export const DEFAULT_CLAIM_TIMEOUT_SECONDS = Object.fromEntries(OPERATION_NAMES.map((name) => [name, OPERATIONS[name].claimTimeoutSeconds])) as Readonly<Record<Operation, number>>;

/** Operations the owner asks for on an existing instance (a route and a CLI command each). */
export type LifecycleOperation = { [K in Operation]: (typeof OPERATIONS)[K] extends { lifecycle: object } ? K : never }[Operation];

/** Lifecycle operations whose success tail is FinishOperation (the others end in their own step). */
export type FinishedOperation = { [K in LifecycleOperation]: (typeof OPERATIONS)[K]['lifecycle']['endsIn'] extends 'FinishOperation' ? K : never }[LifecycleOperation];

/** Operations that begin by claiming an existing instance. */
export type ClaimedOperation = { [K in Operation]: (typeof OPERATIONS)[K]['claim'] extends null ? never : K }[Operation];

/** The lifecycle operations, in registry order. */
export const LIFECYCLE_OPERATIONS = OPERATION_NAMES.filter((name) => 'lifecycle' in OPERATIONS[name]) as unknown as NonEmpty<LifecycleOperation>;

/** The lifecycle operations that end in FinishOperation. */
export const FINISHED_OPERATIONS = LIFECYCLE_OPERATIONS.filter((name) => OPERATIONS[name].lifecycle.endsIn === 'FinishOperation') as unknown as NonEmpty<FinishedOperation>;

/** The operations that claim an existing instance. */
export const CLAIMED_OPERATIONS = OPERATION_NAMES.filter((name) => OPERATIONS[name].claim !== null) as unknown as NonEmpty<ClaimedOperation>;

/** The fields the operations record their failures in (each once, in registry order): views that show "the last error" read these. */
export const ERROR_FIELDS: readonly `last${string}Error`[] = [...new Set(OPERATION_NAMES.map((name) => OPERATIONS[name].errorField))];

/** The workflows some operation's settle rule may start (the sweep and the listener are granted these). */
export const SETTLE_STARTS: readonly Operation[] = OPERATION_NAMES.filter((name) => OPERATION_NAMES.some((other) => (OPERATIONS[other].settleStarts as readonly string[]).includes(name)));

/** Compile-time check: the workflows a settle rule starts are operations (a misspelt one does not compile). */
export const SETTLE_STARTS_ARE_OPERATIONS: { readonly [K in Operation]: { readonly settleStarts: readonly Operation[] } } = OPERATIONS;
