/**
 * Token issuing in one module: each JWT library `encode` call with the claims its payload receives, following the
 * payload variable through the function (`to_encode = data.copy()`, `to_encode.update({"exp": ...})`,
 * `payload["type"] = "refresh"`, `{**base, "sub": ...}`, `dict(sub=...)`), the whole objects dumped into it
 * (`user.model_dump()`), and the parameters it comes from (so callers' arguments can be followed by the workspace).
 * Pure functions of one module model; knows nothing of other files or of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from './module-model';
import { jwtCallArgsIn, type JwtCallArgs } from './jwt-decode';
import { callArguments, children, contains, descendantsInScope, dottedName, enclosingFunction, stringValue } from './syntax';

export interface PayloadEntry {
  claim: string;
  /** The key as written (a string literal, a keyword name, the subscript). */
  key: Node;
  value: Node;
  /** What to delete to drop the claim: a dict `pair`, a `keyword_argument`, or a `payload["k"] = v` statement. */
  removable?: Node;
}

export interface PayloadContents {
  entries: PayloadEntry[];
  /** Objects dumped whole into the payload: `user` of `user.model_dump()`, `vars(user)`, `user.__dict__`. */
  objects: { object: Node; expression: Node }[];
  /** Parameters of the enclosing function the payload is built from (`data` of `to_encode = data.copy()`). */
  params: string[];
  /** True when part of the payload cannot be seen (a function result, an unknown name). */
  opaque: boolean;
}

export interface TokenIssue {
  args: JwtCallArgs;
  /** The function that issues the token, when the encode is inside one. */
  fn?: FunctionInfo;
  payload: PayloadContents;
}

const DUMP_METHODS = new Set(['dict', 'model_dump', 'to_dict', 'as_dict', '_asdict', 'todict', 'serialize']);
const DUMP_FUNCTIONS = new Set(['vars', 'fastapi.encoders.jsonable_encoder', 'jsonable_encoder', 'dataclasses.asdict', 'asdict']);
const COPY_FUNCTIONS = new Set(['copy.copy', 'copy.deepcopy', 'dict']);

/** Every `encode` in the module with the claims of its payload. */
export function tokenIssues(model: ModuleModel): TokenIssue[] {
  return jwtCallArgsIn(model, model.root, ['encode']).map((args) => {
    const fnNode = enclosingFunction(args.jwt.call);
    const fn = fnNode ? model.functionAt(fnNode) : undefined;
    const payload = emptyPayload();
    if (args.payload) collectPayload(model, args.payload, args.jwt.call, fn, payload, new Set());
    else payload.opaque = true;
    return { args, fn, payload };
  });
}

export function emptyPayload(): PayloadContents {
  return { entries: [], objects: [], params: [], opaque: false };
}

/**
 * Adds what `expr` contributes to a payload, as seen at `use` (assignments and mutations after `use` do not count).
 * `fn` is the function the expression lives in, for locals and parameters.
 */
export function collectPayload(model: ModuleModel, expr: Node, use: Node, fn: FunctionInfo | undefined, out: PayloadContents, seen: Set<number>): void {
  if (seen.has(expr.id) || seen.size > 60) return;
  seen.add(expr.id);
  switch (expr.type) {
    case 'parenthesized_expression': {
      const inner = children(expr)[0];
      if (inner) collectPayload(model, inner, use, fn, out, seen);
      return;
    }
    case 'dictionary':
      for (const c of children(expr)) {
        if (c.type === 'pair') {
          const key = c.childForFieldName('key');
          const value = c.childForFieldName('value');
          const claim = stringValue(key);
          if (key && value && claim !== undefined) out.entries.push({ claim, key, value, removable: c });
          else out.opaque = true;
        } else if (c.type === 'dictionary_splat') {
          const inner = children(c)[0];
          if (inner) collectPayload(model, inner, use, fn, out, seen);
        }
      }
      return;
    case 'binary_operator': {
      // `base | {"exp": ...}` (Python 3.9 dict merge).
      const left = expr.childForFieldName('left');
      const right = expr.childForFieldName('right');
      if (expr.childForFieldName('operator')?.type === '|' && left && right) {
        collectPayload(model, left, use, fn, out, seen);
        collectPayload(model, right, use, fn, out, seen);
      } else out.opaque = true;
      return;
    }
    case 'attribute':
      if (expr.childForFieldName('attribute')?.text === '__dict__') {
        const object = expr.childForFieldName('object');
        if (object) out.objects.push({ object, expression: expr });
      } else out.opaque = true;
      return;
    case 'await': {
      const inner = children(expr)[0];
      if (inner) collectPayload(model, inner, use, fn, out, seen);
      return;
    }
    case 'call':
      collectCall(model, expr, use, fn, out, seen);
      return;
    case 'identifier':
      collectName(model, expr, use, fn, out, seen);
      return;
    default:
      out.opaque = true;
  }
}

