/**
 * Where a handler writes client data as a whole into a model: constructors (`Task(**body.dict())`), validation
 * (`Task.model_validate(body)`, `parse_obj`, `from_orm`), field-by-field copies (`for k, v in data.items():
 * setattr(task, k, v)`), `obj.sqlmodel_update(data)`, and bulk updates (`query.update(data)`, `update(M).values(**d)`),
 * in the handler and in workspace helpers it passes the data to (two calls deep, across files). Also the class of
 * the object a copy lands on, when the code says it. Knows nothing of ownership, privileges or rules: callers decide
 * which fields matter.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace } from './workspace';
import type { TextEdit } from '../core/types';
import { clientDataOf, type Container } from './client-input';
import { lookup, resolveCallTarget } from './symbols';
import { callArguments, children, descendantsInScope, dottedName, stringValue } from '../python/syntax';

export type ClientWriteKind = 'construct' | 'validate' | 'setattr-loop' | 'model-update' | 'query-update';

export interface ClientWrite {
  kind: ClientWriteKind;
  file: string;
  /** The function the write is in (the handler or a helper). */
  fn: FunctionInfo;
  /** The node to report: the call, or the `for` statement of a setattr loop. */
  node: Node;
  /** The call that writes (the constructor, `model_validate`, `sqlmodel_update`, `update`/`values`, `setattr`). */
  call: Node;
  /** The class constructed, validated or updated (qualified, canonical), when known. */
  modelClass?: string;
  /** The object updated (`task` in `task.sqlmodel_update(...)` / `setattr(task, k, v)`). */
  target?: Node;
  data: Container;
  /** The expression holding the client data at the write (`body.dict()`, `data`, `body`, `**payload`'s `payload`). */
  dataNode: Node;
  /** Keys set explicitly next to the data: constructor keywords, `update={...}` keys. */
  explicit: Map<string, Node>;
  /** The `update=` argument, when present (`model_validate(..., update=...)`, `sqlmodel_update(..., update=...)`). */
  update?: Node;
  /** For setattr loops: the loop skips or allow-lists keys (`if key == "user_id": continue`, `if k in ALLOWED`). */
  filteredKeys?: Set<string> | 'unknown';
}

const VALIDATORS = /^(model_validate|parse_obj|from_orm|validate|model_construct|construct)$/;
const MAX_DEPTH = 2;

/**
 * The writes of client data in `fn` (a route handler when `routePath` is given) and in the helpers it passes
 * client data to. Memoized per function.
 */
