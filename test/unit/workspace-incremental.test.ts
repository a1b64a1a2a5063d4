/**
 * Incremental workspace updates must give exactly what a fresh workspace gives. Seeded random edits (adding and
 * removing routes, imports, auth dependencies, JWT decodes, owner columns, whole files, plus plain line edits)
 * are applied through `setFile`/`removeFile` to the fixture projects and the example, with memos built before each
 * edit (a full analysis, or one file's as the language server does); after each edit the analysis of the updated
 * workspace is compared with that of a workspace built from scratch: identical JSON. Also: the memo table keeps
 * what an edit cannot affect and drops what it can (including lazily filled caches and mutated values).
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { analyzeFile, analyzeWorkspace } from '../../server/src/core/analyze';
import { defaultSettings, type Settings } from '../../server/src/core/settings';
import { Workspace } from '../../server/src/workspace/workspace';
import { Analyzer } from '../../server/src/lsp/analysis';
import { FIXTURES, REPO_ROOT, listFilesRecursive } from '../support';

const SEED = Number(process.env.INCREMENTAL_SEED ?? 20261126);
const EDITS = Number(process.env.INCREMENTAL_EDITS ?? 8);

before(async () => {
  await initParser();
});

/** mulberry32: a small seeded generator, so a failure can be replayed with INCREMENTAL_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

function projectSettings(dir: string): Partial<Settings> {
  const file = path.join(dir, 'settings.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Settings>) : {};
}

function newWorkspace(dir: string, files: ReadonlyMap<string, string>): Workspace {
  const settings: Settings = { ...defaultSettings(), includeTests: true, ...projectSettings(dir) };
  const ws = new Workspace(dir, () => settings);
  for (const [file, text] of files) ws.setFile(file, text);
  return ws;
}

// ---- edits: each returns the new text of a Python file (or undefined: not applicable to this text) --------------

const lines = (text: string) => text.split('\n');
const indexes = (ls: string[], re: RegExp) => ls.map((l, i) => (re.test(l) ? i : -1)).filter((i) => i >= 0);

function replaceLine(text: string, r: Rand, re: RegExp, make: (line: string) => string | undefined): string | undefined {
  const ls = lines(text);
  const hits = indexes(ls, re);
  if (hits.length === 0) return undefined;
  const i = pick(r, hits);
  const next = make(ls[i]);
  if (next === undefined) return undefined;
  ls.splice(i, 1, ...(next === '' ? [] : [next]));
  return ls.join('\n');
}

/** The name of an app or router instance the text creates, to hang a new route on. */
function instanceName(text: string): string | undefined {
  return /^(\w+)\s*=\s*(?:fastapi\.)?(?:FastAPI|APIRouter)\(/m.exec(text)?.[1];
}

type Edit = (text: string, r: Rand, n: number) => string | undefined;

const EDITS_BY_KIND: Record<string, Edit> = {
  'add route': (text, r, n) => {
    const inst = instanceName(text);
    if (!inst) return undefined;
    const dep = /def (get_current_\w+)/.exec(text)?.[1];
    const param = dep && r() < 0.5 ? `user=Depends(${dep})` : 'item_id: int';
    return `${text}\n\n@${inst}.${pick(r, ['get', 'post', 'delete'])}("/incr${n}/{item_id}")\nasync def incr_route_${n}(item_id: int, ${param.startsWith('item_id') ? 'q: str = ""' : param}):\n    return {"id": item_id}\n`;
  },
  'remove route': (text, r) => replaceLine(text, r, /^\s*@\w+\.(get|post|put|patch|delete)\(/, () => ''),
  'add import': (text, r) => {
    const imp = pick(r, [
      'import jwt',
      'from jose import jwt',
      'from fastapi import Depends, APIRouter',
      'from .auth import get_current_user',
      'from app.models import User',
      'import os',
    ]);
    return `${imp}\n${text}`;
  },
  'remove import': (text, r) => replaceLine(text, r, /^(from \S+ )?import /, () => ''),
  'drop auth dependency': (text, r) =>
    replaceLine(text, r, /Depends\(\s*\w*(current|auth|user|token|verify)\w*\s*\)/i, (l) => l.replace(/Depends\(\s*\w+\s*\)/, 'Depends()')),
  'remove a Depends line': (text, r) => replaceLine(text, r, /Depends\(|Security\(/, () => ''),
  'add jwt decode': (text, r) => {
    const ls = lines(text);
    const defs = indexes(ls, /^\s*(async )?def \w+\(.*\):\s*$/);
    if (defs.length === 0) return undefined;
    const i = pick(r, defs);
    const indent = /^(\s*)/.exec(ls[i])![1] + '    ';
    const call = pick(r, [
      'jwt.decode(token, "secret", algorithms=["HS256"])',
      'jwt.decode(token, options={"verify_signature": False})',
      'jwt.decode(token, SECRET_KEY)',
    ]);
    ls.splice(i + 1, 0, `${indent}payload = ${call}`);
    return ls.join('\n');
  },
  'remove jwt decode': (text, r) => replaceLine(text, r, /\bjwt\.decode\(|\bdecode\(/, (l) => l.replace(/\b(jwt\.)?decode\(/, 'dict(')),
  'rename owner column': (text, r) =>
    replaceLine(text, r, /^\s+(user_id|owner_id|author_id|created_by|account_id|tenant_id)\b.*[:=]/, (l) => l.replace(/\b(user_id|owner_id|author_id|created_by|account_id|tenant_id)\b/, 'assignee_ref')),
  'add owner column': (text, r) =>
    replaceLine(text, r, /^class \w+\(.*(SQLModel|Base|Model).*\):/, (l) => `${l}\n    owner_id: int = 0`),
  'delete line': (text, r) => {
    const ls = lines(text);
    if (ls.length < 2) return undefined;
    ls.splice(Math.floor(r() * ls.length), 1);
    return ls.join('\n');
  },
  'duplicate line': (text, r) => {
    const ls = lines(text);
    const i = Math.floor(r() * ls.length);
    ls.splice(i, 0, ls[i]);
    return ls.join('\n');
  },
  'type a character': (text, r) => {
    const at = Math.floor(r() * (text.length + 1));
    return text.slice(0, at) + pick(r, [' ', 'x', '(', ':', '\n', '#']) + text.slice(at);
  },
};

interface Step {
  describe: string;
  apply(ws: Workspace, files: Map<string, string>): void;
}

function randomStep(r: Rand, dir: string, files: Map<string, string>, original: ReadonlyMap<string, string>, n: number): Step {
  const py = [...files.keys()].filter((f) => f.endsWith('.py'));
  const roll = r();
  if (roll < 0.08 && py.length > 1) {
    const victim = pick(r, py);
    return {
      describe: `remove ${path.relative(dir, victim)}`,
      apply: (ws, fs) => {
        fs.delete(victim);
        ws.removeFile(victim);
      },
    };
  }
  if (roll < 0.16) {
    const template = pick(r, py.length ? py : [...original.keys()]);
    const target = path.join(path.dirname(template), `incr_new_${n}.py`);
    const text = files.get(template) ?? original.get(template) ?? '';
    return {
      describe: `add ${path.relative(dir, target)} (a copy of ${path.basename(template)})`,
      apply: (ws, fs) => {
        fs.set(target, text);
        ws.setFile(target, text);
      },
    };
  }
  if (roll < 0.22) {
    const gone = [...original.keys()].filter((f) => f.endsWith('.py') && files.get(f) !== original.get(f));
    if (gone.length > 0) {
      const back = pick(r, gone);
      return {
        describe: `restore ${path.relative(dir, back)}`,
        apply: (ws, fs) => {
          fs.set(back, original.get(back)!);
          ws.setFile(back, original.get(back)!);
        },
      };
    }
  }
  // A text edit that applies: try kinds in a random order.
  const kinds = Object.keys(EDITS_BY_KIND).sort(() => r() - 0.5);
  for (let attempt = 0; attempt < 20; attempt++) {
    const file = pick(r, py);
    const kind = kinds[attempt % kinds.length];
    const next = EDITS_BY_KIND[kind](files.get(file)!, r, n);
    if (next === undefined || next === files.get(file)) continue;
    return {
      describe: `${kind} in ${path.relative(dir, file)}`,
      apply: (ws, fs) => {
        fs.set(file, next);
        ws.setFile(file, next);
      },
    };
  }
  return { describe: 'nothing applicable', apply: () => undefined };
}

function loadFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of listFilesRecursive(dir)) {
    if (file.endsWith('.fixed.py') || file.endsWith('settings.json') || file.endsWith('.md')) continue;
    out.set(file, fs.readFileSync(file, 'utf8'));
  }
  return out;
}

const PROJECTS = path.join(FIXTURES, 'projects');
const FOLDERS = [
  ...fs.readdirSync(PROJECTS).filter((d) => fs.statSync(path.join(PROJECTS, d)).isDirectory()).sort().map((d) => path.join(PROJECTS, d)),
  path.join(REPO_ROOT, 'examples', 'todo-api'),
];

describe('incremental workspace: random edits give what a fresh workspace gives', () => {
  let totalKept = 0;
  FOLDERS.forEach((dir, index) => {
    it(path.basename(dir), () => {
      const r = rng(SEED + index);
      const original = loadFiles(dir);
      const files = new Map(original);
      const ws = newWorkspace(dir, files);
      const analyzer = new Analyzer({ info: () => undefined, warn: () => undefined, error: () => undefined });
      try {
        analyzeWorkspace(ws, { reportUnusedSuppressions: true });
        const log: string[] = [];
        for (let n = 0; n < EDITS; n++) {
          const step = randomStep(r, dir, files, original, n);
          log.push(step.describe);
          const keptBefore = ws.memoStats.kept;
          step.apply(ws, files);
          totalKept += ws.memoStats.kept - keptBefore;
          const fresh = newWorkspace(dir, files);
          try {
            // The language server's memoized per-file analysis of a random file (partly built memos): equal to fresh.
            const some = pick(r, ws.allFiles());
            if (some) {
              const served = JSON.stringify(analyzer.file(ws, some.path));
              assert.equal(served, JSON.stringify(analyzeFile(fresh, some.path, { reportUnusedSuppressions: true })), `${path.relative(dir, some.path)} after:\n  ${log.join('\n  ')}`);
            }
            // Now and then the next edit comes before a full analysis, so it meets only the memos built above.
            if (n < EDITS - 1 && r() < 0.35) continue;
            const expected = JSON.stringify(analyzeWorkspace(fresh, { reportUnusedSuppressions: true }));
            const actual = JSON.stringify(analyzeWorkspace(ws, { reportUnusedSuppressions: true }));
            assert.equal(actual, expected, `after edits (seed ${SEED + index}):\n  ${log.join('\n  ')}`);
          } finally {
            fresh.dispose();
          }
        }
      } finally {
        ws.dispose();
      }
    });
  });

  it('kept memos across some edits (the comparison above exercised reuse, not only recomputation)', () => {
    assert.ok(totalKept > 0, 'no memo survived any edit');
  });
});

describe('memo dependencies', () => {
  const root = path.join(REPO_ROOT, '.virtual-incremental');
  const a = path.join(root, 'a.py');
  const b = path.join(root, 'b.py');
  const c = path.join(root, 'c.py');
  const make = () => {
    const ws = new Workspace(root);
    ws.setFile(a, 'import jwt\nx = 1\n');
    ws.setFile(b, 'y = 2\n');
    ws.setFile(c, 'from a import x\n');
    return ws;
  };

  it('an edit keeps the memos that did not read the file and drops those that did', () => {
    const ws = make();
    let runs = 0;
    const readsA = () => ws.memo('t:a', () => (runs++, ws.model(a)!.functions.length));
    const outer = () => ws.memo('t:outer', () => readsA() + 1);
    const readsB = () => ws.memo('t:b', () => ws.file(b)!.text.length);
    outer();
    readsB();
    ws.setFile(b, 'y = 3\n');
    assert.deepEqual(ws.memoKeys().sort(), ['t:a', 't:outer']);
    outer();
    assert.equal(runs, 1);
    ws.setFile(a, 'import jwt\nx = 2\n');
    assert.ok(!ws.memoKeys().includes('t:outer'), 'the outer memo read t:a, which read a.py');
    outer();
    assert.equal(runs, 2);
  });

  it('a hit inside another memo makes it a dependency too', () => {
    const ws = make();
    ws.memo('t:a', () => ws.model(a)!.root.type);
    ws.memo('t:reader', () => ws.memo('t:a', () => 'unused') + '!');
    ws.setFile(a, 'x = 5\n');
    assert.deepEqual(ws.memoKeys(), []);
  });

  it('filesMentioning depends on the listed files and on verdict changes, not on other files', () => {
    const ws = make();
    ws.memo('t:jwt-files', () => ws.filesMentioning(/jwt/).map((f) => f.path));
    ws.setFile(b, 'y = 4\n');
    assert.ok(ws.memoKeys().includes('t:jwt-files'), 'b.py does not mention jwt, before or after');
    ws.setFile(b, 'import jwt\n');
    assert.ok(!ws.memoKeys().includes('t:jwt-files'), 'b.py now mentions jwt');
    assert.deepEqual(ws.memo('t:jwt-files', () => ws.filesMentioning(/jwt/).map((f) => path.basename(f.path))), ['a.py', 'b.py']);
    ws.setFile(a, 'import jwt\nx = 9\n');
    assert.ok(!ws.memoKeys().includes('t:jwt-files'), 'a listed file changed');
    ws.memo('t:jwt-files2', () => ws.filesMentioning(/jwt/).length);
    ws.removeFile(c);
    assert.ok(ws.memoKeys().includes('t:jwt-files2'), 'c.py never mentioned jwt');
    ws.setFile(path.join(root, 'd.py'), 'import jwt\n');
    assert.ok(!ws.memoKeys().includes('t:jwt-files2'), 'a new file that mentions jwt');
  });

  it('allFiles and module lookups depend on every file and on the file set', () => {
    const ws = make();
    ws.memo('t:all', () => ws.allFiles().length);
    ws.memo('t:locate', () => ws.locate('a.x')?.file.path);
    ws.setFile(b, 'y = 5\n');
    assert.deepEqual(ws.memoKeys(), ['t:locate']);
    ws.setFile(path.join(root, 'e.py'), '');
    assert.deepEqual(ws.memoKeys(), [], 'a new file can change what a module name resolves to');
    ws.memo('t:missing', () => ws.file(path.join(root, 'f.py'))?.text ?? 'absent');
    ws.setFile(path.join(root, 'f.py'), 'z = 1\n');
    assert.ok(!ws.memoKeys().includes('t:missing'), 'the absence of a file is a dependency');
  });

  it('lazily filled caches are dropped on every change, and so are the memos that read them', () => {
    const ws = make();
    const lazy = ws.memo('t:lazy', () => new Map<string, number>());
    lazy.set('a', ws.model(a)!.functions.length);
    ws.memo('t:reads-lazy', () => ws.memo('t:lazy', () => new Map<string, number>()).size);
    const weak = ws.memo('t:weak', () => new WeakMap<object, number>());
    weak.set(ws.model(a)!, 1);
    const explicit = ws.cache('t:explicit', () => ({ filled: [] as string[] }));
    explicit.filled.push('x');
    ws.setFile(b, 'y = 6\n');
    assert.deepEqual(ws.memoKeys(), []);
  });

  it('a value mutated after its compute is dropped at the next change', () => {
    const ws = make();
    const list = ws.memo('t:list', () => [ws.file(b)!.text]);
    list.push(ws.file(a)!.text); // outside the compute: a.py is not recorded as read
    ws.setFile(a, 'x = 7\n');
    assert.deepEqual(ws.memoKeys(), []);
  });

  it('a compute that throws leaves what it read to the memo around it', () => {
    const ws = make();
    ws.memo('t:outer', () => {
      try {
        ws.memo('t:throws', () => {
          ws.model(a);
          throw new Error('boom');
        });
      } catch {
        return 'caught';
      }
      return 'not reached';
    });
    ws.setFile(a, 'x = 8\n');
    assert.deepEqual(ws.memoKeys(), []);
  });

  it('a memo being computed when a file changes is not kept', () => {
    const ws = make();
    ws.memo('t:changes-midway', () => {
      const before = ws.file(b)!.text;
      ws.setFile(a, 'x = 11\n');
      return before;
    });
    ws.setFile(c, 'from a import x  # edited\n');
    assert.deepEqual(ws.memoKeys(), []);
  });

  it('settings and non-Python files drop every memo', () => {
    const ws = make();
    ws.memo('t:b', () => ws.file(b)!.text);
    ws.setFile(path.join(root, 'requirements.txt'), 'pyjwt==2.8.0\n');
    assert.deepEqual(ws.memoKeys(), []);
    ws.memo('t:b', () => ws.file(b)!.text);
    ws.settingsChanged();
    assert.deepEqual(ws.memoKeys(), []);
  });

  it('never keeps a memo holding a node of a freed tree', () => {
    const ws = make();
    const root = ws.memo('t:node', () => ws.model(a)!.root);
    assert.equal(root.type, 'module');
    ws.setFile(a, 'x = 10\n');
    assert.ok(!ws.memoKeys().includes('t:node'));
    assert.equal(ws.memo('t:node', () => ws.model(a)!.root).text, 'x = 10\n');
  });
});
