/**
 * Reads what a JWT library call says: its token, payload, key, algorithms and options (PyJWT, python-jose,
 * authlib), following simple local data flow (`opts = {...}; jwt.decode(t, k, options=opts)`, `dict(...)`,
 * `opts["verify_exp"] = False`). Also the list-element removal edit that fixes use to drop an option.
 * Pure functions of one module model; knows nothing of other files (see workspace/jwt-values.ts) or of rules.
 * Invariant: the exported API only grows (other rules depend on it).
 */
import type { Node } from 'web-tree-sitter';
import type { ModuleModel } from './module-model';
import type { TextEdit } from '../core/types';
import { allJwtCalls, classifyJwtCall, mayCallJwtLibrary, mayUseJwtLibrary, type JwtCall } from './jwt-libs';
import { callArguments, children, contains, descendantsInScope, dottedName, enclosingFunction, literalValue, rangeOf, stringValue, type CallArguments } from './syntax';

/** The arguments of a JWT call, by meaning rather than position (positions differ between libraries). */
export interface JwtCallArgs {
  jwt: JwtCall;
  args: CallArguments;
  /** decode/unverified reads: the token expression. */
  token?: Node;
  /** encode: the claims expression. */
  payload?: Node;
  /** authlib encode: the header expression. */
  header?: Node;
  key?: Node;
  /** decode: `algorithms=`; encode: `algorithm=`. */
  algorithms?: Node;
  /** decode: `options=` (PyJWT, jose); authlib: `claims_options=`. */
  options?: Node;
  /** `**kwargs` / `*args` in the call: any argument may be hidden there. */
  hasSplat: boolean;
}

/** Reads a classified JWT call's arguments according to its library's signature. */
export function jwtArguments(jwt: JwtCall): JwtCallArgs {
  const args = callArguments(jwt.call);
  const kw = (name: string) => args.keywords.get(name);
  const pos = (i: number) => args.positional[i];
  const out: JwtCallArgs = { jwt, args, hasSplat: args.splats.length > 0 };
  if (jwt.kind === 'decode') {
    if (jwt.library === 'pyjwt') {
      out.token = kw('jwt') ?? kw('token') ?? pos(0);
      out.key = kw('key') ?? pos(1);
      out.algorithms = kw('algorithms');
      out.options = kw('options');
    } else if (jwt.library === 'jose') {
      out.token = kw('token') ?? pos(0);
      out.key = kw('key') ?? pos(1);
      out.algorithms = kw('algorithms') ?? pos(2);
      out.options = kw('options') ?? pos(3);
    } else {
      out.token = kw('s') ?? kw('value') ?? pos(0);
      out.key = kw('key') ?? pos(1);
      out.options = kw('claims_options') ?? pos(3);
      out.algorithms = kw('algorithms');
    }
  } else if (jwt.kind === 'encode') {
    if (jwt.library === 'authlib') {
      out.header = kw('header') ?? pos(0);
      out.payload = kw('payload') ?? kw('claims') ?? pos(1);
      out.key = kw('key') ?? pos(2);
    } else {
      out.payload = kw('payload') ?? kw('claims') ?? pos(0);
      out.key = kw('key') ?? pos(1);
      out.algorithms = kw('algorithm') ?? pos(2);
    }
  } else if (jwt.kind === 'unverified-claims' || jwt.kind === 'unverified-header' || jwt.kind === 'signing-key') {
    out.token = kw('token') ?? kw('jwt') ?? pos(0);
  }
  return out;
}

/** Every JWT call of `kinds` in the module (all scopes), with arguments read. */
export function jwtCallArgsIn(model: ModuleModel, scope: Node = model.root, kinds?: readonly JwtCall['kind'][]): JwtCallArgs[] {
  const out: JwtCallArgs[] = [];
  if (!mayCallJwtLibrary(model)) return out;
  if (scope.id === model.root.id) {
    return allJwtCalls(model).filter((jwt) => !kinds || kinds.includes(jwt.kind)).map((jwt) => jwtArguments(jwt));
  }
  for (const call of scope.descendantsOfType('call')) {
    if (!call) continue;
    const jwt = classifyJwtCall(model, call);
    if (jwt && (!kinds || kinds.includes(jwt.kind))) out.push(jwtArguments(jwt));
  }
  return out;
}

/** Re-exported for the rules that import it from here; the test itself lives beside the classifier in jwt-libs.ts. */
export { mayUseJwtLibrary };

// ---- local data flow --------------------------------------------------------------------------

/** The function body that holds `node`, else the module root. */
export function scopeOf(model: ModuleModel, node: Node): Node {
  const fn = enclosingFunction(node);
  return fn?.childForFieldName('body') ?? model.root;
}

