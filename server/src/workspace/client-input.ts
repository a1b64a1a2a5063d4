/**
 * Values a FastAPI handler receives from the client: which parameters FastAPI fills from the path, query string,
 * headers, cookies, form or body (following FastAPI's own rules for unmarked parameters), the fields of body models
 * (with inherited fields, across files), and the expressions in a handler that read one client field (`user_id`,
 * `body.owner_id`, `data["role"]`, `request.headers.get("x-user-id")`, and locals copied from them). Also the naming
 * conventions for user identifiers and privilege fields.
 * Knows nothing of authentication, ownership or rules: callers decide what a client value means.
 */
import type { Node } from 'web-tree-sitter';
import type { ClassInfo, FastApiMarker, FieldInfo, FunctionInfo, ModuleModel, ParamInfo } from '../python/module-model';
import { callArguments, children, descendantsInScope, dottedName, literalValue, stringValue } from '../python/syntax';
import type { Workspace } from './workspace';

export type ClientSource = 'path' | 'query' | 'header' | 'cookie' | 'body' | 'form' | 'file';

export interface ClientParam {
  param: ParamInfo;
  name: string;
  source: ClientSource;
  /** The name the client sends (`alias=` of the marker, else the parameter name). */
  wireName: string;
  /** For a body parameter typed by a class: the class, wherever it is defined. */
  model?: ResolvedClass;
  /** True for `dict`/`Dict[...]`/`Any` bodies whose keys the client chooses. */
  freeform?: boolean;
  /** For a `list[Model]` body: the item model. */
  listOf?: ResolvedClass;
}

export interface ResolvedClass {
  /** Absolute path of the file that defines the class. */
  file: string;
  qualified: string;
  cls: ClassInfo;
}

export interface ClientValue {
  /** The expression that reads the client value (`user_id`, `body.user_id`, `data["user_id"]`, a call). */
  node: Node;
  /** The client field it carries (`user_id`). */
  field: string;
  source: ClientSource;
  /** Human wording of where the value comes from: "path parameter `user_id`". */
  origin: string;
  /** The handler parameter it comes from, when it comes from one. */
  param?: ClientParam;
}

// ---- names -------------------------------------------------------------------------------------

const USER_ID_NAMES: ReadonlySet<string> = new Set(['user_id', 'userid', 'uid', 'user_uuid', 'owner', 'owner_id', 'owner_uuid']);
const PRIVILEGE_NAMES: ReadonlySet<string> = new Set(['is_admin', 'is_superuser', 'is_staff', 'role', 'roles', 'scopes', 'permissions']);

/** `userId`, `X-User-Id`, `x_user_id` -> `user_id`: the spelling-independent form of a field or header name. */
export function normalizeFieldName(name: string): string {
  let n = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[-\s]+/g, '_').toLowerCase();
  // Custom headers are conventionally `X-...`; the prefix says nothing about the value.
  if (n.startsWith('x_')) n = n.slice(2);
  return n;
}

/** Names a user identifier: `user_id`, `uid`, `owner`, the configured owner columns, in any spelling. */
export function isUserIdName(name: string, ownerColumns: readonly string[] = []): boolean {
  const n = normalizeFieldName(name);
  return USER_ID_NAMES.has(n) || ownerColumns.some((c) => normalizeFieldName(c) === n);
}

/** Names a privilege field: `is_admin`, `is_superuser`, `is_staff`, `role`, `roles`, `scopes`, `permissions`. */
export function isPrivilegeName(name: string): boolean {
  return PRIVILEGE_NAMES.has(normalizeFieldName(name));
}

// ---- parameters --------------------------------------------------------------------------------

const MARKER_SOURCES: Partial<Record<FastApiMarker['kind'], ClientSource>> = {
  Path: 'path',
  Query: 'query',
  Header: 'header',
  Cookie: 'cookie',
  Body: 'body',
  Form: 'form',
  File: 'file',
};

