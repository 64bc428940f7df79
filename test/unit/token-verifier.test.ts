import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createTokenVerifier } from '../../lambdas/api/auth';
import { UnauthorizedError } from '../../lambdas/shared/errors/http';

async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const verify = createTokenVerifier({ issuer: 'https://issuer.test/', audience: 'slipway', jwks: { keys: [jwk] } });
  const mint = (expiresAt: number) =>
    new SignJWT({ scope: 'instances' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice').setIssuer('https://issuer.test/').setAudience('slipway').setExpirationTime(expiresAt).sign(privateKey);
  const sign = (claims: Record<string, unknown>, audience?: string) => {
    const jwt = new SignJWT({ scope: 'instances', ...claims }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject('alice').setIssuer('https://issuer.test/').setExpirationTime('10m');
    return (audience === undefined ? jwt : jwt.setAudience(audience)).sign(privateKey);
  };
  return { verify, mint, sign };
}

describe('the token verifier', () => {
  afterEach(() => jest.useRealTimers());

  it('accepts the Bearer scheme in any case and one or more spaces', async () => {
    const { verify, mint } = await setup();
    const token = await mint(Math.floor(Date.now() / 1000) + 600);

    for (const header of [`Bearer ${token}`, `bearer ${token}`, `BEARER  ${token}`]) expect(await verify(header)).toMatchObject({ owner: 'user:alice', scopes: ['instances'] });
    await expect(verify(`Basic ${token}`)).rejects.toBeInstanceOf(UnauthorizedError);
    await expect(verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('stops accepting a token it verified before once the token expired', async () => {
    // Arrange: verified (and remembered) 5 s before it expires.
    const { verify, mint } = await setup();
    const now = Date.now();
    const token = await mint(Math.floor(now / 1000) + 5);
    expect(await verify(`Bearer ${token}`)).toMatchObject({ sub: 'alice' });

    // Act
    jest.useFakeTimers({ now: now + 10_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });

    // Assert
    await expect(verify(`Bearer ${token}`)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("takes client_id for the audience only when the token has no aud, as API Gateway's JWT authorizer does", async () => {
    const { verify, sign } = await setup();

    expect(await verify(`Bearer ${await sign({ client_id: 'slipway' })}`)).toMatchObject({ sub: 'alice' });
    await expect(verify(`Bearer ${await sign({ client_id: 'other' })}`)).rejects.toThrow('The bearer token was not issued for this API.');
    await expect(verify(`Bearer ${await sign({})}`)).rejects.toBeInstanceOf(UnauthorizedError);
    // aud wins when both are present.
    await expect(verify(`Bearer ${await sign({ client_id: 'slipway' }, 'other')}`)).rejects.toBeInstanceOf(UnauthorizedError);
    expect(await verify(`Bearer ${await sign({ client_id: 'other' }, 'slipway')}`)).toMatchObject({ sub: 'alice' });
  });
});
