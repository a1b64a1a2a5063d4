/**
 * Auth inference across the workspace: which callables are auth dependencies (they verify the presented
 * credential, directly or through other dependencies and helpers in any file, and fail closed), which routes they
 * reach and how (parameter, decorator, router, include chain, app, HTTP middleware), which handler parameters carry
 * the identity, and the workspace's preferred auth dependency for fixes. Knows nothing of rules or messages.
 */
import * as path from 'path';
import type { Node } from 'web-tree-sitter';
import { importedAs, type FunctionInfo, type ModuleModel, type ParamInfo } from '../python/module-model';
import type { Range } from '../core/types';
import type { Workspace } from './workspace';
import { appGraph, instanceCalls, instanceDecorated, routes, type DependencyRef, type Route } from './app-graph';
import { lookup, lookupCallable, resolveCallTarget } from './symbols';
import { authCandidates } from './auth-candidates';
import { projectRootOf } from './projects';
import { jwtCallsIn } from '../python/jwt-libs';
import { children, contains, descendantsInScope, dottedName, rangeOf, stringValue, walk } from '../python/syntax';

export interface RouteAuth {
  authenticated: boolean;
  /** `handler`: the handler verifies the token itself (a WebSocket reading `?token=`, a decode in the body). */
  via?: 'param' | 'decorator' | 'router' | 'include' | 'app' | 'middleware' | 'handler';
  /** The auth dependency (or middleware function) that authenticates the route. */
  dependency?: { qualified: string; file: string; range: Range };
  /** Handler parameters whose value comes from an auth dependency. */
  identityParams: string[];
}

/** How a callable treats a bad credential: verifies and fails closed, verifies but lets the request through, or neither. */
export type Verdict = 'closed' | 'open' | 'none';

interface Callable {
  fn: FunctionInfo;
  model: ModuleModel;
  file: string;
  qualified: string;
}

const MAX_DEPTH = 5;

/** True when `qualified` names an auth dependency (see the catalog's definition). */
export function isAuthDependency(ws: Workspace, qualified: string | undefined): boolean {
  return !!qualified && dependencyVerdict(ws, qualified) === 'closed';
}

/** The verdict for a dependency by qualified name (`pkg.deps.get_current_user`, `pkg.auth.require_role()`). */
export function dependencyVerdict(ws: Workspace, qualified: string, depth = 0): Verdict {
  const cache = ws.memo('iso:auth-verdicts', () => new Map<string, Verdict>());
  const hit = cache.get(qualified);
  if (hit) return hit;
  // Provisional value breaks recursion cycles (mutually dependent helpers).
  cache.set(qualified, 'none');
  const verdict = computeDependencyVerdict(ws, qualified, depth);
  cache.set(qualified, verdict);
  return verdict;
}

function computeDependencyVerdict(ws: Workspace, qualified: string, depth: number): Verdict {
  if (configuredAuth(ws, qualified)) return 'closed';
  if (isLibraryAuth(qualified)) return 'closed';
  const def = lookup(ws, qualified);
  if (def?.kind === 'assignment' && def.assignment.value.type === 'call') {
    // `current_active_user = fastapi_users.current_user(active=True)`.
    const ctor = def.model.resolveInstance(def.assignment.value.childForFieldName('function'));
    if (ctor && isLibraryAuth(ctor)) return 'closed';
  }
  const target = lookupCallable(ws, qualified);
  if (!target) return 'none';
  if (configuredAuth(ws, target.qualified)) return 'closed';
  return functionVerdict(ws, target, depth);
}

/** fastapi-users' `current_user(...)` dependency factory verifies and raises 401 itself. */
function isLibraryAuth(qualified: string): boolean {
  return /^fastapi_users\..*\.current_user(\(\))?$/.test(qualified) || /^fastapi_users\.FastAPIUsers\(\)\.current_user/.test(qualified);
}

function configuredAuth(ws: Workspace, qualified: string): boolean {
  const settings = ws.settingsFor(ws.root);
  const plain = qualified.replace(/\(\)$/, '');
  return settings.authDependencies.some((entry) => {
    const dotted = entry.replace(':', '.');
    return plain === dotted || plain.endsWith(`.${dotted}`) || (lookup(ws, dotted)?.qualified ?? '') === plain;
  });
}

