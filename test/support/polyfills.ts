import '../../infra/local/polyfills';
// The AWS SDK warns once per process that Node 20 is past its support window; tests run on 20 here.
// The variable that stops it is AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED (@aws-sdk/core's
// emitWarningIfUnsupportedVersion); the maintenance-mode one was the SDK's earlier name for it.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
