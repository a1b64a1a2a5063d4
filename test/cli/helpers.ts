/**
 * Plumbing for the CLI tests: run the compiled CLI as a real process, and build throwaway projects on disk.
 * The CLI is found next to this compiled file (`<out>/server/src/cli/main.js`), so the tests run the build they
 * were compiled with, whether that is the repository's out/ or a private output folder.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const OUT_DIR = path.resolve(__dirname, '..', '..');
export const CLI_MAIN = path.join(OUT_DIR, 'server', 'src', 'cli', 'main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): CliRun {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { cwd: options.cwd, env: env as NodeJS.ProcessEnv, encoding: 'utf8', timeout: 170_000, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh folder with `files` (path -> text or bytes) written into it. */
export function makeProject(files: Record<string, string | Buffer>): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-cli-')));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return dir;
}

export function removeProject(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A small FastAPI app with one safely fixable finding (SEC305, `FastAPI(debug=True)`) on line 3. */
export const DEBUG_APP = 'from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n';
export const CLEAN_APP = 'from fastapi import FastAPI\n\napp = FastAPI()\n';
