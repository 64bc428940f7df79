/**
 * The claim of an instance name in its owner's partition (`OWNER#<owner>` / `NAME#<name>`): names
 * are unique among an owner's live instances. Which statuses free a name is admission's rule
 * (`operations/provision/request.ts`); this module owns the item and its condition.
 */
import { keys } from './keys';
import type { TableDeps, TransactItem } from './table';

/** Who claims which name, when. */
export interface NameClaim {
  owner: string;
  name: string;
  instanceId: string;
  at: string;
}

/**
 * The name claim as a transaction item: written only while nobody holds the name, or, with
 * `takeoverFrom`, while that ended instance still does. A lost condition returns the holder (`ALL_OLD`).
 */
export function nameClaimPut(deps: TableDeps, claim: NameClaim, takeoverFrom?: string): TransactItem {
  return {
    Put: {
      TableName: deps.tableName,
      Item: { ...keys.instanceName(claim.owner, claim.name), instanceId: claim.instanceId, owner: claim.owner, name: claim.name, at: claim.at },
      ConditionExpression: takeoverFrom ? 'instanceId = :holder' : 'attribute_not_exists(pk)',
      ...(takeoverFrom ? { ExpressionAttributeValues: { ':holder': takeoverFrom } } : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}
