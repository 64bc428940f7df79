/**
 * Providers are synth-time input: checked with the functions' own schema when the app is built, so
 * a malformed value fails `cdk synth` with a message naming it, and no function ever starts with it.
 */
import { App } from 'aws-cdk-lib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, stackIds } from '../../infra/app';
import { parseDeployedProviders, providersFromContext } from '../../infra/deploy-providers';

const fly = (extra: Record<string, unknown> = {}) => ({ name: 'fly-ams', kind: 'fly', app: 'slipway-ams', regions: ['ams'], ...extra });
const setting = (...providers: unknown[]) => ({ default: 'fly-ams', providers });

describe('parseDeployedProviders', () => {
  it('fills the default token secret and lists every secret with its key', () => {
    const key = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

    const parsed = parseDeployedProviders(setting(fly(), fly({ name: 'fly-iad', regions: ['iad'], tokenSecretName: 'slipway/iad', tokenKmsKeyArn: key })), 'test');

    expect(parsed.setting.providers.map((p) => (p.kind === 'fly' ? p.tokenSecretName : undefined))).toEqual(['slipway/fly-api-token', 'slipway/iad']);
    expect(parsed.secrets).toEqual([
      { provider: 'fly-ams', secret: 'slipway/fly-api-token' },
      { provider: 'fly-iad', secret: 'slipway/iad', kmsKeyArn: key },
    ]);
    expect(JSON.stringify(parsed.setting)).not.toContain('tokenKmsKeyArn');
  });

  it.each([
    ['an inline token', setting(fly({ token: 'fo1_secret' })), /providers\.0\.token: an inline token would sit in plain text/],
    ['a local provider', setting(fly(), { name: 'local', kind: 'local', root: '/tmp/x' }), /providers\.1: kind "local" runs only on one machine/],
    ['a typo in a field', setting(fly({ regoins: ['ams'] })), /Unrecognized key.*regoins/],
    ['a bad region', setting(fly({ regions: ['AMS!'] })), /providers\.0\.regions\.0/],
    ['a default that is not configured', { default: 'fly-fra', providers: [fly()] }, /default: the default provider "fly-fra" is not configured/],
    ['a key that is not a KMS key ARN', setting(fly({ tokenKmsKeyArn: 'alias/mine' })), /providers\.0\.tokenKmsKeyArn: a KMS key ARN/],
    ['a partial secret ARN', setting(fly({ tokenSecretName: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slipway/fly' })), /providers\.0\.tokenSecretName: a secret ARN must be complete/],
    ['a key on a local provider', { default: 'l', providers: [{ name: 'l', kind: 'local', root: '/x', tokenKmsKeyArn: 'x' }] }, /Unrecognized key.*tokenKmsKeyArn/],
  ])('refuses %s with a message naming where', (_what, raw, message) => {
    expect(() => parseDeployedProviders(raw, 'providersFile deploy/prod.json')).toThrow(message);
    expect(() => parseDeployedProviders(raw, 'providersFile deploy/prod.json')).toThrow(/^Invalid providers \(providersFile deploy\/prod\.json\): /);
  });

  it('takes a complete secret ARN as it is', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:slipway/fly-AbC123';

    expect(parseDeployedProviders(setting(fly({ tokenSecretName: arn })), 'test').secrets).toEqual([{ provider: 'fly-ams', secret: arn }]);
  });

  it('says one thing about an inline token, not also that a secret was named beside it', () => {
    expect(() => parseDeployedProviders(setting(fly({ token: 'fo1_secret' })), 'test')).toThrow(/tokenSecretName$/);
  });
});

describe('providersFromContext', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-providers-'));

  it('reads a providers file relative to the working directory', () => {
    writeFileSync(path.join(dir, 'prod.json'), JSON.stringify(setting(fly())));
    const context: Record<string, unknown> = { providersFile: 'prod.json', flyTokenSecretName: 'prod/fly' };

    expect(providersFromContext((key) => context[key], dir)?.secrets).toEqual([{ provider: 'fly-ams', secret: 'prod/fly' }]);
  });

  it('reads JSON text given on the command line (-c providers=...)', () => {
    const context: Record<string, unknown> = { providers: JSON.stringify(setting(fly())) };

    expect(providersFromContext((key) => context[key])?.setting.default).toBe('fly-ams');
  });

  it('says when the file is not JSON', () => {
    writeFileSync(path.join(dir, 'broken.json'), '{"default": "fly-ams",');
    const context: Record<string, unknown> = { providersFile: 'broken.json' };

    expect(() => providersFromContext((key) => context[key], dir)).toThrow(/^Invalid providers \(providersFile broken\.json\): not JSON/);
  });

  it('accepts the example file docs/deploy.md starts from', () => {
    const context: Record<string, unknown> = { providersFile: 'deploy/providers.example.json' };

    const parsed = providersFromContext((key) => context[key], path.resolve(__dirname, '..', '..'));

    expect(parsed?.secrets.map((s) => [s.provider, s.secret, s.kmsKeyArn !== undefined])).toEqual([
      ['fly-ams', 'slipway/prod/fly-ams', false],
      ['fly-iad', 'slipway/prod/fly-iad', true],
    ]);
  });

  it('has no providers when the context names none', () => {
    expect(providersFromContext(() => undefined)).toBeUndefined();
  });
});

describe('the app', () => {
  it('fails to synthesize with one malformed providers value, before any function is built', () => {
    const app = new App({ context: { providers: JSON.stringify(setting(fly({ regions: [] }))) } });

    expect(() => buildApp(app)).toThrow(/^Invalid providers \(context providers\): providers\.0\.regions: /);
    expect(app.node.children).toHaveLength(0);
  });

  it('names its stacks after the stage context, so stages share an account', () => {
    expect(stackIds(undefined)).toEqual({ stateful: 'slipway-stateful', orchestration: 'slipway-orchestration' });
    expect(stackIds('prod')).toEqual({ stateful: 'slipway-prod-stateful', orchestration: 'slipway-prod-orchestration' });
    expect(() => stackIds('Prod_1')).toThrow(/context stage must be lowercase/);
  });

  it('builds the stacks of a stage under their stage ids', () => {
    const app = new App({ context: { stage: 'staging', 'aws:cdk:bundling-stacks': [] } });

    const { stateful, orchestration } = buildApp(app);

    expect([stateful.stackName, orchestration.stackName]).toEqual(['slipway-staging-stateful', 'slipway-staging-orchestration']);
  });
});