/** Types FastAPI injects itself (never read from the request's data). */
const INJECTED_TYPES = /(^|\.)(Request|WebSocket|HTTPConnection|Response|BackgroundTasks|SecurityScopes|Session|AsyncSession|Connection|AsyncConnection)$/;
const FREEFORM_TYPES = /^(dict|Dict|typing\.Dict|Any|typing\.Any|Mapping|typing\.Mapping|object)$/;
const MODEL_BASES = /(^|\.)(BaseModel|SQLModel|RootModel|GenericModel)$/;

/** A single value (path, query, header, cookie or form field), as opposed to a body model, dict or list. */
export function isScalar(p: ClientParam): boolean {
  return !p.model && !p.freeform && !p.listOf;
}

/** `{user_id}` and `{user_id:int}` path placeholders of a route path. */
export function pathParameters(routePath: string | undefined): Set<string> {
  const out = new Set<string>();
  if (!routePath) return out;
  for (const m of routePath.matchAll(/\{([A-Za-z_]\w*)(?::[^}]*)?\}/g)) out.add(m[1]);
  return out;
}

/**
 * The parameters of a handler (or of a dependency it uses) that FastAPI fills from the request, with their source,
 * following FastAPI's rules: an explicit marker wins; a name in the path template is a path parameter; a pydantic
 * model, `dict` or list is the body; any other plain type is a query parameter. Dependencies and injected objects
 * (`Request`, `Session`, ...) are not client input.
 */
export function clientParams(ws: Workspace, file: string, fn: FunctionInfo, routePath?: string): ClientParam[] {
  const model = ws.model(file);
  if (!model) return [];
  const inPath = pathParameters(routePath);
  const out: ClientParam[] = [];
  for (const param of fn.params) {
    if (param.kind !== 'normal' || param.name === 'self' || param.name === 'cls') continue;
    const classified = classifyParam(ws, model, file, param, inPath);
    if (classified) out.push(classified);
  }
  return out;
}

function classifyParam(ws: Workspace, model: ModuleModel, file: string, param: ParamInfo, inPath: Set<string>): ClientParam | undefined {
  const marker = param.marker ?? importedAliasMarker(ws, param.annotationAlias);
  if (marker?.kind === 'Depends' || marker?.kind === 'Security') return undefined;
  const typeNode = innerType(model, param.annotation);
  const typeName = typeNode ? (model.resolve(typeNode) ?? typeNode.text) : undefined;
  if (typeName && INJECTED_TYPES.test(typeName)) return undefined;
  const wireName = (marker && stringValue(callArguments(marker.call).keywords.get('alias'))) ?? param.name;
  const resolved = typeNode ? resolveClass(ws, model, file, typeNode) : undefined;
  const isModel = !!resolved && isPydanticModel(ws, resolved);
  const freeform = !!typeNode && FREEFORM_TYPES.test(typeNode.type === 'generic_type' ? (children(typeNode)[0]?.text ?? '') : typeNode.text);
  const listOf = listItemModel(ws, model, file, typeNode);
  let source: ClientSource | undefined = marker ? MARKER_SOURCES[marker.kind] : undefined;
  if (!source) {
    if (inPath.has(param.name)) source = 'path';
    else if (isModel || freeform || listOf) source = 'body';
    else if (resolved && !isModel && !isEnum(resolved)) return undefined; // an unknown class: most likely injected
    else source = 'query';
  }
  return { param, name: param.name, source, wireName, model: isModel ? resolved : undefined, freeform: freeform || undefined, listOf };
}