/** The verdict of one function: does it (or what it calls or depends on) verify a credential, and fail closed? */
export function functionVerdict(ws: Workspace, target: Callable, depth = 0): Verdict {
  const cache = ws.memo('iso:function-verdicts', () => new Map<string, Verdict>());
  const key = `${target.file}:${target.fn.node.startIndex}`;
  const hit = cache.get(key);
  if (hit) return hit;
  cache.set(key, 'none');
  const verdict = depth > MAX_DEPTH ? 'none' : computeFunctionVerdict(ws, target, depth);
  cache.set(key, verdict);
  return verdict;
}

function computeFunctionVerdict(ws: Workspace, target: Callable, depth: number): Verdict {
  const { fn, model, file } = target;
  let verified = false;
  let open = false;
  const raises = hasRaise(model, fn.body);
  // A JWT verified with a library decode.
  for (const jwt of jwtCallsIn(model, fn.body)) {
    if (jwt.kind !== 'decode') continue;
    verified = true;
    if (!failsClosed(jwt.call, fn, raises, false)) open = true;
  }
  // An opaque session/API token looked up in the database, with its expiry checked.
  if (looksUpSessionToken(fn)) {
    verified = true;
    if (!raises) open = true;
  }
  // A token verified by its issuer over HTTP, answered with 401 when the issuer rejects it.
  if (verifiesWithIssuer(model, fn)) verified = true;
  // Sub-dependencies.
  for (const p of fn.params) {
    const dep = paramDependency(ws, model, p);
    if (!dep) continue;
    const v = dependencyVerdict(ws, dep.qualified, depth + 1);
    if (v === 'closed') return 'closed';
    if (v === 'open') {
      verified = true;
      if (!raises) open = true;
    }
  }
  // Helpers it calls, across files.
  for (const call of descendantsInScope(fn.body, 'call')) {
    const callee = resolveCallTarget(ws, file, model, call);
    if (!callee || callee.fn.node.id === fn.node.id) continue;
    const v = functionVerdict(ws, callee, depth + 1);
    if (v === 'none') continue;
    verified = true;
    // A helper that swallows the failure is fine when this function checks its result and raises.
    if (v === 'open' && !(raises && failsClosed(call, fn, raises, false))) open = true;
    if (v === 'closed' && !failsClosed(call, fn, raises, false)) open = true;
  }
  if (!verified) return 'none';
  return open ? 'open' : 'closed';
}

function hasRaise(model: ModuleModel, scope: Node): boolean {
  return model.raisesIn(scope).length > 0;
}

/**
 * True when a failure of `call` (an exception) ends the request: it is not inside a `try` whose handler returns
 * normally. A handler that only records the failure (`payload = None`, `pass`, logging) is closed when the function
 * raises elsewhere (it checks the result); in a middleware, a handler that returns a 401/403 response is closed.
 */
function failsClosed(call: Node, fn: FunctionInfo, fnRaises: boolean, middleware: false | ((ret: Node) => boolean)): boolean {
  for (let n: Node | null = call; n && n.id !== fn.node.id; n = n.parent) {
    const parent: Node | null = n.parent;
    if (parent?.type !== 'try_statement' || parent.childForFieldName('body')?.id !== n.id) continue;
    for (const clause of children(parent)) {
      if (clause.type !== 'except_clause' && clause.type !== 'except_group_clause') continue;
      if (descendantsInScope(clause, 'raise_statement').length > 0) continue;
      const returns = descendantsInScope(clause, 'return_statement');
      if (returns.length > 0) {
        if (middleware && returns.every(middleware)) continue;
        return false;
      }
      if (!fnRaises) return false;
    }
  }
  return true;
}

const HTTP_CLIENT_MODULES = /^(httpx|requests|aiohttp)(\.|$)/;

/**
 * Remote verification: the function sends the presented token to the issuer with an HTTP client (Supabase's
 * `/auth/v1/user`, an OAuth introspection endpoint, Better Auth's `get-session`, which SEC303 reports as a design
 * issue) and raises a 401 when the answer is not a success. Such a dependency authenticates the routes it guards.
 */
