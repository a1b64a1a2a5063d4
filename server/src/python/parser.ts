/**
 * Owns web-tree-sitter: loading the runtime and the Python grammar once, parsing, and incremental re-parse.
 * Knows nothing of rules or files on disk beyond locating the two WASM files.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Language, Parser, Tree, type Edit } from 'web-tree-sitter';

export type { Tree, Node, Edit } from 'web-tree-sitter';

let ready: Promise<void> | undefined;
let language: Language | undefined;
let sharedParser: Parser | undefined;

/** Finds a WASM file: first in a `grammars/` folder above this module (the shipped layout), then in node_modules. */
function locateWasm(file: string, fallbackModule: string): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, 'grammars', file);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return require.resolve(fallbackModule, { paths: [__dirname, process.cwd()] });
}

/** Loads the runtime and grammar; safe to call many times. */
export function initParser(): Promise<void> {
  ready ??= (async () => {
    const runtimeWasm = locateWasm('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
    await Parser.init({ locateFile: () => runtimeWasm });
    language = await Language.load(locateWasm('tree-sitter-python.wasm', 'tree-sitter-python/tree-sitter-python.wasm'));
    sharedParser = new Parser();
    sharedParser.setLanguage(language);
  })();
  return ready;
}

function parser(): Parser {
  if (!sharedParser) throw new Error('initParser() must complete before parsing');
  return sharedParser;
}

/**
 * Parses Python source. Pass the previous tree, already edited with `tree.edit`, to re-parse incrementally.
 * The caller owns the returned tree and must `delete()` it.
 */
export function parsePython(text: string, previous?: Tree): Tree {
  const tree = parser().parse(text, previous ?? null);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree;
}

/** Describes a text replacement for `tree.edit`, in UTF-16 offsets (what web-tree-sitter uses for JS strings). */
export function editFor(oldText: string, startIndex: number, oldEndIndex: number, newText: string): Edit {
  const newEndIndex = startIndex + newText.length;
  const updated = oldText.slice(0, startIndex) + newText + oldText.slice(oldEndIndex);
  return {
    startIndex,
    oldEndIndex,
    newEndIndex,
    startPosition: pointAt(oldText, startIndex),
    oldEndPosition: pointAt(oldText, oldEndIndex),
    newEndPosition: pointAt(updated, newEndIndex),
  };
}

function pointAt(text: string, index: number): { row: number; column: number } {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: index - lineStart };
}