/** The type inside `Annotated[T, ...]`, `Optional[T]`, `T | None`; the annotation itself otherwise. */
function innerType(model: ModuleModel, annotation: Node | undefined, depth = 0): Node | undefined {
  if (!annotation || depth > 5) return undefined;
  const expr = annotation.type === 'type' ? children(annotation)[0] : annotation;
  if (!expr) return undefined;
  if (expr.type === 'generic_type' || expr.type === 'subscript') {
    const head = expr.type === 'subscript' ? expr.childForFieldName('value') : children(expr)[0];
    const headName = (head && (model.resolve(head) ?? head.text)) ?? '';
    const args = expr.type === 'subscript' ? expr.childrenForFieldName('subscript').filter((n): n is Node => !!n) : children(children(expr)[1] ?? expr);
    if (/(^|\.)(Annotated|Optional)$/.test(headName)) return innerType(model, args[0], depth + 1);
    if (/(^|\.)Union$/.test(headName)) return innerType(model, args.find((a) => a.text !== 'None'), depth + 1);
    return expr;
  }
  if (expr.type === 'binary_operator') {
    // `T | None`
    const left = expr.childForFieldName('left');
    const right = expr.childForFieldName('right');
    return innerType(model, left?.text === 'None' ? right ?? undefined : left ?? undefined, depth + 1);
  }
  return expr;
}

/** The item model of a `list[Model]` / `List[Model]` / `Sequence[Model]` annotation. */
function listItemModel(ws: Workspace, model: ModuleModel, file: string, typeNode: Node | undefined): ResolvedClass | undefined {
  if (!typeNode || (typeNode.type !== 'generic_type' && typeNode.type !== 'subscript')) return undefined;
  const head = typeNode.type === 'subscript' ? typeNode.childForFieldName('value') : children(typeNode)[0];
  if (!/^(list|List|typing\.List|Sequence|set|Set)$/.test(head?.text ?? '')) return undefined;
  const args = typeNode.type === 'subscript' ? typeNode.childrenForFieldName('subscript').filter((n): n is Node => !!n) : children(children(typeNode)[1] ?? typeNode);
  const inner = innerType(model, args[0]);
  const cls = inner ? resolveClass(ws, model, file, inner) : undefined;
  return cls && isPydanticModel(ws, cls) ? cls : undefined;
}

/** The marker of an `Annotated[...]` alias imported from another workspace module (`CurrentUser`, `UserIdPath`). */
function importedAliasMarker(ws: Workspace, qualified: string | undefined): FastApiMarker | undefined {
  const target = qualified ? locateAssignment(ws, qualified) : undefined;
  return target ? target.model.markerFromAnnotation(target.value) : undefined;
}

function locateAssignment(ws: Workspace, qualified: string, depth = 0): { model: ModuleModel; value: Node } | undefined {
  if (depth > 4) return undefined;
  const located = ws.locate(qualified);
  if (!located || !located.member || located.member.includes('.')) return undefined;
  const model = ws.model(located.file.path);
  if (!model) return undefined;
  const assignment = model.lastAssignment(located.member);
  if (assignment) return { model, value: assignment.value };
  const reexport = model.imports.get(located.member);
  return reexport && reexport.target !== qualified ? locateAssignment(ws, reexport.target, depth + 1) : undefined;
}

// ---- classes -----------------------------------------------------------------------------------

/** The workspace class a name or attribute refers to, following imports and `__init__.py` re-exports. */
export function resolveClass(ws: Workspace, model: ModuleModel, file: string, node: Node): ResolvedClass | undefined {
  if (node.type !== 'identifier' && node.type !== 'attribute') return undefined;
  if (node.type === 'identifier') {
    const local = model.topLevelClass(node.text);
    if (local && !model.imports.has(node.text)) return { file, qualified: `${model.moduleName}.${node.text}`, cls: local };
  }
  const qualified = model.resolve(node);
  return qualified ? resolveQualifiedClass(ws, qualified) : undefined;
}

export function resolveQualifiedClass(ws: Workspace, qualified: string, depth = 0): ResolvedClass | undefined {
  if (depth > 4) return undefined;
  const located = ws.locate(qualified);
  if (!located || !located.member || located.member.includes('.')) return undefined;
  const model = ws.model(located.file.path);
  if (!model) return undefined;
  const cls = model.topLevelClass(located.member);
  if (cls) return { file: located.file.path, qualified, cls };
  const reexport = model.imports.get(located.member);
  return reexport && reexport.target !== qualified ? resolveQualifiedClass(ws, reexport.target, depth + 1) : undefined;
}

