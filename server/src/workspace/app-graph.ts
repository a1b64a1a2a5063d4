/**
 * The FastAPI application graph of a workspace: `FastAPI(...)` and `APIRouter(...)` instances (module level or
 * inside an app factory) with their prefixes and dependencies, `include_router` chains across files, and the route
 * table (method, full path, handler, every dependency that reaches it). Knows nothing of auth inference or rules.
 * Invariant: one Route per (handler, mount): a router included twice yields two routes for the same handler.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { safeModel, type Workspace } from './workspace';
import { lookup } from './symbols';
import { callArguments, children, dottedName, enclosingFunction, stringValue, walk } from '../python/syntax';

export interface DependencyRef {
  /** The qualified name of the dependency callable (`app.api.deps.get_current_user`), when resolvable. */
  qualified?: string;
  /** The `Depends(...)`/`Security(...)` call (or the bare expression) in the dependencies list. */
  node: Node;
  file: string;
  source: 'decorator' | 'router' | 'include' | 'app';
}

export interface Route {
  /** Absolute path of the file that defines the handler. */
  file: string;
  handler: FunctionInfo;
  /** `GET`, `POST`, ..., `WEBSOCKET`, `API_ROUTE` (for `api_route`/`add_api_route` with several methods). */
  method: string;
  /** The full path: include prefixes + router prefix + the route's own path. */
  path: string;
  /** The decorator call (or the `add_api_route(...)` call). */
  decorator: Node;
  /** The file holding `decorator`: the handler's own, except for an `add_api_route(...)` made in another file. */
  decoratorFile?: string;
  /** Dependencies that reach the route from its decorator, its router, include chains and the app. */
  dependencies: DependencyRef[];
  /** The key of the instance the route is declared on (`app.api.routes.items.router`). */
  instance: string;
  /** The key of the `FastAPI` app the mount ends at, when the router is included in one. */
  app?: string;
}

export interface AppInstance {
  /** `<module>.<name>`, or `<module>.<function>.<name>` for an instance created inside a factory function. */
  key: string;
  kind: 'app' | 'router';
  file: string;
  name: string;
  call: Node;
  prefix: string;
  dependencies: DependencyRef[];
}

export interface IncludeEdge {
  parent: string;
  child: string;
  prefix: string;
  dependencies: DependencyRef[];
  file: string;
  call: Node;
}

export interface AppGraph {
  instances: Map<string, AppInstance>;
  includes: IncludeEdge[];
  routes: Route[];
}

const APP_CTORS = new Set(['fastapi.FastAPI', 'fastapi.applications.FastAPI']);
const ROUTER_CTORS = new Set(['fastapi.APIRouter', 'fastapi.routing.APIRouter']);
const ROUTE_METHODS: Record<string, string> = {
  get: 'GET',
  post: 'POST',
  put: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  head: 'HEAD',
  options: 'OPTIONS',
  trace: 'TRACE',
  websocket: 'WEBSOCKET',
  api_route: 'API_ROUTE',
};

/** Every route of the workspace, memoized per workspace state. */
export function routes(ws: Workspace): Route[] {
  return appGraph(ws).routes;
}

/** The routes whose handler is defined in `file`. */
export function routesInFile(ws: Workspace, file: string): Route[] {
  const byFile = ws.memo('iso:routes-by-file', () => {
    const map = new Map<string, Route[]>();
    for (const r of routes(ws)) {
      const list = map.get(r.file) ?? [];
      list.push(r);
      map.set(r.file, list);
    }
    return map;
  });
  return byFile.get(file) ?? [];
}

/** The routes of a handler function (one per mount). */
export function routesOfHandler(ws: Workspace, file: string, handler: Node): Route[] {
  return routes(ws).filter((r) => r.file === file && r.handler.node.id === handler.id);
}

export function appGraph(ws: Workspace): AppGraph {
  return ws.memo('iso:app-graph', () => buildGraph(ws));
}

/**
 * Text prefilters (the graph must not parse every file of a big workspace): an app or router is built by a call
 * that names `FastAPI`/`APIRouter` (or an import of them does); a route is declared by a decorator line
 * `@x.get(` (or a parenthesized/continued decorator, kept to stay conservative) or by include/add calls.
 */
