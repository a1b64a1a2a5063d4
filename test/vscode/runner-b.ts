/**
 * Runner B: runs the integration suite in a real VS Code 1.100.3 without downloading VS Code, the way VS Code's
 * own test/integration/browser does: the VS Code server (from the cached code-server package) loads the
 * extension under development and the compiled Mocha suite in its Node extension host once a headless Chromium
 * opens the workbench; the web client reports the suite's exit code through window.codeAutomationExit and its
 * output through window.codeAutomationLog, which this runner relays and turns into its own exit code.
 *
 * Usage: node out/test/vscode/runner-b.js [--scenario NAME] [--grep REGEX] | [--workspace DIR [--untrusted]]
 *        [--extension DIR] [--tests DIR] [--timeout SECONDS]
 * With no --workspace the runner runs every scenario of scenarios.ts, one window after the other. Each
 * workspace is copied to a scratch folder first: tests edit and save files, and the checkout must stay clean.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import { openBrowser } from './browser';
import { ARTIFACTS, COMPILED_SUITE, REPO_ROOT, copyTree } from './paths';
import { type Scenario, scenariosFromArgs, suiteEnv } from './scenarios';
import { makeTempRoot, startServer } from './vscode-server';

interface Options {
  scenarios: Scenario[];
  extension: string;
  tests: string;
  timeoutSeconds: number;
}

function parseArgs(argv: string[]): Options {
  const { scenarios, rest } = scenariosFromArgs(argv);
  let extension = REPO_ROOT;
  let tests = COMPILED_SUITE;
  let timeoutSeconds = 600;
  for (let i = 0; i < rest.length; i++) {
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined) throw new Error(`${rest[i - 1]} needs a value`);
      return next;
    };
    switch (rest[i]) {
      case '--extension': extension = path.resolve(value()); break;
      case '--tests': tests = path.resolve(value()); break;
      case '--timeout': timeoutSeconds = Number(value()); break;
      default: throw new Error(`unknown argument ${rest[i]}`);
    }
  }
  return { scenarios, extension, tests, timeoutSeconds };
}

/**
 * The extension host's console calls arrive as their raw arguments: Mocha's printf-style format strings
 * (`%s`, `%d`) and VS Code's `%c` CSS directives. util.format renders both the way a terminal would.
 */
function plain(args: unknown[]): string {
  return util.format(...args);
}

/**
 * The workbench's own start-up chatter (sockets, the service worker a plain-HTTP page cannot register, the
 * gallery that is unreachable offline) says nothing about the suite: it goes to the console log file only.
 */
const NOISE = [
  /^(Creating a socket|Resolving connection token|Resolved connection token|Creation of workbench contribution)/,
  /^(Updating additional builtin extensions cache|ChatSessionStore:|Extension host \(Remote\) is (un)?responsive)/,
  /^\[Service Worker\]/,
  /getaddrinfo ENOTFOUND/,
];

function isWorkbenchNoise(line: string): boolean {
  return NOISE.some((re) => re.test(line));
}

/** Runs one scenario; resolves to the suite's exit code (non-zero on any failure, timeout or crash). */
async function runOne(run: Scenario, options: Options): Promise<number> {
  const started = Date.now();
  const scratch = makeTempRoot(`jwt-vscode-${run.name}-`);
  const folder = path.join(scratch, path.basename(run.workspace));
  copyTree(run.workspace, folder);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const logFile = path.join(ARTIFACTS, `vscode-server-${run.name}.log`);
  fs.rmSync(logFile, { force: true });

  console.log(`\n[runner-b] ${run.name}: VS Code 1.100.3, workspace ${folder}${run.untrusted ? ' (untrusted)' : ''}`);
  const server = await startServer({
    disableWorkspaceTrust: !run.untrusted,
    logFile,
    // The extension host inherits the server's environment: this is how the suite learns its scenario.
    env: suiteEnv(run, folder),
  });
  const browser = await openBrowser();
  try {
    const exit = new Promise<number>((resolve) => {
      void browser.page.exposeFunction('codeAutomationExit', (code: number) => resolve(code));
    });
    const consoleLog = path.join(ARTIFACTS, `vscode-console-${run.name}.log`);
    fs.writeFileSync(consoleLog, '');
    await browser.page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
      const line = plain(Array.isArray(args) ? args : [args]);
      fs.appendFileSync(consoleLog, `[${type}] ${line}\n`);
      if (isWorkbenchNoise(line)) return;
      if (type === 'error') console.error(line);
      else console.log(line);
    });
    // Errors in the workbench page itself (not the extension host) are worth seeing when a run hangs.
    browser.page.on('pageerror', (error) => console.error(`[workbench] ${error.message}`));

    const payload: Array<[string, string]> = [
      ['extensionDevelopmentPath', server.remoteUri(options.extension)],
      ['extensionTestsPath', server.remoteUri(options.tests)],
      ['skipWelcome', 'true'],
    ];
    await browser.page.goto(server.workbenchUrl(folder, payload));

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.timeoutSeconds * 1000);
    });
    const result = await Promise.race([exit, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      const shot = path.join(ARTIFACTS, `runner-b-${run.name}-timeout.png`);
      await browser.page.screenshot({ path: shot }).catch(() => undefined);
      console.error(`[runner-b] ${run.name}: no result after ${options.timeoutSeconds} s (screenshot ${shot}, log ${logFile})`);
      return 1;
    }
    console.log(`[runner-b] ${run.name}: extension host exited with ${result} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    await browser.close();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(options.tests, 'index.js'))) {
    throw new Error(`compiled suite not found at ${options.tests}/index.js (run: npx tsc -p .)`);
  }
  let failed = 0;
  for (const run of options.scenarios) {
    const code = await runOne(run, options);
    if (code !== 0) failed++;
  }
  const passed = options.scenarios.length - failed;
  console.log(`[runner-b] scenarios: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(`[runner-b] ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exitCode = 1;
}).finally(() => {
  // Exit explicitly: playwright and child pipes may hold the loop open; the exit hook kills what is left.
  setImmediate(() => process.exit(process.exitCode ?? 0));
});