function verifiesWithIssuer(model: ModuleModel, fn: FunctionInfo): boolean {
  if (![...model.imports.values()].some((b) => HTTP_CLIENT_MODULES.test(b.target))) return false;
  if (!model.raisesIn(fn.body).some((r) => r.status === 401)) return false;
  return model.callsIn(fn.body).some(({ call }) => {
    const method = call.childForFieldName('function')?.childForFieldName('attribute')?.text;
    if (!method || !/^(get|post|request|send|fetch)$/.test(method)) return false;
    const args = call.childForFieldName('arguments')?.text ?? '';
    return /Authorization|Bearer|token/i.test(args);
  });
}

/** A query on a session/token/API-key table that checks an expiry: Better Auth's opaque bearer/session tokens. */
export function looksUpSessionToken(fn: FunctionInfo): boolean {
  const text = fn.body.text;
  if (!/expir|expires_at|expiresAt/i.test(text)) return false;
  return /\b(select|query|get|filter|filter_by|where|execute|fetch\w*)\s*\(/.test(text) && /\b\w*(Session|Token|ApiKey|APIKey|session|token)\w*\b/.test(text) && /(\.token|token\s*==|token=|"token"|api_key)/.test(text);
}

/**
 * The dependency a parameter is declared with: `Depends(f)`, `Security(f)`, `Annotated[T, Depends(f)]`, a local
 * alias of one, or an alias imported from another file (`user: CurrentUser`).
 */
export function paramDependency(ws: Workspace, model: ModuleModel, param: ParamInfo): ParamDependency | undefined {
  // Asked of the same parameters by routes, verdicts, flows and role checks; `param` belongs to its model, so the
  // cache entry goes with the model, and the memo with any change (an alias can live in another file).
  const cache = ws.cache('auth:param-dependency', () => new WeakMap<ParamInfo, ParamDependency | null>());
  let hit = cache.get(param);
  if (hit === undefined) cache.set(param, (hit = computeParamDependency(ws, model, param) ?? null));
  return hit ?? undefined;
}

export interface ParamDependency {
  qualified: string;
  node: Node;
  alias?: string;
}

function computeParamDependency(ws: Workspace, model: ModuleModel, param: ParamInfo): ParamDependency | undefined {
  const marker = param.marker;
  if (marker && (marker.kind === 'Depends' || marker.kind === 'Security')) {
    // `Depends()` with no argument depends on the annotation's class.
    const depNode = marker.dependency ?? (param.annotation ? children(param.annotation)[0] ?? param.annotation : undefined);
    const qualified = depNode ? model.resolve(depNode) : undefined;
    if (!qualified || !depNode) return undefined;
    const alias = marker.via === 'alias' && param.annotation ? model.resolve(children(param.annotation)[0] ?? param.annotation) : undefined;
    return { qualified, node: marker.call, alias };
  }
  if (param.annotationAlias) {
    const def = lookup(ws, param.annotationAlias);
    if (def?.kind !== 'assignment') return undefined;
    const m = def.model.markerFromAnnotation(def.assignment.value);
    if (!m || (m.kind !== 'Depends' && m.kind !== 'Security') || !m.dependency) return undefined;
    const qualified = def.model.resolve(m.dependency);
    return qualified ? { qualified, node: param.node, alias: def.qualified } : undefined;
  }
  return undefined;
}

/** How a route is authenticated and which handler parameters carry the identity. */
export function routeAuth(ws: Workspace, route: Route): RouteAuth {
  const cache = ws.memo('iso:route-auth', () => new Map<Route, RouteAuth>());
  const hit = cache.get(route);
  if (hit) return hit;
  const result = computeRouteAuth(ws, route);
  cache.set(route, result);
  return result;
}

function computeRouteAuth(ws: Workspace, route: Route): RouteAuth {
  const model = ws.model(route.file);
  const out: RouteAuth = { authenticated: false, identityParams: [] };
  if (!model) return out;
  for (const p of route.handler.params) {
    const dep = paramDependency(ws, model, p);
    if (!dep || !isAuthDependency(ws, dep.qualified)) continue;
    out.identityParams.push(p.name);
    if (!out.authenticated) {
      out.authenticated = true;
      out.via = 'param';
      out.dependency = { qualified: dep.qualified, file: route.file, range: rangeOf(p.node) };
    }
  }
  if (out.authenticated) return out;
  const order: DependencyRef['source'][] = ['decorator', 'router', 'include', 'app'];
  for (const source of order) {
    const dep = route.dependencies.find((d) => d.source === source && isAuthDependency(ws, d.qualified));
    if (dep) {
      return { ...out, authenticated: true, via: source, dependency: { qualified: dep.qualified!, file: dep.file, range: rangeOf(dep.node) } };
    }
  }
  for (const mw of authMiddlewares(ws)) {
    if (mw.app && route.app && mw.app !== route.app) continue;
    if (mw.isExempt(route.path)) continue;
    return { ...out, authenticated: true, via: 'middleware', dependency: { qualified: mw.qualified, file: mw.file, range: rangeOf(mw.node) } };
  }
  // The handler verifies the credential itself and fails closed (JWT110 suggests moving that into a dependency).
  const self = { fn: route.handler, model, file: route.file, qualified: `${model.moduleName}.${route.handler.qualname}` };
  if (functionVerdict(ws, self) === 'closed') {
    return { ...out, authenticated: true, via: 'handler', dependency: { qualified: self.qualified, file: route.file, range: rangeOf(route.handler.node.childForFieldName('name') ?? route.handler.node) } };
  }
  return out;
}

// ---- middleware -------------------------------------------------------------------------------------

export interface AuthMiddleware {
  qualified: string;
  file: string;
  /** The middleware function (or `dispatch` method). */
  node: Node;
  /** The app it is attached to, when known. */
  app?: string;
  isExempt(path: string): boolean;
}

interface PathTest {
  values: string[];
  prefix: boolean;
  negated: boolean;
}

/** HTTP middlewares that verify a token and answer 401 (or raise) on failure. */
export function authMiddlewares(ws: Workspace): AuthMiddleware[] {
  return ws.memo('iso:auth-middlewares', () => {
    const out: AuthMiddleware[] = [];
    for (const d of instanceDecorated(ws, 'middleware')) {
      const mw = middlewareFrom(ws, { fn: d.fn, model: d.model, file: d.file, qualified: `${d.model.moduleName}.${d.fn.qualname}` }, d.instance, []);
      if (mw) out.push(mw);
    }
    for (const c of instanceCalls(ws, 'add_middleware')) {
      const args = children(c.call.childForFieldName('arguments') ?? c.call).filter((a) => a.type !== 'keyword_argument');
      const cls = lookup(ws, c.model.resolve(args[0]));
      if (cls?.kind !== 'class') continue;
      const method = cls.cls.methods.get('dispatch') ?? cls.cls.methods.get('__call__');
      if (!method) continue;
      // Exempt paths passed to the constructor (`add_middleware(AuthMiddleware, exempt=["/health"])`) or set on the class.
      const extra: Node[] = [c.call, cls.cls.node];
      const mw = middlewareFrom(ws, { fn: method, model: cls.model, file: cls.file, qualified: `${cls.qualified}.${method.name}` }, c.instance, extra);
      if (mw) out.push(mw);
    }
    return out;
  });
}

function middlewareFrom(ws: Workspace, target: Callable, instance: string, extraPathSources: Node[]): AuthMiddleware | undefined {
  const { fn, model } = target;
  const raises = hasRaise(model, fn.body);
  const rejects = (ret: Node) => rejectsRequest(ws, target, ret);
  let verified = false;
  let open = false;
  for (const jwt of jwtCallsIn(model, fn.body)) {
    if (jwt.kind !== 'decode') continue;
    verified = true;
    if (!failsClosed(jwt.call, fn, raises, rejects)) open = true;
  }
  const answers = descendantsInScope(fn.body, 'return_statement').some(rejects);
  for (const call of descendantsInScope(fn.body, 'call')) {
    const callee = resolveCallTarget(ws, target.file, model, call);
    if (!callee) continue;
    const v = functionVerdict(ws, callee, 1);
    if (v === 'none') continue;
    verified = true;
    if (v === 'open' && !answers) open = true;
    if (!failsClosed(call, fn, raises, rejects)) open = true;
  }
  if (!verified || open || !(answers || raises)) return undefined;
  const tests = pathTests(model, fn, extraPathSources);
  const graph = appGraph(ws);
  const app = graph.instances.get(instance)?.kind === 'app' ? instance : undefined;
  return {
    qualified: target.qualified,
    file: target.file,
    node: fn.node,
    app,
    isExempt: (path) =>
      tests.some((t) => {
        const match = t.values.some((v) => (t.prefix ? path.startsWith(v) : path === v || path === `${v}/` || `${path}/` === v));
        return t.negated ? !match : match;
      }),
  };
}

const REJECTION = /\b40[13]\b|HTTP_40[13]|UNAUTHORIZED|FORBIDDEN/;

/** A `return` that answers 401/403: inline, or through a workspace helper that builds the response. */
function rejectsRequest(ws: Workspace, target: Callable, ret: Node): boolean {
  if (REJECTION.test(ret.text)) return true;
  return descendantsInScope(ret, 'call').some((call) => {
    const helper = resolveCallTarget(ws, target.file, target.model, call);
    return !!helper && descendantsInScope(helper.fn.body, 'return_statement').some((r) => REJECTION.test(r.text));
  });
}

/** `if request.url.path in PUBLIC: return await call_next(request)`-style exemptions. */
function pathTests(model: ModuleModel, fn: FunctionInfo, extra: Node[]): PathTest[] {
  const out: PathTest[] = [];
  for (const stmt of descendantsInScope(fn.body, 'if_statement')) {
    const cond = stmt.childForFieldName('condition');
    const body = stmt.childForFieldName('consequence');
    if (!cond || !body || !/path/.test(cond.text) || !/call_next|self\.app\s*\(/.test(body.text)) continue;
    const values = new Set<string>();
    collectPathStrings(model, cond, values, extra);
    if (values.size === 0) continue;
    const negated = /^\s*not\b/.test(cond.text) || /\bnot\s+in\b|!=/.test(cond.text);
    out.push({ values: [...values], prefix: /startswith/.test(cond.text), negated });
  }
  return out;
}

function collectPathStrings(model: ModuleModel, node: Node, out: Set<string>, extra: Node[], depth = 0): void {
  if (depth > 3) return;
  walk(node, (n) => {
    if (n.type === 'string') {
      const s = stringValue(n);
      if (s?.startsWith('/')) out.add(s);
      return false;
    }
    if (n.type === 'identifier' || n.type === 'attribute') {
      const dotted = dottedName(n) ?? '';
      const name = dotted.replace(/^self\./, '');
      const value = model.lastAssignment(name)?.value;
      if (value) collectPathStrings(model, value, out, extra, depth + 1);
      // Class attributes and constructor keywords (`exempt_paths=[...]`) with the same name.
      for (const src of extra) {
        for (const kw of src.descendantsOfType(['keyword_argument', 'assignment'])) {
          const key = kw?.type === 'keyword_argument' ? kw.childForFieldName('name')?.text : dottedName(kw?.childForFieldName('left'))?.replace(/^self\./, '');
          const v = kw?.type === 'keyword_argument' ? kw.childForFieldName('value') : kw?.childForFieldName('right');
          if (kw && key === name && v && !contains(v, n)) collectPathStrings(model, v, out, [], depth + 1);
        }
      }
      return false;
    }
    return undefined;
  });
}

// ---- preferred dependency -----------------------------------------------------------------------------

export interface PreferredAuth {
  /** The auth dependency function (`app.api.deps.get_current_user`). */
  qualified: string;
  /** The module to import it from and its name there, as the workspace's code imports it. */
  module: string;
  name: string;
  /** The `Annotated[User, Depends(...)]` alias the workspace's routes use for it, if any. */
  alias?: { qualified: string; module: string; name: string };
  /** How many route parameters use it. */
  uses: number;
}

/**
 * The workspace's most used auth dependency (for fixes), else any auth dependency the workspace defines. For a file
 * (`forFile`): the one of the file's project (projects.ts), counting that project's routes and, with none, the
 * dependencies defined in it or in code outside every project; another service of a monorepo cannot lend its own.
 */
export function preferredAuthDependency(ws: Workspace, forFile?: string): PreferredAuth | undefined {
  const project = forFile === undefined ? undefined : projectRootOf(ws, forFile);
  return ws.memo(`iso:preferred-auth:${project ?? ''}`, () => {
    const root = path.resolve(ws.root);
    const inProject = (file: string) => project === undefined || projectRootOf(ws, file) === project;
    const shareable = (file: string) => inProject(file) || projectRootOf(ws, file) === root;
    const counts = new Map<string, { dep: string; alias?: string; uses: number; params: number; order: number }>();
    let order = 0;
    for (const route of routes(ws)) {
      if (!inProject(route.file)) continue;
      const model = ws.model(route.file);
      if (!model) continue;
      for (const p of route.handler.params) {
        const dep = paramDependency(ws, model, p);
        if (!dep || !isAuthDependency(ws, dep.qualified)) continue;
        const target = lookupCallable(ws, dep.qualified)?.qualified ?? dep.qualified;
        const aliasDef = dep.alias ? lookup(ws, dep.alias) : undefined;
        const key = aliasDef ? `alias:${aliasDef.qualified}` : target;
        const entry = counts.get(key) ?? { dep: target, alias: aliasDef?.qualified, uses: 0, params: 0, order: order++ };
        entry.uses++;
        entry.params++;
        counts.set(key, entry);
      }
      // `dependencies=[Depends(get_current_user)]` at any level is a use too.
      for (const d of route.dependencies) {
        if (!d.qualified || !isAuthDependency(ws, d.qualified)) continue;
        const target = lookupCallable(ws, d.qualified)?.qualified ?? d.qualified;
        const entry = counts.get(target) ?? { dep: target, uses: 0, params: 0, order: order++ };
        entry.uses++;
        counts.set(target, entry);
      }
    }
    // Ties go to what handlers declare as a parameter: that is the form a fix adds.
    const best = [...counts.values()].sort((a, b) => b.uses - a.uses || b.params - a.params || a.order - b.order)[0];
    if (best && !best.dep.endsWith('()')) {
      const imp = importPathFor(ws, best.dep);
      const alias = best.alias ? importPathFor(ws, best.alias) : undefined;
      return { qualified: best.dep, module: imp.module, name: imp.name, alias: alias && best.alias ? { qualified: best.alias, ...alias } : undefined, uses: best.uses };
    }
    // No route uses one yet: a top-level auth dependency defined in the workspace, preferring conventional names.
    const candidates: string[] = [];
    // No other function can be one: see auth-candidates.ts.
    for (const { file, model, fn } of authCandidates(ws)) {
      if (!fn.topLevel || !shareable(file)) continue;
      const q = `${model.moduleName}.${fn.name}`;
      if (isAuthDependency(ws, q)) candidates.push(q);
    }
    candidates.sort((a, b) => rank(a) - rank(b));
    const pick = candidates[0];
    if (!pick) return undefined;
    const imp = importPathFor(ws, pick);
    return { qualified: pick, module: imp.module, name: imp.name, uses: 0 };
  });
}

function rank(q: string): number {
  const name = q.slice(q.lastIndexOf('.') + 1);
  if (/^get_current_(active_)?user$/.test(name)) return 0;
  if (/current_user|require_user|verify_(jwt|token)/.test(name)) return 1;
  return 2;
}

/**
 * How the workspace's own code imports a definition (`from app.api.deps import CurrentUser`), so a fix uses the
 * same module path even when the workspace root is above the import root.
 */
export function importPathFor(ws: Workspace, qualified: string): { module: string; name: string } {
  const def = lookup(ws, qualified);
  const name = qualified.slice(qualified.lastIndexOf('.') + 1);
  // Only a file that says the name can import it.
  for (const f of /^\w+$/.test(name) ? ws.filesMentioning(new RegExp(`\\b${name}\\b`)) : ws.allFiles()) {
    const model = ws.model(f.path);
    if (!model) continue;
    for (const b of model.imports.values()) {
      if (b.target.endsWith(`.${qualified.slice(qualified.lastIndexOf('.') + 1)}`) && lookup(ws, b.target)?.qualified === (def?.qualified ?? qualified)) {
        // As the source spells it: an import the workspace rooted under its project's folder is written without it.
        const written = importedAs(b);
        const dot = written.lastIndexOf('.');
        return { module: written.slice(0, dot), name: written.slice(dot + 1) };
      }
    }
  }
  const dot = qualified.lastIndexOf('.');
  return { module: qualified.slice(0, dot), name: qualified.slice(dot + 1) };
}