/** The workspace classes a class derives from, nearest first (cycle-safe). */
function baseClasses(ws: Workspace, resolved: ResolvedClass, seen = new Set<string>()): ResolvedClass[] {
  const out: ResolvedClass[] = [];
  seen.add(resolved.qualified);
  const model = ws.model(resolved.file);
  if (!model) return out;
  for (const base of resolved.cls.bases) {
    const node = base.type === 'subscript' ? base.childForFieldName('value') : base;
    const parent = node ? resolveClass(ws, model, resolved.file, node) : undefined;
    if (parent && !seen.has(parent.qualified)) {
      out.push(parent, ...baseClasses(ws, parent, seen));
    }
  }
  return out;
}

/** True for pydantic models and SQLModel classes (tables included: FastAPI reads them from the body too). */
export function isPydanticModel(ws: Workspace, resolved: ResolvedClass): boolean {
  for (const c of [resolved, ...baseClasses(ws, resolved)]) {
    if (c.cls.baseNames.some((b) => MODEL_BASES.test(b))) return true;
  }
  return false;
}

function isEnum(resolved: ResolvedClass): boolean {
  return resolved.cls.baseNames.some((b) => /(^|\.)(Enum|IntEnum|StrEnum)$/.test(b) || b === 'str');
}

export interface ModelField extends FieldInfo {
  /** The file of the class that declares the field. */
  file: string;
  /** The declaring class. */
  owner: string;
}

/**
 * The data fields of a model class including inherited ones (a subclass's declaration wins). Class variables,
 * private names and configuration (`model_config`, `Config`) are not fields.
 */
export function modelFields(ws: Workspace, resolved: ResolvedClass): Map<string, ModelField> {
  const out = new Map<string, ModelField>();
  const chain = [resolved, ...baseClasses(ws, resolved)];
  for (const c of chain) {
    for (const [name, field] of c.cls.fields) {
      if (out.has(name) || name.startsWith('_') || name === 'model_config' || name === '__tablename__') continue;
      if (field.annotation && /^ClassVar\b|\.ClassVar\b/.test(field.annotation.text)) continue;
      // `x = 1` with no annotation is a class attribute in pydantic v2, not a field.
      if (!field.annotation) continue;
      out.set(name, { ...field, file: c.file, owner: c.cls.name });
    }
  }
  return out;
}

// ---- values in a handler -----------------------------------------------------------------------

const REQUEST_PARTS: Record<string, ClientSource> = {
  query_params: 'query',
  path_params: 'path',
  headers: 'header',
  cookies: 'cookie',
};

/** A value that holds client data as a whole: a body model, a dict body, or a dict copy of one. */
export interface Container {
  source: ClientSource;
  /** Human wording: "body parameter `body`". */
  origin: string;
  param?: ClientParam;
  /** The body model, when the data is (a copy of) one. */
  model?: ResolvedClass;
  /** `X.dict(...)`/`X.model_dump(...)` that made the copy, for fixes that add `exclude=`. */
  dump?: Node;
  /** Fields the copy leaves out (`exclude={...}`); `'unknown'` when `exclude=` is not a literal. */
  excluded: Set<string> | 'unknown';
  /** Fields the copy keeps (`include={...}`), when limited. */
  included?: Set<string>;
}

interface HandlerInputs {
  model: ModuleModel;
  params: ClientParam[];
  containers: Map<string, Container>;
  requestNames: Set<string>;
}

