/**
 * The integration suite's entry, loaded by VS Code's extension host (`--extensionTestsPath`) under either
 * runner: builds a Mocha run over the test files below, in this order, filtered by the scenario's grep
 * (JWT_VSCODE_GREP), and rejects when any test fails so the host exits non-zero. Runs inside VS Code only.
 */
import * as path from 'path';
import Mocha from 'mocha';

/** Order matters only for speed: read-only checks first, then the tests that edit files and settings. */
const FILES = [
  'diagnostics.test.js',
  'quick-fix.test.js',
  'fix-all-on-save.test.js',
  'audit.test.js',
  'settings.test.js',
  'untrusted.test.js',
];

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    // The extension host's console is relayed line by line; colours would arrive as escape codes.
    color: false,
    // The first test waits for the server to start and index; later ones wait for re-analysis.
    timeout: 90_000,
    grep: process.env.JWT_VSCODE_GREP ? new RegExp(process.env.JWT_VSCODE_GREP) : undefined,
  });
  for (const file of FILES) mocha.addFile(path.join(__dirname, file));
  return new Promise((resolve, reject) => {
    const runner = mocha.run(() => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats ?? {};
      // A plain closing line CI can read, whatever reporter printed above it.
      const skipped = pending > 0 ? `, ${pending} skipped` : '';
      console.log(`vscode-integration (${process.env.JWT_VSCODE_SCENARIO ?? 'default'}): ${passes} passed, ${failures} failed${skipped}`);
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else if (passes === 0) reject(new Error(`no integration test ran (grep ${process.env.JWT_VSCODE_GREP ?? 'none'})`));
      else resolve();
    });
  });
}
