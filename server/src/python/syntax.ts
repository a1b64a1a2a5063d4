/**
 * Small, pure helpers over tree-sitter Python nodes: ranges, literals, call arguments, traversal.
 * Knows nothing of imports or rules (see module-model.ts for name resolution).
 */
import type { Node } from 'web-tree-sitter';
import type { Range } from '../core/types';

export function rangeOf(node: Node): Range {
  return {
    start: { line: node.startPosition.row, character: node.startPosition.column },
    end: { line: node.endPosition.row, character: node.endPosition.column },
  };
}

export function children(node: Node): Node[] {
  return node.namedChildren.filter((c): c is Node => c !== null && c.type !== 'comment');
}

/** Visits `node` and its descendants depth-first; return false from `visit` to skip a subtree. */
export function walk(node: Node, visit: (n: Node) => boolean | void): void {
  const cursor = node.walk();
  try {
    let descend = true;
    for (;;) {
      if (descend) {
        const keep = visit(cursor.currentNode);
        if (keep !== false && cursor.gotoFirstChild()) continue;
      }
      if (cursor.gotoNextSibling()) {
        descend = true;
        continue;
      }
      if (!cursor.gotoParent()) return;
      if (cursor.currentNode.id === node.id) return;
      descend = false;
    }
  } finally {
    cursor.delete();
  }
}

const NESTED_SCOPES: readonly string[] = ['function_definition', 'class_definition', 'lambda'];

/**
 * Node lists already computed, per tree and node. The workspace analyses ask the same questions of the same function
 * many times (every route reaching a helper walks it again); a tree never changes, so an answer stays true while the
 * tree lives, and the tree's entry goes with it (a WeakMap keyed by the tree object; node ids are unique within one
 * tree, and an incremental re-parse makes a new tree).
 */
const nodeLists = new WeakMap<object, Map<string, readonly Node[]>>();

function cachedList(node: Node, key: string, compute: () => Node[]): readonly Node[] {
  let byNode = nodeLists.get(node.tree);
  if (!byNode) nodeLists.set(node.tree, (byNode = new Map()));
  const k = `${node.id}|${key}`;
  let list = byNode.get(k);
  if (!list) byNode.set(k, (list = compute()));
  return list;
}

/**
 * The descendants of the given types (and `scope` itself when it is one), not looking inside nested functions,
 * lambdas or classes, in document order. One `descendantsOfType` call does the walk inside WASM, which is an order
 * of magnitude cheaper than visiting every node from JS; nested scopes are then skipped by their extent. Answers
 * are cached per tree: the returned array is shared, callers must not change it.
 */
export function descendantsInScope(scope: Node, types: string | readonly string[]): readonly Node[] {
  return descendantsOutside(scope, types, NESTED_SCOPES, 'scope');
}

const DEFINITIONS: readonly string[] = ['function_definition', 'class_definition'];

/** Like descendantsInScope, but looking inside lambdas (they are expressions of this scope); cached the same way. */
export function descendantsInBody(scope: Node, types: string | readonly string[]): readonly Node[] {
  return descendantsOutside(scope, types, DEFINITIONS, 'body');
}

function descendantsOutside(scope: Node, types: string | readonly string[], nested: readonly string[], kind: string): readonly Node[] {
  const wanted = typeof types === 'string' ? [types] : types;
  return cachedList(scope, `${kind}:${wanted.join(',')}`, () => {
    const query = [...new Set([...wanted, ...nested])];
    const found: Node[] = [];
    let skipUntil = -1;
    for (const n of scope.descendantsOfType(query)) {
      if (!n || n.startIndex < skipUntil) continue;
      if (n.id !== scope.id && nested.includes(n.type)) {
        skipUntil = n.endIndex;
        continue;
      }
      if (wanted.includes(n.type)) found.push(n);
    }
    return found;
  });
}

/**
 * The function and class definitions directly inside `body`: not those nested in them, nor any inside a lambda, in
 * document order. One `descendantsOfType` call; nested extents are skipped.
 */
export function firstNestedDefinitions(body: Node): Node[] {
  const out: Node[] = [];
  let skipUntil = -1;
  for (const n of body.descendantsOfType(['function_definition', 'class_definition', 'lambda'])) {
    if (!n || n.startIndex < skipUntil || n.id === body.id) continue;
    skipUntil = n.endIndex;
    if (n.type !== 'lambda') out.push(n);
  }
  return out;
}

/** All descendants of the given types, nested scopes included, in document order; cached like descendantsInScope. */
export function descendantsOf(node: Node, types: string | readonly string[]): readonly Node[] {
  const wanted = typeof types === 'string' ? [types] : types;
  return cachedList(node, `all:${wanted.join(',')}`, () => node.descendantsOfType(wanted as string[]).filter((n): n is Node => n !== null));
}

/** The function or class that directly encloses `node`, if any. */
export function enclosingFunction(node: Node): Node | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'function_definition') return p;
  return null;
}

/** `a.b.c` for an identifier/attribute chain, else undefined. */
export function dottedName(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'identifier') return node.text;
  if (node.type === 'attribute') {
    const object = dottedName(node.childForFieldName('object'));
    const attr = node.childForFieldName('attribute');
    return object && attr ? `${object}.${attr.text}` : undefined;
  }
  return undefined;
}

