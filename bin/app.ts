#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp, checkConfiguration } from '../lib/app';
import { ConfigError } from '../lib/config';

try {
  // Synthesized here, not again at exit: a half-built app after a config error must not be synthesized.
  const app = new App({ autoSynth: false });
  // A configuration mistake fails here, before any function is bundled, so its line is all that stderr shows.
  checkConfiguration(app);
  buildApp(app);
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A configuration mistake is the user's to fix, not a crash: its one line (key, value, what is allowed)
  // without a stack trace, and a failing exit status so that `cdk synth` and `cdk deploy` stop.
  process.stderr.write(`${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
}
