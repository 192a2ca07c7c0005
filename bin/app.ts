#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp, checkConfiguration } from '../lib/app';
import { ConfigError } from '../lib/config';

try {
  // No synth at exit: a half-built app after a config error must not be synthesized.
  const app = new App({ autoSynth: false });
  checkConfiguration(app);
  buildApp(app, { notice: (line) => process.stderr.write(`${line}\n`) });
  app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // The user's mistake, not a crash: its one line without a stack trace, and a failing exit status.
  process.stderr.write(`${error.message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
}
