export default async function teardown(): Promise<void> {
  const dynamo = globalThis.__slipwayDynamo;
  globalThis.__slipwayDynamo = undefined;
  await dynamo?.stop();
}
