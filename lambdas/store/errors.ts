/**
 * What the store makes of a write that lost its condition, as Powertools' idempotency persistence
 * layer does (`IdempotencyItemAlreadyExistsError` carrying the existing record): a named error with
 * the item as DynamoDB found it, so a use case catches a class and decides on the record instead
 * of decoding `CancellationReasons` itself.
 */
import { ErrorNames, SlipwayError, type ErrorOptions } from '../shared/errors/core';

/** Why one item of a cancelled transaction failed: DynamoDB's code, and the item as found when the write asked for `ALL_OLD`. */
export interface CancellationReason {
  code: string;
  item?: Record<string, unknown>;
}

/** A single-item conditional write lost its condition; `item` is the record as found (`ALL_OLD`), absent when there was none. */
export class ConditionFailedError<T = Record<string, unknown>> extends SlipwayError {
  constructor(
    readonly item: T | undefined,
    options: ErrorOptions = {},
  ) {
    super(ErrorNames.ConditionFailed, 'The conditional write lost its condition.', options);
  }
}

/** A transaction was cancelled because the condition of one or more of its items failed; `reasons` are in item order. */
export class TransactionConditionFailedError extends SlipwayError {
  constructor(
    readonly reasons: readonly CancellationReason[],
    options: ErrorOptions = {},
  ) {
    super(ErrorNames.TransactionConditionFailed, `The transaction lost the condition of item(s) ${failedIndexes(reasons).join(', ')}.`, options);
  }

  /** Whether the item at `index` (in the order the transaction listed them) lost its condition. */
  failedAt(index: number): boolean {
    return this.reasons[index]?.code === 'ConditionalCheckFailed';
  }

  /** The item at `index` as found, when it lost its condition and its write asked for `ALL_OLD`. */
  itemAt<T = Record<string, unknown>>(index: number): T | undefined {
    return this.failedAt(index) ? (this.reasons[index]?.item as T | undefined) : undefined;
  }

  /** Whether only items from `index` on lost their condition (none before it did). */
  failedOnlyFrom(index: number): boolean {
    return failedIndexes(this.reasons).every((i) => i >= index) && this.reasons.slice(index).some((r) => r.code === 'ConditionalCheckFailed');
  }
}

/**
 * A write was refused only because another transaction was touching the same items at the time
 * (no condition failed): the same write may succeed if tried again.
 */
export class TransactionConflictError extends SlipwayError {
  constructor(options: ErrorOptions = {}) {
    super(ErrorNames.TransactionConflict, 'Another transaction was writing the same items.', options);
  }
}

function failedIndexes(reasons: readonly CancellationReason[]): number[] {
  return reasons.flatMap((r, i) => (r.code === 'ConditionalCheckFailed' ? [i] : []));
}
