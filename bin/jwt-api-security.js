#!/usr/bin/env node
// The `jwt-api-security` command: a launcher for the compiled CLI (out/server/src/cli/main.js, built by
// `npm ci` through the `prepare` script, or by `npm run build`).
'use strict';
const path = require('path');

let cli;
try {
  cli = require(path.join(__dirname, '..', 'out', 'server', 'src', 'cli', 'main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('main.js')) {
    process.stderr.write('jwt-api-security: the CLI is not built yet; run `npm run build` (or `npm ci`) in ' + path.join(__dirname, '..') + '\n');
    process.exit(2);
  }
  throw err;
}

// A closed pipe (`jwt-api-security | head`) is not an error worth a stack trace.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode || 0);
  throw err;
});

cli.run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write('jwt-api-security: internal error: ' + ((err && err.stack) || String(err)) + '\n');
    process.exitCode = 2;
  },
);
