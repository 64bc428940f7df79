import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevKey, mintDevToken } from './dev-auth';

/** `npm run token -- --sub alice [--org acme]… [--admin] [--ttl 3600]`: prints only the token. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      org: { type: 'string', multiple: true },
      admin: { type: 'boolean', default: false },
      ttl: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  });
  if (!values.sub) {
    process.stderr.write('usage: npm run token -- --sub <user> [--org <org>]… [--admin] [--ttl <seconds>]\n');
    process.exit(2);
  }
  const dataDir = path.resolve(values['data-dir'] ?? process.env.SLIPWAY_DATA_DIR ?? '.data');
  const key = await ensureDevKey(dataDir);
  const token = await mintDevToken(key, { sub: values.sub, orgs: values.org, admin: values.admin, ttlSeconds: values.ttl ? Number(values.ttl) : undefined });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
