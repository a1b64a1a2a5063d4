/**
 * The language server's entry in the extension (bundled as dist/server/server.js): runs the bundled server
 * (server-main.js beside it) with a V8 code cache, so a start-up does not compile the megabyte of JavaScript again.
 * Node 20 has no module.enableCompileCache; this does by hand what it does: the bundle is compiled with vm.Script
 * and the cached data a previous start left, and, when there was none (or V8 rejected it), the server's code is
 * serialized once the server has done its first work (`warm`, below), so the functions a start-up runs (the index,
 * the rules of the first analysis) are in it too, not only the top level.
 *
 * The cache lives where the client says (`--code-cache-dir=DIR`, the extension's global storage); without it the
 * bundle is simply required. A cache file is named by the hash of the bundle's text and of the runtime (Node, V8,
 * architecture), because V8 itself checks only the source's length; its payload carries its own hash, checked before
 * V8 sees it, so a truncated or damaged file is ignored (and replaced), never deserialized. Writes go to a temporary
 * file renamed into place; other bundles' cache files in the folder are removed then. Nothing here may stop the
 * server from starting: every failure falls back to the plain require.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import Module = require('module');
import * as path from 'path';
import * as vm from 'vm';

const HEADER = 'jwt-api-security/v8-code-cache/1\n';
/**
 * Delay between the server saying it is warm (its first diagnostics are out) and the cache being serialized and
 * written, a few tens of ms on the main thread once per build: past the burst of requests that follows an open.
 */
const WRITE_DELAY_MS = 2000;
/** What the server calls (see `codeCacheWarm` in server.ts) once its first work is done. */
export const WARM_HOOK = Symbol.for('jwt-api-security.codeCache.warm');
/** What the loader did, for the server's log: 'used', 'missing', 'damaged' or 'rejected' (by V8). */
export const STATUS = Symbol.for('jwt-api-security.codeCache.status');

/** The folder `--code-cache-dir=DIR` (or `--code-cache-dir DIR`) names, if absolute. */
export function codeCacheDirArg(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = arg.startsWith('--code-cache-dir=') ? arg.slice('--code-cache-dir='.length) : arg === '--code-cache-dir' ? argv[i + 1] : undefined;
    if (value !== undefined) return value && path.isAbsolute(value) ? value : undefined;
  }
  return undefined;
}

/** The cache file of `source` run by this runtime, in `dir`. */
export function codeCacheFile(dir: string, source: string): string {
  const key = createHash('sha1').update(`${process.version}\0${process.arch}\0${process.versions.v8}\0`).update(source).digest('hex');
  return path.join(dir, `server-${key.slice(0, 32)}.bin`);
}

/** The cached data stored in `file`, if it is whole; undefined for a missing, foreign, truncated or damaged file. */
export function readCodeCache(file: string): Buffer | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const headerEnd = HEADER.length + 41;
  if (data.length <= headerEnd || data.toString('latin1', 0, HEADER.length) !== HEADER) return undefined;
  const payload = data.subarray(headerEnd);
  const hash = data.toString('latin1', HEADER.length, headerEnd - 1);
  return createHash('sha1').update(payload).digest('hex') === hash ? payload : undefined;
}

/** Writes `payload` as `file` (atomically) and removes the other cache files of the folder. Returns an error text. */
export function writeCodeCache(file: string, payload: Buffer): string | undefined {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const hash = createHash('sha1').update(payload).digest('hex');
    fs.writeFileSync(temp, Buffer.concat([Buffer.from(`${HEADER}${hash}\n`, 'latin1'), payload]));
    fs.renameSync(temp, file);
    for (const name of fs.readdirSync(path.dirname(file))) {
      if (/^server-[0-9a-f]+\.bin$/.test(name) && name !== path.basename(file)) fs.rmSync(path.join(path.dirname(file), name), { force: true });
    }
    return undefined;
  } catch (err) {
    try {
      fs.rmSync(temp, { force: true });
    } catch {
      // Nothing more to do.
    }
    return (err as Error).message;
  }
}

/**
 * Runs the CommonJS module `main` as `require` would, from `cachedData` when V8 accepts it. Returns the script
 * (for createCachedData) and whether the cached data was used.
 */
export function runWithCodeCache(main: string, source: string, cachedData: Buffer | undefined): { script: vm.Script; used: boolean } {
  const script = new vm.Script(Module.wrap(source), { filename: main, cachedData });
  const mod = new Module(main, require.main ?? undefined);
  mod.filename = main;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(main));
  // In require.cache as a required module is (the index cache's build fingerprint lists the loaded modules).
  (Module as unknown as { _cache: Record<string, Module> })._cache[main] = mod;
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(mod.exports, mod.exports, Module.createRequire(main), mod, main, path.dirname(main));
  mod.loaded = true;
  return { script, used: cachedData !== undefined && !script.cachedDataRejected };
}

function start(): void {
  const main = path.join(__dirname, 'server-main.js');
  const dir = codeCacheDirArg(process.argv);
  let source: string | undefined;
  let file: string | undefined;
  let cachedData: Buffer | undefined;
  try {
    if (dir) {
      source = fs.readFileSync(main, 'utf8');
      file = codeCacheFile(dir, source);
      cachedData = readCodeCache(file);
    }
  } catch {
    source = undefined;
  }
  if (source === undefined || file === undefined) {
    Module.createRequire(main)(main);
    return;
  }
  const target = file;
  const global = globalThis as Record<symbol, unknown>;
  global[STATUS] = cachedData ? 'used' : fs.existsSync(file) ? 'damaged' : 'missing';
  let script: vm.Script | undefined;
  global[WARM_HOOK] = () => {
    // Once per process, and only when there was no usable cache.
    global[WARM_HOOK] = undefined;
    if (!script) return;
    const timer = setTimeout(() => writeCodeCache(target, script!.createCachedData()), WRITE_DELAY_MS);
    timer.unref();
  };
  const run = runWithCodeCache(main, source, cachedData);
  if (run.used) global[WARM_HOOK] = undefined;
  else script = run.script;
  if (cachedData && !run.used) global[STATUS] = 'rejected';
}

if (require.main === module) start();
