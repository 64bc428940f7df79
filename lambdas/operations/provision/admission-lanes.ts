/**
 * Admission lanes: within one process, the admissions of one owner take turns at the transaction,
 * and everyone waiting is decided by one shared consistent read taken after the turn before theirs
 * ended. Only one admission per owner can win, so the others need not queue up at DynamoDB: when
 * 64 requests of one owner arrive at once, one reads and transacts, and the 63 others learn from
 * one BatchGetItem that the reservation is held (or that their own key's instance exists: a
 * replay). On Lambda a container serves one request at a time, so a lane never holds more than
 * one request and this is just the read.
 *
 * Sound because every decision rests on a strongly consistent read that began after the request
 * arrived, and the conditional transaction still decides who wins: a lane only orders requests,
 * it never answers from memory.
 */
import type { Deps } from '../../composition/deps';

/** One waiting request: the key it reads besides the owner item, and where its answer goes. */
interface Waiter<S> {
  instanceId: string;
  /** It found the lane idle and may write without a read (the transaction's conditions decide). */
  skipRead: boolean;
  wouldWrite: (state: S) => boolean;
  resolve: (turn: Turn<S>) => void;
  reject: (error: unknown) => void;
}

/** What a request learns from its lane: the state read for it, and — if it may write — its turn to end. */
export interface Turn<S> {
  /** Undefined when the request found the lane idle and was let through without a read. */
  state?: S;
  /** Present when this request holds the owner's turn at the transaction; call it when done. */
  release?: () => void;
}

/** Reads the owner item and every given instance in one consistent round trip. */
export type BatchRead<S> = (deps: Deps, owner: string, instanceIds: string[]) => Promise<Map<string, S>>;

interface Lane<S> {
  waiting: Waiter<S>[];
  pumping: boolean;
  /** Until when the owner's reservation was lately seen held: newcomers read rather than transact. */
  heldUntil: number;
}

/** How long a reservation seen held keeps newcomers reading first (a provision holds it for seconds). */
const HELD_MEMORY_MS = 1000;

/** The lanes of one table client (so test runtimes sharing a process never share lanes). */
const lanesByClient = new WeakMap<object, Map<string, Lane<unknown>>>();

/** Largest batch one BatchGetItem reads (its limit is 100 keys, one of them the owner item). */
const MAX_BATCH = 99;

/**
 * Wait for the owner's lane, then get the state `read` found for this request. At most one request
 * per owner holds the turn (its `wouldWrite(state)` was true) until it calls `release`; others that
 * would write wait for the next read, which starts after that turn ended. Without `readFirst`, a
 * request that finds the lane idle takes the turn at once, unread: alone, its transaction's
 * conditions answer it as fast as a read would; only those who find the turn taken read (together).
 */
export function takeTurn<S>(
  deps: Deps,
  owner: string,
  instanceId: string,
  read: BatchRead<S>,
  wouldWrite: (state: S) => boolean,
  options: { readFirst: boolean },
): Promise<Turn<S>> {
  const lanes = lanesOf<S>(deps);
  let lane = lanes.get(owner);
  if (!lane) {
    lane = { waiting: [], pumping: false, heldUntil: 0 };
    lanes.set(owner, lane);
  }
  const skipRead = !options.readFirst && !lane.pumping && lane.waiting.length === 0 && lane.heldUntil <= Date.now();
  const turn = new Promise<Turn<S>>((resolve, reject) => lane!.waiting.push({ instanceId, skipRead, wouldWrite, resolve, reject }));
  void pump(deps, owner, lanes, lane, read);
  return turn;
}

/** Serve the lane until nobody waits: read for everyone waiting, answer them, let at most one write. */
async function pump<S>(deps: Deps, owner: string, lanes: Map<string, Lane<S>>, lane: Lane<S>, read: BatchRead<S>): Promise<void> {
  if (lane.pumping) return;
  lane.pumping = true;
  try {
    while (lane.waiting.length > 0) {
      const head = lane.waiting[0]!;
      if (head.skipRead) {
        lane.waiting.shift();
        await new Promise<void>((done) => head.resolve({ release: done }));
        continue;
      }
      const batch = lane.waiting.splice(0, MAX_BATCH);
      let states: Map<string, S>;
      try {
        states = await read(deps, owner, [...new Set(batch.map((waiter) => waiter.instanceId))]);
      } catch (error) {
        for (const waiter of batch) waiter.reject(error);
        continue;
      }
      let writer: { waiter: Waiter<S>; state: S } | undefined;
      const again: Waiter<S>[] = [];
      for (const waiter of batch) {
        const state = states.get(waiter.instanceId)!;
        if (!waiter.wouldWrite(state)) waiter.resolve({ state });
        else if (!writer) writer = { waiter, state };
        // Its read is about to go stale (the writer may win): it reads again after the turn.
        else again.push(waiter);
      }
      lane.waiting.unshift(...again);
      if (writer) {
        await new Promise<void>((done) => writer.waiter.resolve({ state: writer.state, release: done }));
      }
    }
  } finally {
    lane.pumping = false;
    if (lane.waiting.length > 0) void pump(deps, owner, lanes, lane, read);
    else forgetWhenIdle(owner, lanes, lane);
  }
}

/**
 * Note that the owner's reservation is held (an admission just took it, or one was refused by
 * it): for a second, an admission of this owner that finds the lane idle reads before it
 * transacts, since it will almost surely be refused, and a read refuses it for less than a
 * transaction. Only the order changes; the transaction's conditions still decide.
 */
export function noteHeld(deps: Deps, owner: string): void {
  const lanes = lanesOf<unknown>(deps);
  let lane = lanes.get(owner);
  if (!lane) {
    lane = { waiting: [], pumping: false, heldUntil: 0 };
    lanes.set(owner, lane);
  }
  const fresh = lane.heldUntil <= Date.now();
  lane.heldUntil = Date.now() + HELD_MEMORY_MS;
  if (fresh && !lane.pumping && lane.waiting.length === 0) forgetWhenIdle(owner, lanes, lane);
}

/** The lanes of a deps' table client. */
function lanesOf<S>(deps: Deps): Map<string, Lane<S>> {
  let lanes = lanesByClient.get(deps.db) as Map<string, Lane<S>> | undefined;
  if (!lanes) {
    lanes = new Map();
    lanesByClient.set(deps.db, lanes as Map<string, Lane<unknown>>);
  }
  return lanes;
}

/** Drop an idle lane once it has nothing to remember. */
function forgetWhenIdle<S>(owner: string, lanes: Map<string, Lane<S>>, lane: Lane<S>): void {
  const wait = lane.heldUntil - Date.now();
  if (wait <= 0) {
    if (lanes.get(owner) === lane && !lane.pumping && lane.waiting.length === 0) lanes.delete(owner);
    return;
  }
  // Timers are the one way a lane outlives its last request; unref'd, they never keep a process up.
  setTimeout(() => {
    if (!lane.pumping && lane.waiting.length === 0) forgetWhenIdle(owner, lanes, lane);
  }, wait + 1).unref();
}
