/**
 * The server's document store (server/src/lsp/documents.ts): after any sequence of ranged LSP changes, the text
 * equals the edited text and the incrementally re-parsed tree equals a fresh parse of it, including edits across
 * non-ASCII text (UTF-16 columns). Seeded, so a failure names its seed.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { DocumentStore } from '../../server/src/lsp/documents';
import { LineIndex } from '../../server/src/core/text';
import { initParser, parsePython } from '../../server/src/python/parser';

const BASE = [
  'import jwt',
  'from fastapi import Depends, FastAPI',
  '',
  'app = FastAPI(debug=True)  # é 😀 non-ASCII before code',
  '',
  '@app.get("/items/{item_id}")',
  'async def read(item_id: int, user=Depends(get_user)):',
  '    claims = jwt.decode(token, "s3cret", algorithms=["HS256"])',
  '    return {"id": item_id, "名前": claims["sub"]}',
  '',
].join('\n');

const STATEMENTS = ['x = 1\n', 'import os\n', 'y = "é😀"\n', '\n', 'del x\n'];
const SNIPPETS = ['x', '\n', '    ', 'def f(:\n', '"""', ')', 'é', '😀', 'return 1\n', '', '# c\n', 'await g()'];

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

before(() => initParser());

describe('incremental documents', () => {
  it('keep text and tree equal to a fresh parse over 150 seeded edit sequences', () => {
    let valid = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const random = rng(seed);
      const store = new DocumentStore();
      const uri = `file:///seed-${seed}.py`;
      let expected = BASE;
      store.open(uri, 'python', 1, expected);
      for (let step = 0; step < 8; step++) {
        const index = new LineIndex(expected);
        // Offsets at code-unit boundaries, never inside a surrogate pair (an editor never splits one).
        let a: number;
        let b: number;
        let text: string;
        if (random() < 0.6) {
          // A whole statement inserted at the start of a top-level line: the text usually stays valid Python.
          const line = Math.floor(random() * index.lineCount);
          a = b = index.offsetAt({ line, character: 0 });
          text = STATEMENTS[Math.floor(random() * STATEMENTS.length)];
          if (/^\s/.test(expected.slice(a, a + 1)) && !text.startsWith('    ')) text = '';
        } else {
          // Anywhere, anything: broken states and edits inside tokens, lines and non-ASCII text.
          a = Math.floor(random() * (expected.length + 1));
          b = Math.min(expected.length, a + Math.floor(random() * 12));
          if (/[\uDC00-\uDFFF]/.test(expected[a] ?? '')) a--;
          if (/[\uDC00-\uDFFF]/.test(expected[b] ?? '')) b++;
          text = SNIPPETS[Math.floor(random() * SNIPPETS.length)];
        }
        const range = { start: index.positionAt(a), end: index.positionAt(b) };
        expected = expected.slice(0, a) + text + expected.slice(b);
        store.change(uri, step + 2, [{ range, text }]);
        const doc = store.get(uri)!;
        assert.equal(doc.text, expected, `seed ${seed} step ${step}: text`);
        const fresh = parsePython(expected);
        try {
          // Tree-sitter promises identical trees for valid code; for broken code, error recovery may place the
          // ERROR nodes differently on an incremental parse, but both must see the code as broken.
          if (fresh.rootNode.hasError) assert.ok(doc.tree?.rootNode.hasError, `seed ${seed} step ${step}: errors`);
          else assert.equal(doc.tree?.rootNode.toString(), fresh.rootNode.toString(), `seed ${seed} step ${step}: tree`);
          if (!fresh.rootNode.hasError) valid++;
        } finally {
          fresh.delete();
        }
      }
      store.dispose();
    }
    // The comparison must not be vacuous: many states along the way are valid Python.
    assert.ok(valid > 100, `only ${valid} valid states compared`);
  });

  it('applies several changes of one notification in order, and a whole-text change', () => {
    const store = new DocumentStore();
    store.open('file:///m.py', 'python', 1, 'a = 1\nb = 2\n');
    store.change('file:///m.py', 2, [
      { range: { start: { line: 0, character: 4 }, end: { line: 0, character: 5 } }, text: '10' },
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text: 'c = 3\n' },
    ]);
    assert.equal(store.get('file:///m.py')!.text, 'a = 10\nc = 3\nb = 2\n');
    store.change('file:///m.py', 3, [{ text: 'def f():\n    pass\n' }]);
    const doc = store.get('file:///m.py')!;
    assert.equal(doc.version, 3);
    assert.equal(doc.tree!.rootNode.firstChild!.type, 'function_definition');
    store.close('file:///m.py');
    assert.equal(store.get('file:///m.py'), undefined);
  });

  it('maps file URIs to paths and leaves other schemes without one', () => {
    const store = new DocumentStore();
    assert.equal(store.open('file:///tmp/a%20b.py', 'python', 1, '').path, '/tmp/a b.py');
    assert.equal(store.open('untitled:Untitled-1', 'python', 1, '').path, undefined);
    store.dispose();
  });
});
