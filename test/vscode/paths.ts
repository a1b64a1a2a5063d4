/**
 * Where things are for the VS Code runners and the e2e script: the repository root, the compiled suite, the
 * fixture workspaces, the artifacts folder and the cached code-server install. Pure path logic; starts nothing
 * and must not import `vscode` (it runs in plain Node, outside any extension host).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** code-server 4.100.3 ships VS Code 1.100.3; scripts/setup-code-server.sh installs exactly this version. */
export const CODE_SERVER_VERSION = '4.100.3';

/** The checkout: the nearest folder above this file (compiled or not) holding package.json and server/. */
export const REPO_ROOT = ((): string => {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'server'))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error('cannot find the repository root');
})();

/** The compiled Mocha entry (`run()`): beside this file once compiled, wherever tsc put it. */
export const COMPILED_SUITE = path.join(__dirname, 'suite');

/** Fixture workspaces live in the source tree (tsc does not copy them). */
export const FIXTURES = path.join(REPO_ROOT, 'test', 'vscode', 'fixtures');

export const ARTIFACTS = path.join(REPO_ROOT, 'artifacts');

/** The folder that holds node_modules/code-server (the same default as scripts/setup-code-server.sh). */
export function codeServerHome(): string {
  const cacheRoot = process.env.JWT_API_SECURITY_CACHE ?? path.join(os.homedir(), '.cache', 'jwt-api-security');
  return path.join(cacheRoot, `code-server-${CODE_SERVER_VERSION}`);
}

/** The VS Code server entry inside the code-server package, or an error that says how to install it. */
export function vscodeServerMain(): string {
  const main = path.join(codeServerHome(), 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js');
  if (!fs.existsSync(main)) {
    throw new Error(`VS Code server not found at ${main}; run: bash scripts/setup-code-server.sh`);
  }
  return main;
}

/** Debian's Chromium unless CHROMIUM_PATH says otherwise (playwright's own browser download cannot work offline). */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const candidate of candidates) if (candidate && fs.existsSync(candidate)) return candidate;
  throw new Error('Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)');
}

/** Copies a folder tree (fixtures are small); used so tests that edit and save files never touch the checkout. */
export function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}
