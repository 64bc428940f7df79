import { Template } from 'aws-cdk-lib/assertions';
import { App } from 'aws-cdk-lib';
import { StatefulStack } from '../../infra/stateful-stack';
import { createTableInput } from '../../lambdas/adapters/table-definition';
import { resourcesOf } from './support/synth';

// The stateful stack alone needs no bundling, so it is synthesized on its own here.
let table: Record<string, unknown>;
let tableResource: { DeletionPolicy?: string; UpdateReplacePolicy?: string };

beforeAll(() => {
  const stack = new StatefulStack(new App(), 'slipway-stateful');
  const tables = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::DynamoDB::Table'));
  expect(tables).toHaveLength(1);
  tableResource = tables[0]!;
  table = tables[0]!.Properties ?? {};
});

const byName = <T extends Record<string, unknown>>(key: keyof T) => (a: T, b: T) => String(a[key]).localeCompare(String(b[key]));

describe('StatefulStack table', () => {
  it('bills on demand', () => {
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
  });

  it('keeps point-in-time recovery on', () => {
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
  });

  it('expires items through the expiresAt attribute', () => {
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('survives stack deletion and replacement, and refuses deletion itself', () => {
    expect(tableResource.DeletionPolicy).toBe('Retain');
    expect(tableResource.UpdateReplacePolicy).toBe('Retain');
    expect(table.DeletionProtectionEnabled).toBe(true);
  });

  it('has exactly the keys and attributes of the shared table definition', () => {
    const expected = createTableInput('any');

    expect(table.KeySchema).toEqual(expected.KeySchema);
    expect([...(table.AttributeDefinitions as Array<Record<string, unknown>>)].sort(byName('AttributeName'))).toEqual(
      [...expected.AttributeDefinitions].sort(byName('AttributeName')),
    );
  });

  it('has the owner index and the sparse attention index of the shared definition', () => {
    const expected = createTableInput('any').GlobalSecondaryIndexes;

    expect([...(table.GlobalSecondaryIndexes as Array<Record<string, unknown>>)].sort(byName('IndexName'))).toEqual(
      [...expected].sort(byName('IndexName')),
    );
    expect((table.GlobalSecondaryIndexes as Array<{ IndexName: string }>).map((index) => index.IndexName).sort()).toEqual(['byAttention', 'byOwner']);
  });
});
