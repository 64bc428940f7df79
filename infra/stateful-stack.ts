import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { Construct } from 'constructs';
import { TABLE_KEYS, createTableInput } from '../lambdas/adapters/table-definition';

type TableInput = ReturnType<typeof createTableInput>;
type KeySchema = ReadonlyArray<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;

/** The CDK attribute of one key schema element, typed from the shared definition. */
function attributeOf(input: TableInput, schema: KeySchema, keyType: 'HASH' | 'RANGE'): dynamodb.Attribute | undefined {
  const name = schema.find((key) => key.KeyType === keyType)?.AttributeName;
  if (name === undefined) return undefined;
  const definition = input.AttributeDefinitions.find((attribute) => attribute.AttributeName === name);
  if (definition === undefined) throw new Error(`table-definition: key ${name} has no attribute definition`);
  const types: Record<string, dynamodb.AttributeType> = {
    S: dynamodb.AttributeType.STRING,
    N: dynamodb.AttributeType.NUMBER,
    B: dynamodb.AttributeType.BINARY,
  };
  const type = types[definition.AttributeType];
  if (type === undefined) throw new Error(`table-definition: unknown attribute type ${definition.AttributeType}`);
  return { name, type };
}

/**
 * The stateful half of slipway: the one DynamoDB table. It lives in its own stack, retained and
 * deletion-protected, so the stateless orchestration stack can be replaced freely.
 */
export class StatefulStack extends Stack {
  /** The one table every function reads and writes. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Built from the same definition the local runtime's CreateTable uses, so both worlds
    // have exactly the same keys and indexes.
    const input = createTableInput('unused');
    const partitionKey = attributeOf(input, input.KeySchema, 'HASH');
    if (partitionKey === undefined) throw new Error('table-definition: the table has no partition key');

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey,
      sortKey: attributeOf(input, input.KeySchema, 'RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    for (const index of input.GlobalSecondaryIndexes) {
      const indexPartitionKey = attributeOf(input, index.KeySchema, 'HASH');
      if (indexPartitionKey === undefined) throw new Error(`table-definition: index ${index.IndexName} has no partition key`);
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: indexPartitionKey,
        sortKey: attributeOf(input, index.KeySchema, 'RANGE'),
        projectionType: dynamodb.ProjectionType[index.Projection.ProjectionType],
      });
    }
  }
}
