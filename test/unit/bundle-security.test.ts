/**
 * The shipped bundles, module by module: esbuild lists every source file it puts into the client and server
 * bundles, and none may spawn processes, open sockets or evaluate strings unless the allow-list below names the
 * package and says why. Our own files are allowed only what own-security.test.ts allows them (it checks them too).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as esbuild from 'esbuild';
import { REPO_ROOT } from '../support';
import { ALLOWED as OWN_ALLOWED, DANGEROUS } from './own-security.test';

/** package path prefix (under node_modules/) -> capability -> why it is acceptable. */
const ALLOWED: Record<string, Record<string, string>> = {
  'vscode-languageclient/': { child_process: 'starts the language server process (the only process the extension starts)' },
  'vscode-jsonrpc/': { net: 'the socket and pipe transports of JSON-RPC (we use IPC and stdio)' },
  'vscode-languageserver/': { child_process: 'module-path helpers for global npm/yarn folders, which the server never calls' },
  'web-tree-sitter/': { eval: "Emscripten's loader glue; it evaluates no workspace text" },
};

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await esbuild.build({
    entryPoints: [entry],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    define: { 'import.meta.url': '__importMetaUrl' },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile!.inputs);
}

function allowed(input: string, capability: string): boolean {
  const i = input.lastIndexOf('node_modules/');
  // Our own files: only what own-security.test.ts allows them (the server's loader, vm).
  if (i === -1) return capability in (OWN_ALLOWED[input] ?? {});
  const rest = input.slice(i + 'node_modules/'.length);
  return Object.entries(ALLOWED).some(([prefix, caps]) => rest.startsWith(prefix) && capability in caps);
}

describe('the shipped bundles', () => {
  for (const entry of ['client/src/extension.ts', 'server/src/lsp/server.ts', 'server/src/lsp/loader.ts']) {
    it(`${entry}: no process, network or eval capability outside the allow-list`, async () => {
      const inputs = await bundledInputs(entry);
      assert.ok(inputs.some((i) => i.startsWith('server/src/') || i.startsWith('client/src/')), 'no sources of ours in the bundle');
      const problems: string[] = [];
      for (const input of inputs) {
        const file = path.join(REPO_ROOT, input);
        if (!fs.existsSync(file)) continue;
        const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
        for (const [name, re] of Object.entries(DANGEROUS)) {
          if (re.test(text) && !allowed(input, name)) problems.push(`${input} uses ${name}`);
        }
      }
      assert.deepEqual(problems, []);
    });
  }
});