/**
 * The expression a name stands for at `node`: the last assignment to it before `node` in the enclosing function,
 * else the module-level assignment. Follows name-to-name aliases; returns the node itself when it is not a
 * plain name or has no visible assignment (parameters, imports, attributes).
 */
export function valueOf(model: ModuleModel, node: Node | undefined, depth = 0): Node | undefined {
  if (!node || depth > 6) return node;
  if (node.type === 'parenthesized_expression') return valueOf(model, children(node)[0], depth + 1);
  if (node.type !== 'identifier') return node;
  const assigned = assignedValue(model, node);
  if (!assigned || assigned.id === node.id) return node;
  return valueOf(model, assigned, depth + 1);
}

/** The value last assigned to identifier `name` before it is used at `node`, within its function or module. */
function assignedValue(model: ModuleModel, name: Node): Node | undefined {
  const fn = enclosingFunction(name);
  if (fn) {
    const body = fn.childForFieldName('body');
    const values = body ? model.localAssignments(body).get(name.text) : undefined;
    const before = values?.filter((v) => v.startIndex < name.startIndex && !contains(v, name));
    if (before?.length) return before[before.length - 1];
    // A parameter shadows the module name.
    if (model.functionAt(fn)?.params.some((p) => p.name === name.text)) return undefined;
    if (values?.length) return undefined;
  }
  return model.lastAssignment(name.text)?.value;
}

/** True when `node` is the literal `False` (or `0`), possibly through a name. */
export function isFalseLiteral(model: ModuleModel, node: Node | undefined): boolean {
  const v = literalValue(valueOf(model, node));
  return v === false || v === 0;
}

// ---- options ----------------------------------------------------------------------------------

export interface OptionEntry {
  name: string;
  /** The value expression. */
  value: Node;
  /** The literal value where it is one (through names): `False`, `86400`. */
  literal: unknown;
  /**
   * What to delete to drop the option: a `pair` of a dict literal, a `keyword_argument` of `dict(...)`, or the
   * statement `opts["k"] = v`. Undefined when the option cannot be removed mechanically.
   */
  removable?: Node;
  /** True when the entry is written inside the call's own argument list. */
  inline: boolean;
}

export interface DecodeOptions {
  /** The options expression after following names (a dict literal or `dict(...)` call), if any. */
  source?: Node;
  entries: Map<string, OptionEntry>;
  /** True when some entries cannot be seen (`{**base}`, a function result, a parameter). */
  opaque: boolean;
}

/** The options of a decode (`options=` / jose's 4th positional / authlib's `claims_options=`). */
export function decodeOptions(model: ModuleModel, a: JwtCallArgs): DecodeOptions {
  return dictOptions(model, a.options, a.jwt.call);
}

/** Reads a dict-valued argument into entries, following a name to its dict and its later `d[k] = v` mutations. */
export function dictOptions(model: ModuleModel, expr: Node | undefined, call: Node): DecodeOptions {
  const out: DecodeOptions = { entries: new Map(), opaque: false };
  if (!expr) return out;
  const source = valueOf(model, expr);
  if (!source) return out;
  out.source = source;
  const inline = contains(call, source);
  if (source.type === 'dictionary') {
    for (const c of children(source)) {
      if (c.type === 'dictionary_splat') {
        out.opaque = true;
        continue;
      }
      if (c.type !== 'pair') continue;
      const name = stringValue(c.childForFieldName('key'));
      const value = c.childForFieldName('value');
      if (name !== undefined && value) out.entries.set(name, entry(model, name, value, c, inline));
    }
  } else if (source.type === 'call' && dottedName(source.childForFieldName('function')) === 'dict') {
    const args = callArguments(source);
    if (args.splats.length || args.positional.length) out.opaque = true;
    for (const [name, value] of args.keywords) out.entries.set(name, entry(model, name, value, args.keywordNodes.get(name), inline));
  } else if (source.type !== 'none') {
    out.opaque = true;
  }
  // `opts["verify_exp"] = False` / `opts.update(verify_exp=False)` after a named dict.
  if (expr.type === 'identifier' && source.id !== expr.id) {
    const scope = scopeOf(model, call);
    for (const node of descendantsInScope(scope, ['assignment', 'call'])) {
      if (node.startIndex > call.startIndex) continue;
      if (node.type === 'assignment') {
        const left = node.childForFieldName('left');
        const right = node.childForFieldName('right');
        if (left?.type === 'subscript' && left.childForFieldName('value')?.text === expr.text && right) {
          const name = stringValue(left.childForFieldName('subscript'));
          const stmt = node.parent?.type === 'expression_statement' ? node.parent : undefined;
          if (name !== undefined) out.entries.set(name, entry(model, name, right, stmt, false));
          else out.opaque = true;
        }
        continue;
      }
      const fn = node.childForFieldName('function');
      if (fn?.type !== 'attribute' || fn.childForFieldName('object')?.text !== expr.text || fn.childForFieldName('attribute')?.text !== 'update') continue;
      const args = callArguments(node);
      if (args.splats.length) out.opaque = true;
      for (const [name, value] of args.keywords) out.entries.set(name, entry(model, name, value, undefined, false));
      for (const p of args.positional) {
        if (p.type !== 'dictionary') {
          out.opaque = true;
          continue;
        }
        for (const pair of children(p)) {
          const name = stringValue(pair.childForFieldName('key'));
          const value = pair.childForFieldName('value');
          if (name !== undefined && value) out.entries.set(name, entry(model, name, value, undefined, false));
        }
      }
    }
  }
  return out;
}

