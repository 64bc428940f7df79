// Runs one synthesized Lambda bundle the way the Lambda runtime does: plain Node `require` of
// index.js (the runtime provides @aws-sdk/*; NODE_PATH points at ours), then one invocation.
// Prints {loadMs, result} or {loadMs, error: {name, message}} as one JSON line.
const [bundle, eventJson] = process.argv.slice(2);
const started = process.hrtime.bigint();
let mod;
try {
  mod = require(bundle);
} catch (error) {
  process.stdout.write(JSON.stringify({ loadError: { name: error.name, message: error.message } }));
  process.exit(0);
}
const loadMs = Number(process.hrtime.bigint() - started) / 1e6;
Promise.resolve()
  .then(() => mod.handler(JSON.parse(eventJson), { functionName: 'bundle-test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 30000 }))
  .then(
    (result) => process.stdout.write(JSON.stringify({ loadMs, result })),
    (error) => process.stdout.write(JSON.stringify({ loadMs, error: { name: error.name, message: error.message } })),
  );
