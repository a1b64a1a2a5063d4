/**
 * Timings of the real server process, every rule enabled: start to first diagnostics on the fixture app, and
 * edit to diagnostics on a generated 3000-line FastAPI module (the debounce included). Prints the figures and
 * holds them to generous bounds, so a regression that makes typing sluggish fails.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { FIXTURES } from '../support';
import { generatedModule } from './generate';
import { BUNDLED_SERVER, COMPILED_SERVER, copyFixture, LspTestClient } from './harness';

const SCRATCH = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-perf-'));
after(() => fs.rmSync(SCRATCH, { recursive: true, force: true }));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// The shipped bundle is what users run; the compiled server is the fallback when no bundle was built.
for (const [name, serverPath] of [['bundled', fs.existsSync(BUNDLED_SERVER) ? BUNDLED_SERVER : COMPILED_SERVER]] as const) {
  describe(`performance (${name} server)`, () => {
    it(`start to first diagnostics, and edit to diagnostics on a 3000-line file (${path.relative(process.cwd(), serverPath)})`, async (t) => {
      const root = copyFixture(path.join(FIXTURES, 'lsp', 'todo-api'), path.join(SCRATCH, name));
      // Every rule runs: drop the fixture's rule selection.
      fs.writeFileSync(path.join(root, 'pyproject.toml'), '[project]\nname = "todo-api"\nversion = "0.1.0"\n');
      const big = path.join(root, 'app', 'items.py');
      fs.writeFileSync(big, generatedModule(3000));
      const main = path.join(root, 'app', 'main.py');

      const t0 = performance.now();
      const client = await LspTestClient.start({ root, serverPath });
      try {
        client.open(main);
        await client.diagnosticsFor(main, (ds) => ds.some((d) => d.code === 'SEC305'), 30000);
        const startToFirst = performance.now() - t0;

        const t1 = performance.now();
        client.open(big);
        const initial = await client.diagnosticsFor(big, () => true, 30000);
        const openToFirst = performance.now() - t1;

        const edits: number[] = [];
        for (let i = 0; i < 3; i++) {
          const line = 1500 + i * 10;
          const te = performance.now();
          // Comment lines in the middle of the file shift every finding below them by one line.
          client.change(big, [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, text: `# edit ${i}\n` }]);
          await client.diagnosticsFor(big, () => true, 30000);
          edits.push(performance.now() - te);
        }
        const editToDiagnostics = median(edits);
        t.diagnostic(
          `${name}: start to first diagnostics ${Math.round(startToFirst)} ms; 3000-line file open to diagnostics ` +
            `${Math.round(openToFirst)} ms (${initial.length} diagnostics); edit to diagnostics median ${Math.round(editToDiagnostics)} ms ` +
            `(${edits.map(Math.round).join(', ')}; 200 ms of it is the typing debounce)`,
        );
        // Generous bounds: the rules themselves take seconds on this file today (the figures above say how
        // long); these catch a server that stops debouncing, re-indexes on every edit, or never answers.
        assert.ok(startToFirst < 20000, `start to first diagnostics took ${startToFirst} ms`);
        assert.ok(editToDiagnostics < 15000, `edit to diagnostics took ${editToDiagnostics} ms`);
      } finally {
        await client.shutdown();
      }
    });
  });
}
