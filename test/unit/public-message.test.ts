import { publicMessage } from '../../lambdas/shared/errors/core';
import { failureMessage } from '../../lambdas/operations/step-schemas';

describe('what callers are shown of an error message', () => {
  it.each([
    [
      'a Lambda runtime payload',
      JSON.stringify({ errorType: 'Error', errorMessage: 'no capacity in ams', trace: ['Error: no capacity in ams', '    at createVolume (/var/task/index.js:1:2345)'] }),
      'no capacity in ams',
    ],
    ['a message naming a file', "ENOENT: no such file or directory, open '/tmp/slipway/volumes/v-1/meta.json'", "ENOENT: no such file or directory, open '<path>'"],
    ['a stack', 'Error: boom\n    at f (/srv/app/b.js:1:2)\n    at async g (node:internal/x:3:4)', 'Error: boom'],
    ['an embedded payload', 'ended FAILED (X: {"errorType":"X","errorMessage":"boom","trace":["Error: boom","    at f (/a/b.js:1:2)"]})', 'ended FAILED (X: {"errorType":"X","errorMessage":"boom"})'],
    ['a Windows path', 'cannot read C:\\Users\\ops\\slipway\\x.ts here', 'cannot read <path> here'],
    ['a URL, kept', 'see https://api.machines.dev/v1/apps/x/machines', 'see https://api.machines.dev/v1/apps/x/machines'],
    ['an image reference, kept', 'image slipway/hello:1 not found', 'image slipway/hello:1 not found'],
  ])('keeps the message of %s without stack frames or paths', (_label, text, shown) => {
    expect(publicMessage(text)).toBe(shown);
  });

  it('shows at most 500 characters', () => {
    expect(publicMessage('x'.repeat(2000))).toHaveLength(500);
  });
});

describe('the message a caught step failure records', () => {
  const payload = JSON.stringify({ errorType: 'ProviderCapacity', errorMessage: 'no capacity in ord', trace: ['ProviderCapacity: no capacity in ord'] });

  it.each([
    ["the Lambda runtime payload's errorMessage", { Error: 'ProviderCapacity', Cause: payload }, 'no capacity in ord'],
    ['a plain Cause as it is', { Error: 'States.Timeout', Cause: 'The task timed out' }, 'The task timed out'],
    ['the error name when there is no Cause', { Error: 'States.Timeout' }, 'States.Timeout'],
    ['the error name when the payload message is empty', { Error: 'Boom', Cause: JSON.stringify({ errorType: 'Boom', errorMessage: '' }) }, 'Boom'],
  ])('is %s', (_label, failure, message) => {
    expect(failureMessage(failure)).toBe(message);
  });
});
