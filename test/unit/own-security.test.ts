/**
 * The tool's own security promises (SECURITY.md): it never runs workspace code, opens network connections or
 * evaluates strings. Our sources may use process-spawning, network and eval-like APIs only where the allow-list
 * below says why; the shipped bundles are checked module by module in bundle-security.test.ts.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, listFilesRecursive } from '../support';

/** Dangerous capabilities, as they appear in source. */
export const DANGEROUS: Record<string, RegExp> = {
  child_process: /['"](node:)?child_process['"]/,
  http: /['"](node:)?https?['"]/,
  net: /['"](node:)?(net|tls|dgram|dns)['"]/,
  eval: /(^|[^\w.])eval\s*\(/,
  'new Function': /new\s+Function\s*\(/,
  vm: /['"](node:)?vm['"]/,
};

/** file (relative to the repo) -> capabilities it may use, with the reason. */
export const ALLOWED: Record<string, Record<string, string>> = {
  // The client starts the language server; vscode-languageclient does the spawning, our code passes options only.
  'server/src/lsp/loader.ts': {
    vm: "compiles the extension's own bundled server (server-main.js beside it in the package, never workspace text) with V8 cached data: on Node 20, vm.Script is the only way to hand V8 a code cache",
  },
};

describe("the tool's own sources", () => {
  const files = ['server/src', 'client/src']
    .map((d) => path.join(REPO_ROOT, d))
    .filter((d) => fs.existsSync(d))
    .flatMap((d) => listFilesRecursive(d))
    .filter((f) => f.endsWith('.ts'));

  it('scans some files (the test can fail)', () => {
    assert.ok(files.length > 10);
  });

  it('use no process, network or eval capability outside the allow-list', () => {
    const problems: string[] = [];
    for (const file of files) {
      const rel = path.relative(REPO_ROOT, file).split(path.sep).join('/');
      const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const [name, re] of Object.entries(DANGEROUS)) {
        if (re.test(text) && !ALLOWED[rel]?.[name]) problems.push(`${rel} uses ${name}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