/** The content of a plain string literal (no f-string interpolation, implicit concatenation joined). */
export function stringValue(node: Node | null | undefined): string | undefined {
  if (!node) return undefined;
  if (node.type === 'concatenated_string') {
    let out = '';
    for (const part of children(node)) {
      const v = stringValue(part);
      if (v === undefined) return undefined;
      out += v;
    }
    return out;
  }
  if (node.type !== 'string') return undefined;
  let out = '';
  for (const part of children(node)) {
    if (part.type === 'interpolation') return undefined;
    if (part.type === 'string_content' || part.type === 'escape_sequence') out += part.text;
  }
  return out;
}

export function isStringLike(node: Node | null | undefined): boolean {
  return !!node && (node.type === 'string' || node.type === 'concatenated_string');
}

/** An f-string (a string with at least one interpolation). */
export function isFString(node: Node | null | undefined): boolean {
  if (!node || node.type !== 'string') return false;
  return children(node).some((c) => c.type === 'interpolation');
}

/** True for `b"..."` byte literals as well as plain strings. */
export function isBytesLiteral(node: Node | null | undefined): boolean {
  return !!node && node.type === 'string' && /^[rR]?[bB]/.test(node.text);
}

export type Literal = string | number | boolean | null | Literal[] | { [key: string]: Literal };

/** Evaluates a literal expression (strings, numbers, True/False/None, lists, tuples, dicts, sets); undefined otherwise. */
export function literalValue(node: Node | null | undefined): Literal | undefined {
  if (!node) return undefined;
  switch (node.type) {
    case 'string':
    case 'concatenated_string':
      return stringValue(node);
    case 'integer':
    case 'float': {
      const n = Number(node.text.replace(/_/g, ''));
      return Number.isNaN(n) ? undefined : n;
    }
    case 'true':
      return true;
    case 'false':
      return false;
    case 'none':
      return null;
    case 'unary_operator': {
      const v = literalValue(node.childForFieldName('argument'));
      return typeof v === 'number' && node.text.trim().startsWith('-') ? -v : undefined;
    }
    case 'parenthesized_expression':
      return literalValue(children(node)[0]);
    case 'list':
    case 'tuple':
    case 'set': {
      const out: Literal[] = [];
      for (const c of children(node)) {
        const v = literalValue(c);
        if (v === undefined) return undefined;
        out.push(v);
      }
      return out;
    }
    case 'dictionary': {
      const out: { [key: string]: Literal } = {};
      for (const pair of children(node)) {
        if (pair.type !== 'pair') return undefined;
        const k = literalValue(pair.childForFieldName('key'));
        const v = literalValue(pair.childForFieldName('value'));
        if (typeof k !== 'string' || v === undefined) return undefined;
        out[k] = v;
      }
      return out;
    }
    default:
      return undefined;
  }
}

/** The arguments of a call: positional values in order and keyword values by name. */
export interface CallArguments {
  positional: Node[];
  keywords: Map<string, Node>;
  /** `**kwargs` / `*args` expressions, which may hide any argument. */
  splats: Node[];
  keywordNodes: Map<string, Node>;
}

export function callArguments(call: Node): CallArguments {
  const args: CallArguments = { positional: [], keywords: new Map(), splats: [], keywordNodes: new Map() };
  const list = call.childForFieldName('arguments');
  if (!list || list.type !== 'argument_list') return args;
  for (const a of children(list)) {
    if (a.type === 'keyword_argument') {
      const name = a.childForFieldName('name')?.text;
      const value = a.childForFieldName('value');
      if (name && value) {
        args.keywords.set(name, value);
        args.keywordNodes.set(name, a);
      }
    } else if (a.type === 'list_splat' || a.type === 'dictionary_splat') {
      args.splats.push(a);
    } else {
      args.positional.push(a);
    }
  }
  return args;
}

/** The value of keyword `name`, else the positional argument at `position`. */
export function argument(call: Node, name: string, position?: number): Node | undefined {
  const args = callArguments(call);
  return args.keywords.get(name) ?? (position !== undefined ? args.positional[position] : undefined);
}

/** Pairs of a dict literal or `dict(k=v)` call as key text -> value node. */
export function dictEntries(node: Node | null | undefined): Map<string, { key: Node; value: Node; pair: Node }> | undefined {
  if (!node) return undefined;
  const out = new Map<string, { key: Node; value: Node; pair: Node }>();
  if (node.type === 'dictionary') {
    for (const pair of children(node)) {
      if (pair.type !== 'pair') continue;
      const key = pair.childForFieldName('key');
      const value = pair.childForFieldName('value');
      const k = stringValue(key);
      if (key && value && k !== undefined) out.set(k, { key, value, pair });
    }
    return out;
  }
  if (node.type === 'call' && dottedName(node.childForFieldName('function')) === 'dict') {
    for (const [name, value] of callArguments(node).keywords) {
      const pair = value.parent!;
      out.set(name, { key: pair.childForFieldName('name')!, value, pair });
    }
    return out;
  }
  return undefined;
}

/** The statement that contains `node` (the child of a block or module). */
export function enclosingStatement(node: Node): Node {
  let n = node;
  while (n.parent && n.parent.type !== 'block' && n.parent.type !== 'module') n = n.parent;
  return n;
}

/** Leading whitespace of the line `node` starts on. */
export function indentOf(text: string, node: Node): string {
  const lineStart = text.lastIndexOf('\n', node.startIndex - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart))![0];
}

/** True when `inner` lies within `outer` (inclusive). */
export function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}
