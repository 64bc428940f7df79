/**
 * Each operation's rule for settling its lost execution, by operation. `Record<Operation, …>`: an
 * operation without one does not compile (before, a claim of a kind nobody wrote a rule for was
 * skipped, and held forever). Beside the registry rather than in it: the rules call the use cases,
 * which read the claim rules from the registry.
 */
import { settleLostLifecycle } from './lifecycle/settle';
import { settleLostProvision } from './provision/settle';
import { settleLostRecover } from './recover/settle';
import type { Operation } from './registry';
import type { SettleLost } from './settle-rule';
import { settleLostSwitch } from './switch/settle';

/** The settle rule of each operation's lost execution. */
export const SETTLE_LOST: Readonly<Record<Operation, SettleLost>> = {
  provision: settleLostProvision,
  start: settleLostLifecycle,
  stop: settleLostLifecycle,
  restart: settleLostLifecycle,
  destroy: settleLostLifecycle,
  recover: settleLostRecover,
  switch: settleLostSwitch,
};