function handlerInputs(ws: Workspace, file: string, fn: FunctionInfo, routePath: string | undefined): HandlerInputs | undefined {
  const cache = ws.memo('isob:handler-inputs', () => new Map<string, HandlerInputs | undefined>());
  const key = `${file}\0${fn.node.startIndex}\0${routePath ?? ''}`;
  if (cache.has(key)) return cache.get(key);
  const model = ws.model(file);
  let result: HandlerInputs | undefined;
  if (model) {
    const params = clientParams(ws, file, fn, routePath);
    const containers = new Map<string, Container>();
    for (const p of params) {
      if (p.model || p.freeform) containers.set(p.name, { source: p.source, origin: `${p.source} parameter \`${p.name}\``, param: p, model: p.model, excluded: new Set() });
    }
    const requestNames = new Set(fn.params.filter((p) => /(^|\.)(Request|HTTPConnection)$/.test(model.resolve(innerType(model, p.annotation)) ?? '')).map((p) => p.name));
    result = { model, params, containers, requestNames };
    // `for item in items:` over a `list[Model]` body: each item is client data of the item model.
    for (const loop of descendantsInScope(fn.body, 'for_statement')) {
      const left = loop.childForFieldName('left');
      const right = loop.childForFieldName('right');
      const list = right?.type === 'identifier' ? params.find((p) => p.name === right.text && p.listOf) : undefined;
      if (left?.type === 'identifier' && list?.listOf) {
        containers.set(left.text, { source: list.source, origin: `an item of ${list.source} parameter \`${list.name}\``, param: list, model: list.listOf, excluded: new Set() });
      }
    }
    // Locals that copy client data (`data = body.model_dump(exclude_unset=True)`, `payload = await request.json()`).
    const assignments = descendantsInScope(fn.body, ['assignment', 'named_expression']);
    for (let round = 0; round < 3; round++) {
      for (const a of assignments) {
        const left = a.childForFieldName(a.type === 'named_expression' ? 'name' : 'left');
        const right = a.childForFieldName(a.type === 'named_expression' ? 'value' : 'right');
        if (left?.type !== 'identifier' || !right || containers.has(left.text)) continue;
        const container = containerOfExpression(result, right);
        if (container) containers.set(left.text, container);
      }
    }
  }
  cache.set(key, result);
  return result;
}

/**
 * The client data an expression holds as a whole, if any: a body parameter (`body`), a dict body, a local copy, or
 * a dump of one (`body.model_dump(exclude_unset=True)`), with the fields the dump leaves out.
 */
export function clientDataOf(ws: Workspace, file: string, fn: FunctionInfo, routePath: string | undefined, expr: Node): Container | undefined {
  const inputs = handlerInputs(ws, file, fn, routePath);
  return inputs ? containerOfExpression(inputs, expr) : undefined;
}

/** The fields the client controls through `data` (undefined: any field, a free-form dict). */
export function clientFieldsOf(ws: Workspace, data: Container): Set<string> | undefined {
  if (!data.model) return undefined;
  const fields = new Set(modelFields(ws, data.model).keys());
  if (data.included) for (const f of [...fields]) if (!data.included.has(f)) fields.delete(f);
  if (data.excluded === 'unknown') return new Set();
  for (const f of data.excluded) fields.delete(f);
  return fields;
}

/** True when the client may set `field` through `data` (a free-form dict may carry any field). */
export function clientMaySet(ws: Workspace, data: Container, field: string): boolean {
  if (data.excluded === 'unknown') return false;
  if (!data.model) return !data.excluded.has(field) && (!data.included || data.included.has(field));
  return clientFieldsOf(ws, data)?.has(field) ?? true;
}

/** The set of field names in an `exclude=`/`include=` literal (`{"a", "b"}`, `["a"]`, `{"a": True}`) or constant. */
function fieldSet(model: ModuleModel, node: Node | undefined): Set<string> | 'unknown' | undefined {
  if (!node) return undefined;
  let value = literalValue(node);
  if (value === undefined && (node.type === 'identifier' || node.type === 'attribute')) value = model.constantValue(node.text);
  if (Array.isArray(value)) return new Set(value.filter((v): v is string => typeof v === 'string'));
  if (value && typeof value === 'object') return new Set(Object.keys(value));
  return 'unknown';
}

