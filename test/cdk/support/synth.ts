/**
 * Synthesizes the real CDK app once per test file, with cdk.json's context and a fixed
 * environment so ARNs render to comparable strings.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../../../infra/app';
import { FUNCTION_CATALOG } from '../../../infra/function-catalog';
import type { OrchestrationStack } from '../../../infra/orchestration-stack';
import type { StatefulStack } from '../../../infra/stateful-stack';

/** The account and region the tests synthesize for, so ARNs render to fixed strings. */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Both stacks and their templates. */
export interface Synthesized {
  stateful: StatefulStack;
  orchestration: OrchestrationStack;
  statefulTemplate: Template;
  orchestrationTemplate: Template;
  /** The cloud assembly directory: bundles sit in its `asset.<hash>/` folders. */
  outdir: string;
}

/** How to synthesize: extra context (beside cdk.json's) and whether to bundle the functions. */
export interface SynthOptions {
  context?: Record<string, unknown>;
  /** False: CDK's `aws:cdk:bundling-stacks` is empty, so no bundle is built (template-only tests). */
  bundle?: boolean;
}

/** Providers a template test deploys: three Fly apps, one whose token secret is encrypted with a customer-managed key, one whose secret is named by ARN. */
export const TEST_PROVIDERS = {
  default: 'fly-ams',
  providers: [
    { name: 'fly-ams', kind: 'fly', app: 'slipway-ams', org: 'acme', regions: ['ams'] },
    {
      name: 'fly-iad',
      kind: 'fly',
      app: 'slipway-iad',
      org: 'acme',
      regions: ['iad'],
      tokenSecretName: 'slipway/fly-iad-token',
      tokenKmsKeyArn: `arn:aws:kms:${'eu-west-1'}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    },
    // Named by its complete ARN (another account's secret, say).
    { name: 'fly-fra', kind: 'fly', app: 'slipway-fra', regions: ['fra'], tokenSecretName: 'arn:aws:secretsmanager:eu-west-1:210987654321:secret:slipway/fly-fra-AbC123' },
  ],
};

/**
 * Build and synthesize the app as `cdk synth` would. `bundle: false` skips esbuild (CDK's
 * `aws:cdk:bundling-stacks` context, what `cdk synth --exclusively` uses for the stacks it leaves out):
 * the templates are the same but for asset hashes, and the synthesis takes a second instead of the
 * ~20 s of bundling every function. Only a test that reads the bundles needs them built.
 */
export function synthesize(options: SynthOptions = {}): Synthesized {
  // Bundling needs every handler module; say which are missing rather than fail inside esbuild.
  const missing = FUNCTION_CATALOG.filter((fn) => !existsSync(path.join(REPO_ROOT, fn.entry))).map((fn) => fn.entry);
  if (missing.length > 0) throw new Error(`Catalog entries without a handler module: ${missing.join(', ')}`);

  const context = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  process.env.CDK_DEFAULT_ACCOUNT = ACCOUNT;
  process.env.CDK_DEFAULT_REGION = REGION;
  try {
    const app = new App({ context: { ...context, ...options.context, ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}) } });
    const { stateful, orchestration } = buildApp(app);
    return {
      stateful,
      orchestration,
      statefulTemplate: Template.fromStack(stateful),
      orchestrationTemplate: Template.fromStack(orchestration),
      outdir: app.outdir,
    };
  } finally {
    restore('CDK_DEFAULT_ACCOUNT', saved.account);
    restore('CDK_DEFAULT_REGION', saved.region);
  }
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A CloudFormation resource as it sits in a template. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/** Every resource of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** A property value as a string with pseudo parameters rendered: `arn:aws:states:eu-west-1:...`. */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v && typeof v === 'object') {
    if (typeof v.Ref === 'string') {
      const pseudo: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': REGION, 'AWS::AccountId': ACCOUNT, 'AWS::URLSuffix': 'amazonaws.com' };
      return pseudo[v.Ref] ?? `<Ref ${v.Ref}>`;
    }
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<GetAtt ${getAtt.join('.')}>`;
    const join = v['Fn::Join'];
    if (Array.isArray(join)) return (join[1] as unknown[]).map(render).join(join[0] as string);
    const importValue = v['Fn::ImportValue'];
    if (importValue !== undefined) return `<Import ${render(importValue)}>`;
  }
  return `<${JSON.stringify(value)}>`;
}
