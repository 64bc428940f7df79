/**
 * The owner item (`OWNER#<owner>` / `RESERVATION`) in the table: its key, its strongly consistent
 * read and its conditional updates. The reservation's rules (which transition from which status,
 * the quota conditions) are the domain's (`domain/reservation.ts`); lost conditions come back as
 * the store's named errors.
 */
import { keys } from '../adapters/dynamo';
import { updateExpression, type ItemUpdate } from './expression';
import { getItem, updateItem, type TableDeps, type UpdateParams } from './table';

/** A condition on the owner item, with the names and values it uses. */
export interface OwnerItemCondition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** Read the owner item (strongly consistent), or null. */
export function getOwnerItem<T>(deps: TableDeps, owner: string): Promise<T | null> {
  return getItem<T>(deps, keys.reservation(owner));
}

/** An update of the owner item (also a transaction item's `Update`): `update` applied only under `condition`, stamping `updatedAt = at`. */
export function ownerItemUpdateParams(deps: TableDeps, owner: string, update: ItemUpdate, condition: OwnerItemCondition, at: string): UpdateParams {
  const built = updateExpression({ ...update, set: { ...update.set, updatedAt: at } });
  return {
    TableName: deps.tableName,
    Key: keys.reservation(owner),
    UpdateExpression: built.expression,
    ConditionExpression: condition.expression,
    ExpressionAttributeNames: { ...built.names, ...condition.names },
    ExpressionAttributeValues: { ...built.values, ...condition.values },
  };
}

/** Apply a conditional update to the owner item and return the new item; a lost condition is a ConditionFailedError carrying the item as found. */
export async function updateOwnerItem<T>(deps: TableDeps, owner: string, update: ItemUpdate, condition: OwnerItemCondition, at: string): Promise<T> {
  return (await updateItem<T>(deps, ownerItemUpdateParams(deps, owner, update, condition, at)))!;
}