function containerOfExpression(inputs: HandlerInputs, node: Node): Container | undefined {
  const { containers, requestNames, model } = inputs;
  const n = unwrapConversion(node);
  if (n.type === 'identifier') return containers.get(n.text);
  if (n.type !== 'call') return undefined;
  const fn = n.childForFieldName('function');
  if (fn?.type === 'attribute') {
    const object = fn.childForFieldName('object');
    const method = fn.childForFieldName('attribute')?.text ?? '';
    if (object?.type === 'identifier' && /^(dict|model_dump|copy|model_copy)$/.test(method)) {
      const c = containers.get(object.text);
      if (c) {
        const args = callArguments(n);
        const excluded = fieldSet(model, args.keywords.get('exclude'));
        const included = fieldSet(model, args.keywords.get('include'));
        const merged: Set<string> | 'unknown' =
          excluded === 'unknown' || c.excluded === 'unknown' ? 'unknown' : new Set([...c.excluded, ...(excluded ?? [])]);
        return {
          ...c,
          dump: /^(dict|model_dump)$/.test(method) ? n : c.dump,
          excluded: merged,
          included: included === 'unknown' ? new Set() : included ?? c.included,
        };
      }
    }
    if (object?.type === 'identifier' && requestNames.has(object.text) && /^(json|form)$/.test(method)) {
      return { source: method === 'form' ? 'form' : 'body', origin: `the request body (\`${object.text}.${method}()\`)`, excluded: new Set() };
    }
  }
  if (fn?.type === 'identifier' && fn.text === 'dict') {
    const arg = callArguments(n).positional[0];
    if (arg?.type === 'identifier') return containers.get(arg.text);
  }
  return undefined;
}

/**
 * Expressions inside `fn` that read a client field accepted by `wanted` (called with the client's field name):
 * scalar parameters, attributes of body models, keys of dict bodies and of `body.dict()`/`await request.json()`
 * copies, `request.query_params/headers/cookies/path_params` reads, and locals assigned from any of those
 * (through `str()`, `int()`, `UUID()` conversions). Each occurrence is returned separately, in source order.
 */
export function clientValuesIn(
  ws: Workspace,
  file: string,
  fn: FunctionInfo,
  routePath: string | undefined,
  wanted: (field: string) => boolean,
): ClientValue[] {
  const inputs = handlerInputs(ws, file, fn, routePath);
  if (!inputs) return [];
  const { containers, requestNames } = inputs;
  const scalars = new Map<string, ClientValue>();
  for (const p of inputs.params) {
    if (!isScalar(p)) continue;
    if (wanted(p.wireName) || wanted(p.name)) {
      scalars.set(p.name, { node: p.param.node, field: normalizeFieldName(p.wireName), source: p.source, origin: `${p.source} parameter \`${p.name}\``, param: p });
    }
  }
  // Locals assigned from a client value are client values.
  const assignments = descendantsInScope(fn.body, ['assignment', 'named_expression']);
  for (let round = 0; round < 3; round++) {
    for (const a of assignments) {
      const left = a.childForFieldName(a.type === 'named_expression' ? 'name' : 'left');
      const right = a.childForFieldName(a.type === 'named_expression' ? 'value' : 'right');
      if (left?.type !== 'identifier' || !right || scalars.has(left.text) || containers.has(left.text)) continue;
      const value = readOf(unwrapConversion(right), scalars, containers, requestNames, wanted);
      if (value) scalars.set(left.text, { ...value, node: left });
    }
  }

  const out: ClientValue[] = [];
  for (const node of descendantsInScope(fn.body, ['identifier', 'attribute', 'subscript', 'call'])) {
    const value = readOf(node, scalars, containers, requestNames, wanted);
    if (!value) continue;
    if (node.type === 'identifier' && isBindingOrMember(node)) continue;
    out.push({ ...value, node });
  }
  return out;
}

