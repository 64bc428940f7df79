/**
 * The one table's shape, shared by the CDK stateful stack and the local runtime's CreateTable, so
 * DynamoDB Local always has exactly the keys and indexes that AWS has.
 */

/** Attribute names of keys and index keys. */
export const TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Owner index: every instance of an owner, newest first. */
  ownerIndex: { name: 'byOwner', partitionKey: 'ownerPk', sortKey: 'ownerSk' },
  /**
   * Sparse attention index: an item carries `attentionAt` only while a sweep must look at it.
   * The partition is a small fixed set of shards (`attentionShard`) so sweeps Query, never Scan.
   */
  attentionIndex: { name: 'byAttention', partitionKey: 'attentionShard', sortKey: 'attentionAt' },
  /** Epoch seconds after which DynamoDB deletes the item (tombstones, idempotency records). */
  ttlAttribute: 'expiresAt',
} as const;

/** The table definition as a `CreateTable` input (without the name). */
export function createTableInput(tableName: string) {
  const k = TABLE_KEYS;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: k.partitionKey, AttributeType: 'S' as const },
      { AttributeName: k.sortKey, AttributeType: 'S' as const },
      { AttributeName: k.ownerIndex.partitionKey, AttributeType: 'S' as const },
      { AttributeName: k.ownerIndex.sortKey, AttributeType: 'S' as const },
      { AttributeName: k.attentionIndex.partitionKey, AttributeType: 'S' as const },
      { AttributeName: k.attentionIndex.sortKey, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: k.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: k.sortKey, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [k.ownerIndex, k.attentionIndex].map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