function collectCall(model: ModuleModel, call: Node, use: Node, fn: FunctionInfo | undefined, out: PayloadContents, seen: Set<number>): void {
  const callee = call.childForFieldName('function');
  const args = callArguments(call);
  if (callee?.type === 'attribute') {
    const method = callee.childForFieldName('attribute')?.text ?? '';
    const object = callee.childForFieldName('object');
    if (object && (method === 'copy' || method === 'deepcopy')) {
      collectPayload(model, object, use, fn, out, seen);
      return;
    }
    if (object && DUMP_METHODS.has(method)) {
      out.objects.push({ object, expression: call });
      return;
    }
  }
  const name = dottedName(callee);
  const resolved = name ? model.resolveDotted(name) : undefined;
  if (name === 'dict') {
    for (const [claim, value] of args.keywords) {
      const kw = args.keywordNodes.get(claim)!;
      out.entries.push({ claim, key: kw.childForFieldName('name') ?? kw, value, removable: kw });
    }
    for (const p of args.positional) collectPayload(model, p, use, fn, out, seen);
    for (const s of args.splats) {
      const inner = children(s)[0];
      if (inner && s.type === 'dictionary_splat') collectPayload(model, inner, use, fn, out, seen);
    }
    return;
  }
  if (resolved && COPY_FUNCTIONS.has(resolved) && args.positional[0]) {
    collectPayload(model, args.positional[0], use, fn, out, seen);
    return;
  }
  if (resolved && (DUMP_FUNCTIONS.has(resolved) || /\.jsonable_encoder$/.test(resolved)) && args.positional[0]) {
    out.objects.push({ object: args.positional[0], expression: call });
    return;
  }
  out.opaque = true;
}

function collectName(model: ModuleModel, name: Node, use: Node, fn: FunctionInfo | undefined, out: PayloadContents, seen: Set<number>): void {
  const scope = fn?.body;
  if (scope) {
    const values = (model.localAssignments(scope).get(name.text) ?? []).filter((v) => v.startIndex < use.startIndex && !contains(v, use));
    if (values.length) {
      // The last plain assignment before the use is the dict; branches may assign different dicts, so take all
      // assignments after the last unconditional one.
      for (const v of values) collectPayload(model, v, v, fn, out, seen);
      collectMutations(model, scope, name.text, use, fn, out, seen);
      return;
    }
    if (fn.params.some((p) => p.name === name.text)) {
      out.params.push(name.text);
      collectMutations(model, scope, name.text, use, fn, out, seen);
      return;
    }
  }
  const moduleValue = model.lastAssignment(name.text)?.value;
  if (moduleValue) {
    collectPayload(model, moduleValue, moduleValue, undefined, out, seen);
    return;
  }
  out.opaque = true;
}

/** `name["k"] = v`, `name.update({...})` / `name.update(k=v)`, `name.setdefault("k", v)` before `use`. */
function collectMutations(model: ModuleModel, scope: Node, name: string, use: Node, fn: FunctionInfo | undefined, out: PayloadContents, seen: Set<number>): void {
  for (const node of descendantsInScope(scope, ['assignment', 'call'])) {
    if (node.startIndex >= use.startIndex) continue;
    if (node.type === 'assignment') {
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left?.type !== 'subscript' || left.childForFieldName('value')?.text !== name || !right) continue;
      const key = left.childForFieldName('subscript');
      const claim = stringValue(key);
      if (key && claim !== undefined) {
        const stmt = node.parent?.type === 'expression_statement' ? node.parent : undefined;
        out.entries.push({ claim, key, value: right, removable: stmt });
      }
      continue;
    }
    const callee = node.childForFieldName('function');
    if (callee?.type !== 'attribute' || callee.childForFieldName('object')?.text !== name) continue;
    const method = callee.childForFieldName('attribute')?.text;
    const args = callArguments(node);
    if (method === 'update') {
      for (const [claim, value] of args.keywords) {
        const kw = args.keywordNodes.get(claim)!;
        out.entries.push({ claim, key: kw.childForFieldName('name') ?? kw, value, removable: kw });
      }
      for (const p of args.positional) collectPayload(model, p, node, fn, out, seen);
    } else if (method === 'setdefault') {
      const claim = stringValue(args.positional[0]);
      if (claim !== undefined && args.positional[0] && args.positional[1]) out.entries.push({ claim, key: args.positional[0], value: args.positional[1] });
    }
  }
}
