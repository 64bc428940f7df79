import '../../infra/local/polyfills';
// The AWS SDK warns once per process that Node 20 is past its support window; tests run on 20 here.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
