/**
 * cdk-nag's AwsSolutions pack over the whole app: every finding is either fixed or acknowledged,
 * with its reason, in infra/nag-acknowledgements.ts. Runs in CI with the CDK project.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../../infra/app';
import { OrchestrationStack } from '../../infra/orchestration-stack';
import { StatefulStack } from '../../infra/stateful-stack';
import { ACCOUNT, REGION, TEST_PROVIDERS } from './support/synth';

interface Report {
  pluginReports: Array<{ violations: Array<{ ruleName: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
}

/** The unacknowledged findings of one synth, as `rule at construct path` lines. */
function findings(context: Record<string, unknown>, env: { account?: string; region?: string }): string[] {
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const set = (name: string, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));
  set('CDK_DEFAULT_ACCOUNT', env.account);
  set('CDK_DEFAULT_REGION', env.region);
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'slipway-nag-'));
  try {
    // Templates only: the pack reads CloudFormation resources, not bundles.
    const app = new App({ outdir, context: { ...context, 'aws:cdk:bundling-stacks': [] } });
    buildApp(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch (error) {
      if (!/Validation failed/.test(String(error))) throw error;
    }
    const reportFile = path.join(outdir, 'validation-report.json');
    if (!existsSync(reportFile)) return [];
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    return report.pluginReports.flatMap((plugin) => plugin.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)));
  } finally {
    set('CDK_DEFAULT_ACCOUNT', saved.account);
    set('CDK_DEFAULT_REGION', saved.region);
  }
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in a deployment with providers and a customer-managed key', () => {
    expect(findings({ providers: TEST_PROVIDERS }, { account: ACCOUNT, region: REGION })).toEqual([]);
  });

  it('finds nothing unacknowledged in the environment-agnostic app `npm run synth` builds offline (no providers)', () => {
    expect(findings({}, {})).toEqual([]);
  });

  it('reports what it finds when nothing is acknowledged (a check that cannot fail proves nothing)', () => {
    // The stacks built directly, without buildApp's acknowledgements.
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stateful = new StatefulStack(app, 'bare-stateful');
    new OrchestrationStack(app, 'bare-orchestration', { table: stateful.table });

    const report = new AwsSolutionsChecks(app).validateScope(app);

    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-APIG4', 'AwsSolutions-SMG4', 'AwsSolutions-SF1', 'AwsSolutions-SQS3', 'AwsSolutions-IAM5[Resource::*]']));
  });
});
