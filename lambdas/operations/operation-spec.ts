/**
 * What slipway knows about one operation, stated once in its folder (`<op>/spec.ts`) and listed
 * once in the registry (`registry.ts`). Plain data with no imports, so the registry can be read
 * from anywhere (the claim rules, configuration, the API's routes) without an import cycle; the
 * parts that are code are in `Record<Operation, …>` maps beside it, which the compiler keeps
 * complete: the settle rules (`settle-rules.ts`) and the workflows (`workflows.ts`).
 */

/** How an operation claims an existing instance: the statuses it may start from, the one it shows until it finishes. */
export interface ClaimRule {
  from: readonly string[];
  to: string;
}

/** How the owner asks for an operation on an existing instance: its route and its CLI command. */
export interface LifecycleRequest {
  method: 'post' | 'delete';
  path: `/v1/instances/{id}${string}`;
  /** The route's summary in the OpenAPI document. */
  summary: string;
  /** The CLI command's summary (`slipway <name>`). */
  command: string;
  /** The step that releases its claim on success (the success tail of its workflow). */
  endsIn: 'FinishOperation' | 'TombstoneInstance';
}

/** One operation. */
export interface OperationSpec {
  /** How it claims an existing instance; null when it makes a new one (provision admits instead). */
  claim: ClaimRule | null;
  /**
   * The longest the reconcile sweep waits between two looks at a claim whose execution still runs
   * (seconds). Not a deadline: the state machine's own TimeoutSeconds is.
   */
  claimTimeoutSeconds: number;
  /** The instance attribute its failure is recorded in (and a success clears). */
  errorField: `last${string}Error`;
  /**
   * The workflows the rule that settles its lost execution may start (a lost switch starts the old
   * machine again: `start`). The sweep and the execution-closed listener are granted exactly these,
   * and may describe every workflow.
   */
  settleStarts: readonly string[];
  /** Its route and CLI command, when the owner asks for it on an existing instance. */
  lifecycle?: LifecycleRequest;
  /**
   * Whether its owner may cancel it (`DELETE /v1/instances/{id}/operations/{name}`: stopped, then
   * settled by its settle rule with code `cancelled`), or why not (the 409 says it).
   */
  cancel: { cancellable: true } | { cancellable: false; why: string };
}