/** True for an identifier that is an assignment target, a keyword name, or the attribute part of `x.attr`. */
function isBindingOrMember(node: Node): boolean {
  const parent = node.parent;
  if (!parent) return false;
  if (parent.type === 'attribute' && parent.childForFieldName('attribute')?.id === node.id) return true;
  if (parent.type === 'keyword_argument' && parent.childForFieldName('name')?.id === node.id) return true;
  if ((parent.type === 'assignment' || parent.type === 'augmented_assignment') && parent.childForFieldName('left')?.id === node.id) return true;
  if (parent.type === 'named_expression' && parent.childForFieldName('name')?.id === node.id) return true;
  return false;
}

function unwrapConversion(node: Node): Node {
  let n = node;
  for (let i = 0; i < 3; i++) {
    if (n.type === 'await') {
      n = children(n)[0] ?? n;
      continue;
    }
    if (n.type === 'parenthesized_expression') {
      n = children(n)[0] ?? n;
      continue;
    }
    if (n.type === 'call' && /^(str|int|UUID|uuid\.UUID)$/.test(dottedName(n.childForFieldName('function')) ?? '')) {
      const args = callArguments(n);
      if (args.positional.length === 1) {
        n = args.positional[0];
        continue;
      }
    }
    break;
  }
  return n;
}

/** The client field read by `node`, if it reads one that `wanted` accepts. */
function readOf(
  node: Node,
  scalars: Map<string, ClientValue>,
  containers: Map<string, Container>,
  requestNames: Set<string>,
  wanted: (field: string) => boolean,
): Omit<ClientValue, 'node'> | undefined {
  if (node.type === 'identifier') {
    const v = scalars.get(node.text);
    return v ? { field: v.field, source: v.source, origin: v.origin, param: v.param } : undefined;
  }
  if (node.type === 'attribute') {
    const object = node.childForFieldName('object');
    const attr = node.childForFieldName('attribute')?.text;
    // A method call's callee (`body.dict`) is not a field read.
    if (node.parent?.type === 'call' && node.parent.childForFieldName('function')?.id === node.id) return undefined;
    if (object?.type === 'identifier' && attr) {
      const c = containers.get(object.text);
      if (c?.model && wanted(attr)) return { field: normalizeFieldName(attr), source: c.source, origin: `field \`${attr}\` of ${c.origin}`, param: c.param };
    }
    return undefined;
  }
  if (node.type === 'subscript') {
    const object = node.childForFieldName('value');
    const key = stringValue(node.childForFieldName('subscript'));
    if (!object || key === undefined || !wanted(key)) return undefined;
    if (object.type === 'identifier') {
      const c = containers.get(object.text);
      if (c) return { field: normalizeFieldName(key), source: c.source, origin: `key \`"${key}"\` of ${c.origin}`, param: c.param };
    }
    const part = requestPart(object, requestNames);
    if (part) return { field: normalizeFieldName(key), source: part.source, origin: `\`${object.text}["${key}"]\``, param: undefined };
    return undefined;
  }
  if (node.type === 'call') {
    const fn = node.childForFieldName('function');
    if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'get') return undefined;
    const object = fn.childForFieldName('object');
    const key = stringValue(callArguments(node).positional[0]);
    if (!object || key === undefined || !wanted(key)) return undefined;
    if (object.type === 'identifier') {
      const c = containers.get(object.text);
      if (c) return { field: normalizeFieldName(key), source: c.source, origin: `key \`"${key}"\` of ${c.origin}`, param: c.param };
    }
    const part = requestPart(object, requestNames);
    if (part) return { field: normalizeFieldName(key), source: part.source, origin: `\`${object.text}.get("${key}")\``, param: undefined };
  }
  return undefined;
}

function requestPart(node: Node, requestNames: Set<string>): { source: ClientSource } | undefined {
  if (node.type !== 'attribute') return undefined;
  const object = node.childForFieldName('object');
  const attr = node.childForFieldName('attribute')?.text ?? '';
  if (object?.type !== 'identifier' || !requestNames.has(object.text)) return undefined;
  const source = REQUEST_PARTS[attr];
  return source ? { source } : undefined;
}
