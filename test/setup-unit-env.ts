// Unit tests assert return values and errors; keep the handlers' structured logs off the test output.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The AWS SDK warns once per process about Node.js 20; the functions run on Node.js 24.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