const INSTANCE_TEXT = /FastAPI|APIRouter/;
const ROUTE_TEXT = /include_router|add_api_route|add_api_websocket_route|^[ \t]*@[^\n]*(\.\s*(get|post|put|patch|delete|head|options|trace|websocket|api_route)\s*\(|\\\r?$)|^[ \t]*@\s*\(/m;

function buildGraph(ws: Workspace): AppGraph {
  const instances = new Map<string, AppInstance>();
  for (const f of ws.filesMentioning(INSTANCE_TEXT)) {
    const model = safeModel(ws, f.path);
    if (model) collectInstances(ws, f.path, model, instances);
  }
  const includes: IncludeEdge[] = [];
  // Every include edge and route hangs on an instance (`instanceOf` answers only keys of `instances`): with none,
  // there is nothing to find, and code that is not a FastAPI app is not parsed (the standard library's tests match
  // the route text with `@mock.patch(...)`).
  if (instances.size === 0) return { instances, includes, routes: [] };
  const declared: { file: string; model: ModuleModel; handler: FunctionInfo; method: string; path: string; decorator: Node; decoratorFile: string; instance: string; deps: DependencyRef[] }[] = [];
  for (const f of ws.filesMentioning(ROUTE_TEXT)) {
    const model = safeModel(ws, f.path);
    if (!model) continue;
    const scanCalls = f.text.includes('include_router') || f.text.includes('add_api_route') || f.text.includes('add_api_websocket_route');
    for (const call of scanCalls ? model.root.descendantsOfType('call') : []) {
      if (!call) continue;
      const fn = call.childForFieldName('function');
      if (fn?.type !== 'attribute') continue;
      const attr = fn.childForFieldName('attribute')?.text;
      if (attr === 'include_router') {
        const args = callArguments(call);
        const parent = instanceOf(ws, f.path, model, fn.childForFieldName('object'), instances);
        const child = instanceOf(ws, f.path, model, args.keywords.get('router') ?? args.positional[0], instances);
        if (!parent || !child) continue;
        includes.push({
          parent,
          child,
          prefix: pathText(ws, model, args.keywords.get('prefix')) ?? '',
          dependencies: dependencyList(model, f.path, args.keywords.get('dependencies'), 'include'),
          file: f.path,
          call,
        });
      } else if (attr === 'add_api_route' || attr === 'add_api_websocket_route') {
        const instance = instanceOf(ws, f.path, model, fn.childForFieldName('object'), instances);
        const args = callArguments(call);
        const endpoint = args.keywords.get('endpoint') ?? args.positional[1];
        const target = endpoint ? lookup(ws, model.resolve(endpoint)) : undefined;
        if (!instance || target?.kind !== 'function') continue;
        declared.push({
          file: target.file,
          model: target.model,
          handler: target.fn,
          method: attr === 'add_api_websocket_route' ? 'WEBSOCKET' : methodsOf(args.keywords.get('methods')),
          path: pathText(ws, model, args.keywords.get('path') ?? args.positional[0]) ?? '',
          decorator: call,
          decoratorFile: f.path,
          instance,
          deps: dependencyList(model, f.path, args.keywords.get('dependencies'), 'decorator'),
        });
      }
    }
    for (const handler of model.functions) {
      for (const dec of handler.decorators) {
        if (dec.type !== 'call') continue;
        const fn = dec.childForFieldName('function');
        if (fn?.type !== 'attribute') continue;
        const method = ROUTE_METHODS[fn.childForFieldName('attribute')?.text ?? ''];
        if (!method) continue;
        const instance = instanceOf(ws, f.path, model, fn.childForFieldName('object'), instances);
        if (!instance) continue;
        const args = callArguments(dec);
        declared.push({
          file: f.path,
          model,
          handler,
          method: method === 'API_ROUTE' ? methodsOf(args.keywords.get('methods')) : method,
          path: pathText(ws, model, args.keywords.get('path') ?? args.positional[0]) ?? '',
          decorator: dec,
          decoratorFile: f.path,
          instance,
          deps: dependencyList(model, f.path, args.keywords.get('dependencies'), 'decorator'),
        });
      }
    }
  }
  const mountCache = new Map<string, Mount[]>();
  const out: Route[] = [];
  for (const d of declared) {
    for (const mount of mountsOf(d.instance, instances, includes, mountCache, new Set())) {
      out.push({
        file: d.file,
        handler: d.handler,
        method: d.method,
        path: joinPath(mount.prefix, d.path),
        decorator: d.decorator,
        decoratorFile: d.decoratorFile,
        dependencies: [...mount.dependencies, ...d.deps],
        instance: d.instance,
        app: mount.app,
      });
    }
  }
  return { instances, includes, routes: out };
}

interface Mount {
  prefix: string;
  dependencies: DependencyRef[];
  app?: string;
}

function mountsOf(key: string, instances: Map<string, AppInstance>, includes: IncludeEdge[], cache: Map<string, Mount[]>, visiting: Set<string>): Mount[] {
  const cached = cache.get(key);
  if (cached) return cached;
  const inst = instances.get(key);
  if (!inst) return [];
  if (inst.kind === 'app') {
    const mounts = [{ prefix: '', dependencies: inst.dependencies, app: key }];
    cache.set(key, mounts);
    return mounts;
  }
  // Include cycles are invalid at run time; guard against them anyway.
  if (visiting.has(key)) return [];
  visiting.add(key);
  const mounts: Mount[] = [];
  for (const edge of includes.filter((e) => e.child === key)) {
    for (const pm of mountsOf(edge.parent, instances, includes, cache, visiting)) {
      mounts.push({
        prefix: joinPath(joinPath(pm.prefix, edge.prefix), inst.prefix),
        dependencies: [...pm.dependencies, ...edge.dependencies, ...inst.dependencies],
        app: pm.app,
      });
    }
  }
  visiting.delete(key);
  // A router never included (or included from code the analysis cannot see) still declares its routes.
  if (mounts.length === 0) mounts.push({ prefix: inst.prefix, dependencies: inst.dependencies });
  const unique = dedupeMounts(mounts);
  cache.set(key, unique);
  return unique;
}

function dedupeMounts(mounts: Mount[]): Mount[] {
  const seen = new Set<string>();
  return mounts.filter((m) => {
    const k = `${m.app ?? ''}|${m.prefix}|${m.dependencies.map((d) => d.node.id).join(',')}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function collectInstances(ws: Workspace, file: string, model: ModuleModel, out: Map<string, AppInstance>): void {
  for (const assign of model.root.descendantsOfType('assignment')) {
    const left = assign?.childForFieldName('left');
    let value = assign?.childForFieldName('right');
    while (value?.type === 'assignment') value = value.childForFieldName('right');
    if (!assign || left?.type !== 'identifier' || value?.type !== 'call') continue;
    const callee = model.callee(value);
    const kind = callee && APP_CTORS.has(callee) ? 'app' : callee && ROUTER_CTORS.has(callee) ? 'router' : undefined;
    if (!kind) continue;
    const key = instanceKey(model, assign, left.text);
    const args = callArguments(value);
    out.set(key, {
      key,
      kind,
      file,
      name: left.text,
      call: value,
      prefix: kind === 'router' ? (pathText(ws, model, args.keywords.get('prefix')) ?? '') : '',
      dependencies: dependencyList(model, file, args.keywords.get('dependencies'), kind === 'app' ? 'app' : 'router'),
    });
  }
}

function instanceKey(model: ModuleModel, at: Node, name: string): string {
  const fnNode = enclosingFunction(at);
  const fn = fnNode ? model.functionAt(fnNode) : undefined;
  return fn ? `${model.moduleName}.${fn.qualname}.${name}` : `${model.moduleName}.${name}`;
}

/** The instance key an expression (`app`, `router`, `items.router`, `api.v1.router`) refers to. */
function instanceOf(ws: Workspace, file: string, model: ModuleModel, expr: Node | null | undefined, instances: Map<string, AppInstance>, depth = 0): string | undefined {
  if (!expr || depth > 6) return undefined;
  if (expr.type === 'identifier') {
    // An instance created inside the same factory function.
    const fnNode = enclosingFunction(expr);
    const fn = fnNode ? model.functionAt(fnNode) : undefined;
    if (fn) {
      const key = `${model.moduleName}.${fn.qualname}.${expr.text}`;
      if (instances.has(key)) return key;
    }
  }
  const qualified = model.resolve(expr);
  if (!qualified) return undefined;
  if (instances.has(qualified)) return qualified;
  const def = lookup(ws, qualified);
  if (def?.kind === 'assignment') {
    if (instances.has(def.qualified)) return def.qualified;
    const v = def.assignment.value;
    if (v.type === 'identifier' || v.type === 'attribute') return instanceOf(ws, def.file, def.model, v, instances, depth + 1);
  }
  return undefined;
}

/** The entries of a `dependencies=[Depends(a), Security(b, scopes=[...])]` list. */
export function dependencyList(model: ModuleModel, file: string, list: Node | undefined, source: DependencyRef['source']): DependencyRef[] {
  if (!list) return [];
  let items: Node[] = [];
  if (list.type === 'list' || list.type === 'tuple') items = children(list);
  else if (list.type === 'identifier') {
    // `dependencies=COMMON_DEPS` with a module-level list.
    const value = model.lastAssignment(list.text)?.value;
    if (value && (value.type === 'list' || value.type === 'tuple')) items = children(value);
  }
  return items.map((node) => {
    let target: Node | undefined = node;
    if (node.type === 'call') {
      const marker = model.markerFromCall(node, 'default');
      target = marker ? marker.dependency : undefined;
    }
    const qualified = target ? model.resolve(target.type === 'call' ? target.childForFieldName('function') : target) : undefined;
    return { qualified, node, file, source };
  });
}

function methodsOf(node: Node | undefined): string {
  if (node && (node.type === 'list' || node.type === 'tuple' || node.type === 'set')) {
    const methods = children(node).map((c) => stringValue(c)?.toUpperCase()).filter((m): m is string => !!m);
    if (methods.length === 1) return methods[0];
  }
  return 'API_ROUTE';
}

/** A path literal, a module constant, or an f-string's literal parts with `{...}` kept. */
function pathText(ws: Workspace, model: ModuleModel, node: Node | undefined): string | undefined {
  if (!node) return undefined;
  const s = stringValue(node);
  if (s !== undefined) return s;
  if (node.type === 'identifier' || node.type === 'attribute') {
    const v = model.constantValue(dottedName(node) ?? '') ?? settingsDefault(ws, model, node);
    if (typeof v === 'string') return v;
    // Unknown at analysis time; keep a readable placeholder.
    return `{${node.text}}`;
  }
  if (node.type === 'string') {
    let out = '';
    for (const part of children(node)) {
      if (part.type === 'string_content') out += part.text;
      else if (part.type === 'interpolation') {
        const inner = children(part)[0];
        const v = inner ? (model.constantValue(dottedName(inner) ?? '') ?? settingsDefault(ws, model, inner)) : undefined;
        out += typeof v === 'string' ? v : `{${inner?.text ?? ''}}`;
      }
    }
    return out;
  }
  return undefined;
}

/**
 * `settings.API_V1_STR` where `settings = Settings()` (in any file) and the class declares a literal default:
 * the default, which is what the app uses unless the environment overrides it.
 */
function settingsDefault(ws: Workspace, model: ModuleModel, node: Node): string | undefined {
  if (node.type !== 'attribute') return undefined;
  const field = node.childForFieldName('attribute')?.text;
  const inst = lookup(ws, model.resolve(node.childForFieldName('object')));
  if (!field || inst?.kind !== 'assignment' || inst.assignment.value.type !== 'call') return undefined;
  const cls = lookup(ws, inst.model.callee(inst.assignment.value));
  const value = cls?.kind === 'class' ? cls.cls.fields.get(field)?.value : undefined;
  const s = stringValue(value);
  return s;
}

function joinPath(a: string, b: string): string {
  if (!a) return b;
  if (!b) return a;
  return a.replace(/\/+$/, '') + (b.startsWith('/') ? b : `/${b}`);
}


/** `.method` in a file's text: an attribute `method` (methods are identifiers, nothing to escape). */
function attributeText(method: string): RegExp {
  return new RegExp(`\\.${method}`);
}

/** Calls of `<instance>.<method>(...)` in the workspace where the instance is a known app/router, e.g. `add_middleware`. */
export function instanceCalls(ws: Workspace, method: string): { file: string; model: ModuleModel; call: Node; instance: string }[] {
  const graph = appGraph(ws);
  const out: { file: string; model: ModuleModel; call: Node; instance: string }[] = [];
  // The call's attribute is `method`: no parse for files without `.method`.
  for (const f of ws.filesMentioning(attributeText(method))) {
    const model = safeModel(ws, f.path);
    if (!model) continue;
    walk(model.root, (n) => {
      if (n.type !== 'call') return;
      const fn = n.childForFieldName('function');
      if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== method) return;
      const instance = instanceOf(ws, f.path, model, fn.childForFieldName('object'), graph.instances);
      if (instance) out.push({ file: f.path, model, call: n, instance });
    });
  }
  return out;
}

/** The functions decorated with `@<instance>.<method>(...)` (e.g. `@app.middleware("http")`). */
export function instanceDecorated(ws: Workspace, method: string): { file: string; model: ModuleModel; fn: FunctionInfo; decorator: Node; instance: string }[] {
  const graph = appGraph(ws);
  const out: { file: string; model: ModuleModel; fn: FunctionInfo; decorator: Node; instance: string }[] = [];
  for (const f of ws.filesMentioning(attributeText(method))) {
    const model = safeModel(ws, f.path);
    if (!model) continue;
    for (const fn of model.functions) {
      for (const dec of fn.decorators) {
        const callee = dec.type === 'call' ? dec.childForFieldName('function') : dec;
        if (callee?.type !== 'attribute' || callee.childForFieldName('attribute')?.text !== method) continue;
        const instance = instanceOf(ws, f.path, model, callee.childForFieldName('object'), graph.instances);
        if (instance) out.push({ file: f.path, model, fn, decorator: dec, instance });
      }
    }
  }
  return out;
}
