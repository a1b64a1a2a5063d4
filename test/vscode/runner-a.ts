/**
 * Runner A: the integration suite in desktop VS Code through @vscode/test-electron's runTests, for machines that
 * can download VS Code (a laptop, a hosted CI). The same suite and scenarios as runner B; VS Code 1.100.3 by
 * default so both runners test the same editor (JWT_VSCODE_VERSION=stable|insiders|1.91.0 to change it, or
 * VSCODE_EXECUTABLE_PATH to use an installed VS Code). On Linux without a display, run it under xvfb-run.
 *
 * Usage: node out/test/vscode/runner-a.js [--scenario NAME] [--grep REGEX] | [--workspace DIR [--untrusted]]
 */
import * as fs from 'fs';
import * as path from 'path';
import { runTests } from '@vscode/test-electron';
import { COMPILED_SUITE, REPO_ROOT, copyTree } from './paths';
import { scenariosFromArgs, suiteEnv, type Scenario } from './scenarios';
import { makeTempRoot } from './vscode-server';

async function runOne(scenario: Scenario): Promise<number> {
  const scratch = makeTempRoot(`jwt-vscode-a-${scenario.name}-`);
  const folder = path.join(scratch, path.basename(scenario.workspace));
  copyTree(scenario.workspace, folder);
  const userData = path.join(scratch, 'user-data');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ 'security.workspace.trust.startupPrompt': 'never', 'workbench.startupEditor': 'none' }),
  );

  const launchArgs = [
    folder,
    // Other installed extensions must not interfere (a Python extension would add its own diagnostics).
    '--disable-extensions',
    '--user-data-dir', userData,
    '--extensions-dir', path.join(scratch, 'extensions'),
    '--skip-welcome',
    '--skip-release-notes',
  ];
  if (!scenario.untrusted) launchArgs.push('--disable-workspace-trust');

  console.log(`\n[runner-a] ${scenario.name}: workspace ${folder}${scenario.untrusted ? ' (untrusted)' : ''}`);
  try {
    return await runTests({
      version: process.env.JWT_VSCODE_VERSION ?? '1.100.3',
      vscodeExecutablePath: process.env.VSCODE_EXECUTABLE_PATH,
      extensionDevelopmentPath: REPO_ROOT,
      extensionTestsPath: COMPILED_SUITE,
      extensionTestsEnv: suiteEnv(scenario, folder),
      launchArgs,
    });
  } catch (error) {
    // runTests rejects on a failing suite (TestRunFailedError) and on a download that cannot happen.
    console.error(`[runner-a] ${scenario.name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function main(): Promise<void> {
  const { scenarios, rest } = scenariosFromArgs(process.argv.slice(2));
  if (rest.length > 0) throw new Error(`unknown arguments: ${rest.join(' ')}`);
  let failed = 0;
  for (const scenario of scenarios) {
    if ((await runOne(scenario)) !== 0) failed++;
  }
  console.log(`[runner-a] scenarios: ${scenarios.length - failed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(`[runner-a] ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
});
