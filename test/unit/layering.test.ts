/**
 * The one invariant of the architecture, enforced by scanning import specifiers: the analyzer (core, python,
 * workspace, rules) imports neither VS Code, the LSP libraries, nor the CLI or server layers; only `lsp/` imports
 * vscode-languageserver; only `client/` imports vscode; only `cli/` reads argv or writes to stdout.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { REPO_ROOT, listFilesRecursive } from '../support';

const SERVER = path.join(REPO_ROOT, 'server', 'src');
const CLIENT = path.join(REPO_ROOT, 'client', 'src');
const ANALYZER_DIRS = ['core', 'python', 'workspace', 'rules'];

function sources(dir: string): string[] {
  return fs.existsSync(dir) ? listFilesRecursive(dir).filter((f) => f.endsWith('.ts')) : [];
}

/** Import and require specifiers of a TypeScript file (type-only imports included: they still couple layers). */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

function resolvesInto(file: string, spec: string, dir: string): boolean {
  if (!spec.startsWith('.')) return false;
  const target = path.resolve(path.dirname(file), spec);
  return target === dir || target.startsWith(dir + path.sep);
}

describe('layering', () => {
  it('the analyzer imports no editor, protocol, CLI or server code', () => {
    const problems: string[] = [];
    for (const d of ANALYZER_DIRS) {
      for (const file of sources(path.join(SERVER, d))) {
        for (const spec of specifiers(file)) {
          const bad =
            /^vscode(-languageserver|-languageclient|-jsonrpc)?(\/|$)/.test(spec) ||
            resolvesInto(file, spec, path.join(SERVER, 'lsp')) ||
            resolvesInto(file, spec, path.join(SERVER, 'cli')) ||
            resolvesInto(file, spec, CLIENT);
          if (bad) problems.push(`${path.relative(REPO_ROOT, file)} imports ${spec}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it('only lsp/ imports vscode-languageserver, and only client/ imports vscode', () => {
    const problems: string[] = [];
    for (const file of [...sources(SERVER), ...sources(CLIENT)]) {
      const inLsp = file.startsWith(path.join(SERVER, 'lsp') + path.sep) || file === path.join(SERVER, 'protocol.ts');
      const inClient = file.startsWith(CLIENT + path.sep);
      for (const spec of specifiers(file)) {
        if (/^vscode-languageserver/.test(spec) && !inLsp && !(inClient && spec === 'vscode-languageserver-protocol')) {
          problems.push(`${path.relative(REPO_ROOT, file)} imports ${spec}`);
        }
        if (spec === 'vscode' && !inClient) problems.push(`${path.relative(REPO_ROOT, file)} imports vscode`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('only cli/ reads argv or writes to stdout, outside tools', () => {
    const problems: string[] = [];
    for (const d of ANALYZER_DIRS) {
      for (const file of sources(path.join(SERVER, d))) {
        const text = fs.readFileSync(file, 'utf8');
        if (/process\.argv|process\.stdout|process\.exit|console\.log/.test(text)) problems.push(path.relative(REPO_ROOT, file));
      }
    }
    assert.deepEqual(problems, []);
  });

  it('has analyzer sources to check (the test can fail)', () => {
    assert.ok(ANALYZER_DIRS.every((d) => sources(path.join(SERVER, d)).length > 0));
  });
});