export function clientWritesIn(ws: Workspace, file: string, fn: FunctionInfo, routePath: string | undefined): ClientWrite[] {
  const cache = ws.memo('isob:client-writes', () => new Map<string, ClientWrite[]>());
  const key = `${file}\0${fn.node.startIndex}\0${routePath ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  cache.set(key, []);
  const out = collect(ws, file, fn, routePath, 0);
  cache.set(key, out);
  return out;
}

function collect(ws: Workspace, file: string, fn: FunctionInfo, routePath: string | undefined, depth: number): ClientWrite[] {
  const model = ws.model(file);
  if (!model) return [];
  const out: ClientWrite[] = [];
  const data = (node: Node | undefined) => (node ? clientDataOf(ws, file, fn, routePath, node) : undefined);
  for (const call of descendantsInScope(fn.body, 'call')) {
    const callee = call.childForFieldName('function');
    const args = callArguments(call);
    const method = callee?.type === 'attribute' ? (callee.childForFieldName('attribute')?.text ?? '') : '';
    const object = callee?.type === 'attribute' ? callee.childForFieldName('object') : undefined;

    // `Model(**data, owner_id=...)`
    const cls = classOf(ws, model, callee);
    if (cls) {
      for (const splat of args.splats) {
        if (splat.type !== 'dictionary_splat') continue;
        const inner = children(splat)[0];
        const d = data(inner);
        if (d && inner) out.push({ kind: 'construct', file, fn, node: call, call, modelClass: cls, data: d, dataNode: inner, explicit: new Map(args.keywords) });
      }
      continue;
    }
    // `Model.model_validate(body, update={...})`
    if (object && VALIDATORS.test(method)) {
      const target = classOf(ws, model, object);
      const d = data(args.positional[0]);
      if (target && d) {
        const update = args.keywords.get('update');
        out.push({ kind: 'validate', file, fn, node: call, call, modelClass: target, data: d, dataNode: args.positional[0], explicit: dictKeys(update), update });
      }
      continue;
    }
    // `obj.sqlmodel_update(data, update={...})`
    if (object && method === 'sqlmodel_update') {
      const d = data(args.positional[0] ?? args.keywords.get('obj'));
      if (d) {
        const update = args.keywords.get('update');
        out.push({
          kind: 'model-update', file, fn, node: call, call, target: object, modelClass: objectClass(ws, model, file, fn, object),
          data: d, dataNode: (args.positional[0] ?? args.keywords.get('obj'))!, explicit: dictKeys(update), update,
        });
      }
      continue;
    }
    // `query.update(data)`, `query.update(**data)`, `update(M).values(**data)`, `stmt.values(data)`
    if (object && (method === 'update' || method === 'values') && isQueryChain(model, object)) {
      const splat = args.splats.find((s) => s.type === 'dictionary_splat');
      const node = args.positional[0] ?? (splat ? children(splat)[0] : undefined);
      const d = data(node);
      if (d && node) out.push({ kind: 'query-update', file, fn, node: call, call, modelClass: queryModel(ws, model, object), data: d, dataNode: node, explicit: new Map(args.keywords) });
      continue;
    }
    // Client data handed to a workspace helper: follow it there.
    if (depth < MAX_DEPTH && [...args.positional, ...args.keywords.values()].some((a) => data(a))) {
      const target = resolveCallTarget(ws, file, model, call);
      if (target && target.fn.node.id !== fn.node.id) {
        // Only the helper parameters that received client data count as client data there.
        const params = target.fn.params.filter((p) => p.name !== 'self' && p.name !== 'cls');
        const receiving = new Set<string>();
        args.positional.forEach((a, i) => {
          if (data(a) && params[i]) receiving.add(params[i].name);
        });
        for (const [k, v] of args.keywords) if (data(v)) receiving.add(k);
        const inner = collect(ws, target.file, target.fn, undefined, depth + 1);
        out.push(...inner.filter((w) => w.fn.node.id !== target.fn.node.id || (w.data.param && receiving.has(w.data.param.name))));
      }
    }
  }
  for (const loop of descendantsInScope(fn.body, 'for_statement')) {
    const write = setattrLoop(ws, model, file, fn, routePath, loop);
    if (write) out.push(write);
  }
  return out;
}

/** `for k, v in data.items(): setattr(obj, k, v)`. */
function setattrLoop(ws: Workspace, model: ModuleModel, file: string, fn: FunctionInfo, routePath: string | undefined, loop: Node): ClientWrite | undefined {
  const left = loop.childForFieldName('left');
  const right = loop.childForFieldName('right');
  const body = loop.childForFieldName('body');
  if (!left || !right || !body) return undefined;
  const vars = left.type === 'pattern_list' || left.type === 'tuple_pattern' ? children(left).map((c) => c.text) : [];
  if (vars.length !== 2 || right.type !== 'call') return undefined;
  const fnNode = right.childForFieldName('function');
  if (fnNode?.type !== 'attribute' || fnNode.childForFieldName('attribute')?.text !== 'items') return undefined;
  const source = fnNode.childForFieldName('object');
  const d = source ? clientDataOf(ws, file, fn, routePath, source) : undefined;
  if (!d || !source) return undefined;
  const [k, v] = vars;
  const setattrCall = descendantsInScope(body, 'call').find((c) => {
    if (c.childForFieldName('function')?.text !== 'setattr') return false;
    const a = callArguments(c).positional;
    return a.length === 3 && a[1].text === k && a[2].text === v;
  });
  if (!setattrCall) return undefined;
  const target = callArguments(setattrCall).positional[0];
  return {
    kind: 'setattr-loop', file, fn, node: loop, call: setattrCall, target, modelClass: objectClass(ws, model, file, fn, target),
    data: d, dataNode: source, explicit: new Map(), filteredKeys: loopFilter(body, k),
  };
}

/**
 * Keys a loop body keeps away from the copy: `if key == "user_id": continue` / `if key in {...}: continue` name
 * them; a test of the key against anything else (`if k in ALLOWED`) filters in a way the analysis cannot read.
 */
function loopFilter(body: Node, key: string): Set<string> | 'unknown' | undefined {
  let out: Set<string> | 'unknown' | undefined;
  for (const stmt of descendantsInScope(body, 'if_statement')) {
    const cond = stmt.childForFieldName('condition');
    if (!cond || !cond.descendantsOfType('identifier').some((n) => n?.text === key)) continue;
    const strings = cond.descendantsOfType('string').map((s) => stringValue(s)).filter((s): s is string => s !== undefined);
    const names = cond.descendantsOfType('identifier').filter((n) => n && n.text !== key && !/^(not|in|and|or)$/.test(n.text));
    if (names.length > 0 || strings.length === 0) return 'unknown';
    // `if key != "id":` guards the setattr with a key that is not skipped; only exclusions skip.
    const skips = /==|\bin\b/.test(cond.text) && !/\bnot\s+in\b|!=/.test(cond.text) && /\b(continue|pass)\b/.test(stmt.childForFieldName('consequence')?.text ?? '');
    if (!skips) continue;
    out = out === 'unknown' ? out : new Set([...(out ?? []), ...strings]);
  }
  return out;
}

/** `{"user_id": uid}` / `dict(user_id=uid)` keys. */
function dictKeys(node: Node | undefined): Map<string, Node> {
  const out = new Map<string, Node>();
  if (!node) return out;
  if (node.type === 'dictionary') {
    for (const pair of children(node)) {
      const k = stringValue(pair.childForFieldName('key'));
      const v = pair.childForFieldName('value');
      if (k !== undefined && v) out.set(k, v);
    }
  } else if (node.type === 'call' && dottedName(node.childForFieldName('function')) === 'dict') {
    for (const [k, v] of callArguments(node).keywords) out.set(k, v);
  }
  return out;
}

/** The workspace class a callee/name refers to (canonical qualified name), else undefined. */
export function classOf(ws: Workspace, model: ModuleModel, node: Node | null | undefined): string | undefined {
  if (!node || (node.type !== 'identifier' && node.type !== 'attribute')) return undefined;
  const def = lookup(ws, model.resolve(node));
  return def?.kind === 'class' ? def.qualified : undefined;
}

/** `session.query(M)...`, `update(M).where(...)`, `M.filter(...)` (Tortoise), `M.objects.filter(...)`. */
function isQueryChain(model: ModuleModel, node: Node): boolean {
  const text = node.text;
  return /\b(query|update|filter|filter_by|where|select|objects)\s*\(|\.objects\b/.test(text) || /(^|\.)update$/.test(model.callee(node) ?? '');
}

function queryModel(ws: Workspace, model: ModuleModel, chain: Node): string | undefined {
  for (const call of chain.descendantsOfType('call')) {
    if (!call) continue;
    const name = dottedName(call.childForFieldName('function')) ?? '';
    if (/(^|\.)(query|update|select)$/.test(name)) {
      const cls = classOf(ws, model, callArguments(call).positional[0]);
      if (cls) return cls;
    }
  }
  // Tortoise / Django style: `Task.filter(...).update(...)`.
  let head: Node | null = chain;
  while (head && (head.type === 'call' || head.type === 'attribute')) head = head.type === 'call' ? head.childForFieldName('function') : head.childForFieldName('object');
  return classOf(ws, model, head);
}

/**
 * The class of an object the code updates, when the code says it: a parameter annotated with a class, or a local
 * assigned from `Model(...)`, `Model.model_validate(...)`, `session.get(Model, ...)`, a query over `Model`, or a
 * workspace helper annotated `-> Model`.
 */
export function objectClass(ws: Workspace, model: ModuleModel, file: string, fn: FunctionInfo, node: Node | undefined, depth = 0): string | undefined {
  if (!node || node.type !== 'identifier' || depth > 3) return undefined;
  const param = fn.params.find((p) => p.name === node.text);
  if (param) {
    const ann = param.annotation?.type === 'type' ? children(param.annotation)[0] : param.annotation;
    const direct = classOf(ws, model, ann);
    if (direct) return direct;
    if (param.annotationAlias) {
      const def = lookup(ws, param.annotationAlias);
      if (def?.kind === 'assignment') return annotatedClass(ws, def.model, def.assignment.value);
    }
    // `CurrentUser = Annotated[User, Depends(...)]` in this module.
    const alias = ann?.type === 'identifier' && !model.imports.has(ann.text) ? model.lastAssignment(ann.text) : undefined;
    if (alias) return annotatedClass(ws, model, alias.value);
    return annotatedClass(ws, model, ann);
  }
  const values = model.localAssignments(fn.body).get(node.text);
  if (!values || values.length !== 1) return undefined;
  let value = values[0];
  while (value.type === 'await' || value.type === 'parenthesized_expression') value = children(value)[0] ?? value;
  if (value.type === 'identifier') return objectClass(ws, model, file, fn, value, depth + 1);
  if (value.type !== 'call') return undefined;
  const callee = value.childForFieldName('function');
  const direct = classOf(ws, model, callee);
  if (direct) return direct;
  if (callee?.type === 'attribute' && VALIDATORS.test(callee.childForFieldName('attribute')?.text ?? '')) {
    return classOf(ws, model, callee.childForFieldName('object'));
  }
  const args = callArguments(value);
  if (callee?.type === 'attribute' && /^(get|get_one|get_or_404)$/.test(callee.childForFieldName('attribute')?.text ?? '')) {
    const cls = classOf(ws, model, args.positional[0]);
    if (cls) return cls;
  }
  for (const inner of value.descendantsOfType('call')) {
    if (!inner) continue;
    const name = dottedName(inner.childForFieldName('function')) ?? '';
    if (/(^|\.)(query|select)$/.test(name)) {
      const cls = classOf(ws, model, callArguments(inner).positional[0]);
      if (cls) return cls;
    }
  }
  const target = resolveCallTarget(ws, file, model, value);
  const ret = target?.fn.node.childForFieldName('return_type');
  return ret && target ? annotatedClass(ws, target.model, ret) : undefined;
}

/** The class in an annotation: `Task`, `Optional[Task]`, `Task | None`, `Annotated[Task, Depends(...)]`. */
function annotatedClass(ws: Workspace, model: ModuleModel, node: Node | undefined): string | undefined {
  if (!node) return undefined;
  for (const n of [node, ...node.descendantsOfType(['identifier', 'attribute'])]) {
    if (!n || (n.type !== 'identifier' && n.type !== 'attribute')) continue;
    const cls = classOf(ws, model, n);
    if (cls) return cls;
  }
  return undefined;
}

// ---- edits shared by the fixes that keep fields out of a copy ---------------------------------------

/** An edit that appends `text` (`user_id=current_user.id`) as the last argument of `call`. */
export function appendArgumentEdit(call: Node, text: string): TextEdit | undefined {
  const list = call.childForFieldName('arguments');
  if (!list || list.type !== 'argument_list') return undefined;
  const args = children(list);
  const last = args[args.length - 1];
  if (!last) {
    const at = list.startPosition;
    return { range: { start: { line: at.row, character: at.column + 1 }, end: { line: at.row, character: at.column + 1 } }, newText: text };
  }
  const at = last.endPosition;
  return { range: { start: { line: at.row, character: at.column }, end: { line: at.row, character: at.column } }, newText: `, ${text}` };
}

/**
 * An edit that makes a `X.dict(...)`/`X.model_dump(...)` call leave `fields` out: adds them to a literal
 * `exclude=` set (or list, or dict), or adds `exclude={...}`. Undefined when `exclude=` is not a literal.
 */
export function excludeFieldsEdit(dump: Node, fields: string[]): TextEdit | undefined {
  const exclude = callArguments(dump).keywords.get('exclude');
  const quoted = fields.map((f) => JSON.stringify(f));
  if (!exclude) return appendArgumentEdit(dump, `exclude={${quoted.join(', ')}}`);
  if (exclude.type !== 'set' && exclude.type !== 'list' && exclude.type !== 'dictionary') return undefined;
  const items = children(exclude);
  const last = items[items.length - 1];
  const text = exclude.type === 'dictionary' ? fields.map((f) => `${JSON.stringify(f)}: True`) : quoted;
  if (!last) {
    // `{}` is an empty dict: the whole literal is replaced.
    return { range: rangeOfNode(exclude), newText: exclude.type === 'list' ? `[${text.join(', ')}]` : `{${text.join(', ')}}` };
  }
  const at = last.endPosition;
  return { range: { start: { line: at.row, character: at.column }, end: { line: at.row, character: at.column } }, newText: `, ${text.join(', ')}` };
}

function rangeOfNode(node: Node) {
  return {
    start: { line: node.startPosition.row, character: node.startPosition.column },
    end: { line: node.endPosition.row, character: node.endPosition.column },
  };
}
