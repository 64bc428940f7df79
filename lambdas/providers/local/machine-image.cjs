'use strict';
/**
 * The default image of the `local` provider: a tiny HTTP server that a machine runs as a real child
 * process. Plain JavaScript with no dependencies, so `node machine-image.cjs` starts in tens of ms.
 *
 * Environment (set by LocalComputeProvider):
 * - SLIPWAY_INSTANCE_ID, SLIPWAY_MACHINE_ID: identity, echoed in every answer.
 * - SLIPWAY_MOUNT_DIR: the real volume directory (the spec's mount path is SLIPWAY_MOUNT_PATH).
 * Behaviour switches for tests (pass them in the machine spec's `env`):
 * - SLIPWAY_IMAGE_FAIL_START=1: exit with code 1 before listening (a crash on boot).
 * - SLIPWAY_IMAGE_UNHEALTHY=1: `/healthz` answers 503.
 *
 * On start it appends `started <iso time> machine=<id>` to `<mount>/boot.log`, listens on
 * 127.0.0.1 on an ephemeral port and reports the port to the parent over the IPC channel
 * (`{ type: 'listening', port }`). It exits when the parent goes away (IPC disconnect), so a
 * machine never outlives the control plane that started it, even when that one is SIGKILLed.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const instanceId = process.env.SLIPWAY_INSTANCE_ID || '';
const machineId = process.env.SLIPWAY_MACHINE_ID || '';
const mountDir = process.env.SLIPWAY_MOUNT_DIR || '';
const bootLog = path.join(mountDir, 'boot.log');

if (typeof process.send !== 'function') {
  process.stderr.write('machine-image: no IPC channel; it must be started by the local provider\n');
  process.exit(2);
}
// Never outlive the parent: the IPC channel closes when it exits, however it exits.
process.on('disconnect', () => process.exit(0));
// A requested stop: exit at once (open keep-alive connections must not delay it).
process.on('SIGTERM', () => process.exit(0));

if (process.env.SLIPWAY_IMAGE_FAIL_START === '1') {
  process.stderr.write('machine-image: failing on start as asked (SLIPWAY_IMAGE_FAIL_START=1)\n');
  process.exit(1);
}

const startedAt = new Date().toISOString();
fs.appendFileSync(bootLog, `started ${startedAt} machine=${machineId}\n`);

function readVolumeFile() {
  try {
    return fs.readFileSync(bootLog, 'utf8');
  } catch {
    return null;
  }
}

const server = http.createServer((req, res) => {
  const url = (req.url || '/').split('?')[0];
  if (req.method !== 'GET' || (url !== '/' && url !== '/healthz')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'not found' }));
    return;
  }
  const unhealthy = url === '/healthz' && process.env.SLIPWAY_IMAGE_UNHEALTHY === '1';
  res.writeHead(unhealthy ? 503 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ instanceId, machineId, volumeFile: readVolumeFile(), startedAt }));
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send({ type: 'listening', port: address.port });
  process.stdout.write(`listening on http://127.0.0.1:${address.port} machine=${machineId}\n`);
});
