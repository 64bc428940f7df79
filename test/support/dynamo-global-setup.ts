import { startDynamoDbLocal, type DynamoDbLocal } from '../../infra/local/dynamodb-local';

// One JVM for the whole Jest run; each test file creates its own table, so files stay parallel-safe.
declare global {
  // eslint-disable-next-line no-var
  var __slipwayDynamo: DynamoDbLocal | undefined;
}

export default async function setup(): Promise<void> {
  if (!globalThis.__slipwayDynamo) {
    globalThis.__slipwayDynamo = await startDynamoDbLocal();
  }
  process.env.SLIPWAY_TEST_DYNAMODB_ENDPOINT = globalThis.__slipwayDynamo.endpoint;
}