function entry(model: ModuleModel, name: string, value: Node, removable: Node | undefined, inline: boolean): OptionEntry {
  return { name, value, literal: literalValue(valueOf(model, value)), removable, inline };
}

/** The literal value of option `name` (`False`, `True`, a number), if set to a literal. */
export function optionLiteral(options: DecodeOptions, name: string): unknown {
  return options.entries.get(name)?.literal;
}

// ---- algorithms -------------------------------------------------------------------------------

export interface AlgorithmsInfo {
  /** The `algorithms=` expression as written. */
  node?: Node;
  /** The list after following names. */
  source?: Node;
  /** The algorithm names where every element is a literal (or a name bound to one). */
  values?: string[];
  /** Elements whose value could not be read statically (`settings.JWT_ALGORITHM`). */
  unknown: Node[];
}

/** Reads `algorithms=[...]`, following names to module constants; a bare string counts as a one-element list. */
export function decodeAlgorithms(model: ModuleModel, a: JwtCallArgs): AlgorithmsInfo {
  const info: AlgorithmsInfo = { node: a.algorithms, unknown: [] };
  if (!a.algorithms) return info;
  const source = valueOf(model, a.algorithms);
  info.source = source;
  if (!source) return info;
  const elements = source.type === 'list' || source.type === 'tuple' || source.type === 'set' ? children(source) : [source];
  const values: string[] = [];
  for (const el of elements) {
    const v = literalValue(valueOf(model, el));
    if (typeof v === 'string') values.push(v);
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) values.push(...(v as string[]));
    else info.unknown.push(el);
  }
  info.values = values;
  return info;
}

// ---- same token -------------------------------------------------------------------------------

/** A stable textual identity for a token expression (`token`, `credentials.credentials`), ignoring whitespace. */
export function expressionKey(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  return node.text.replace(/\s+/g, '');
}

// ---- edits ------------------------------------------------------------------------------------

/**
 * Deletes one element of a comma-separated list (a dict `pair`, a `keyword_argument`, a list element) together
 * with the comma that separates it from its neighbour, or a whole statement line. Leaves valid Python.
 */
export function removeElementEdit(text: string, element: Node): TextEdit {
  if (element.type === 'expression_statement') {
    const lineStart = text.lastIndexOf('\n', element.startIndex - 1) + 1;
    const lineEndIdx = text.indexOf('\n', element.endIndex);
    const before = text.slice(lineStart, element.startIndex);
    const after = text.slice(element.endIndex, lineEndIdx === -1 ? text.length : lineEndIdx);
    if (/^\s*$/.test(before) && /^\s*(#.*)?$/.test(after)) {
      // Keep the block non-empty: a lone statement becomes `pass`.
      const siblings = element.parent ? children(element.parent) : [];
      if (siblings.length === 1 && element.parent?.type === 'block') return { range: rangeOf(element), newText: 'pass' };
      return { range: offsetRange(text, lineStart, lineEndIdx === -1 ? text.length : lineEndIdx + 1), newText: '' };
    }
    return { range: rangeOf(element), newText: 'pass' };
  }
  let prev = element.previousSibling;
  while (prev && prev.type === 'comment') prev = prev.previousSibling;
  let next = element.nextSibling;
  while (next && next.type === 'comment') next = next.nextSibling;
  if (next?.type === ',') {
    // Remove the element, its comma and the whitespace up to the next element.
    let after = next.nextSibling;
    while (after && after.type === 'comment') after = after.nextSibling;
    const end = after && after.type !== ')' && after.type !== '}' && after.type !== ']' ? after.startIndex : next.endIndex;
    return { range: offsetRange(text, element.startIndex, end), newText: '' };
  }
  if (prev?.type === ',') return { range: offsetRange(text, prev.startIndex, element.endIndex), newText: '' };
  return { range: rangeOf(element), newText: '' };
}

/** A range from UTF-16 offsets into `text`. */
export function offsetRange(text: string, start: number, end: number): TextEdit['range'] {
  return { start: positionAt(text, start), end: positionAt(text, end) };
}

function positionAt(text: string, offset: number): { line: number; character: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, character: offset - lineStart };
}
