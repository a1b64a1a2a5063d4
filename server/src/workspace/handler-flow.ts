/**
 * Data flow inside a route handler and the functions it reaches (helpers it calls and non-auth dependencies it
 * declares, across files, a few calls deep): queries over owned models with their filters, loads of one object by
 * its id, where a loaded object ends up (returned, changed, deleted), ownership checks, admin guards, and writes.
 * Each fact carries the function it was found in and that function's identity scope. Knows nothing of rules or
 * messages; rules decide what a missing filter or check means.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace } from './workspace';
import { routes, type Route } from './app-graph';
import { isAuthDependency, paramDependency } from './auth';
import { identityExpressions, paramKind, scopeIdentity, type IdentityInfo, type IdentityKind } from './identity';
import { modelClassByName, ownedModelByName, ownedModels, type OwnedModel } from './owned-models';
import { lookupCallable, resolveCallTarget } from './symbols';
import { mentionsPrivilege, privilegeGuardsIn, routeRoleCheck } from './role-checks';
import { callArguments, children, contains, descendantsInBody, descendantsInScope, descendantsOf, dottedName, walk } from '../python/syntax';

const MAX_DEPTH = 3;

/** A function of the flow: the handler itself, or a helper/dependency reached from it. */
export interface FlowFunction {
  fn: FunctionInfo;
  model: ModuleModel;
  file: string;
  identity: IdentityInfo;
  depth: number;
  /** The call (or dependency parameter) in the parent that reaches this function. */
  callSite?: Node;
  /** For a dependency: the handler parameter that receives its value. */
  dependencyParam?: string;
  parent?: FlowFunction;
  /** The whole function runs only for admins (the call site is inside an admin guard). */
  adminGuarded: boolean;
  /**
   * For a function reached from the handler: the function and the identity its caller hands it. Its facts depend on
   * nothing else, so the flows of every route reaching it with the same identity share them (see `factsOf`).
   */
  key?: string;
}

export interface FilterInfo {
  /** The comparison, keyword argument or call that filters. */
  node: Node;
  /** The column (or relationship) name filtered on. */
  column: string;
  model?: OwnedModel;
  value?: Node;
  isOwner: boolean;
  isId: boolean;
  /** The value is the authenticated identity (or a value the code checked against it). */
  isIdentity: boolean;
}

export type QueryKind = 'select' | 'query' | 'objects' | 'classmethod' | 'delete' | 'update';

export interface QueryInfo {
  kind: QueryKind;
  /** The call that names the model: `select(Task)`, `session.query(Task)`, `Task.filter(...)`, `delete(Task)`. */
  node: Node;
  /** The outermost expression of the chain it starts (`select(Task).where(...).order_by(...)`). */
  chain: Node;
  model: OwnedModel;
  /** The expression naming the model inside `node`. */
  modelNode: Node;
  where: FlowFunction;
  filters: FilterInfo[];
  /** An owner filter whose value is the identity. */
  ownerBound: boolean;
  /** Any filter on an owner column or relationship (the identity or not). */
  ownerFilter?: FilterInfo;
  /** A filter on the primary key: the query loads one object by id. */
  idFilter?: FilterInfo;
  /**
   * A filter on another key of the model (`Comment.post_id == post_id`): the query is narrowed to a parent object,
   * whose ownership is the parent load's business.
   */
  parentFilter?: FilterInfo;
  executed: boolean;
  adminGuarded: boolean;
  /** Local names holding the statement or its results. */
  holders: Set<string>;
}

export interface Holder {
  where: FlowFunction;
  /** Names in `where` that hold the loaded object. */
  names: Set<string>;
  /** The statement where the object lands in `where` (`task = crud.get_task(...)`). */
  statement: Node;
}

export interface ObjectUse {
  kind: 'return' | 'write' | 'delete';
  node: Node;
  where: FlowFunction;
}

export interface LoadInfo {
  /** `session.get(Task, id)`, or the query that filters on the id. */
  node: Node;
  model: OwnedModel;
  idValue?: Node;
  where: FlowFunction;
  query?: QueryInfo;
  /** The owner is bound to the identity in the same query. */
  ownerBound: boolean;
  /** The owner is bound in the same query, to any value. */
  ownerFiltered: boolean;
  adminGuarded: boolean;
  /** Where the object is held: in the loading function, then in each caller it is returned to. */
  holders: Holder[];
  /** An ownership check (an `if` that raises, a helper that raises), if found. */
  check?: Node;
  uses: ObjectUse[];
}

export interface WriteInfo {
  kind: 'add' | 'delete' | 'commit' | 'setattr' | 'sqlmodel_update' | 'model_validate' | 'attribute' | 'update' | 'create' | 'save';
  node: Node;
  where: FlowFunction;
  /** The local name written to, when there is one. */
  target?: string;
  model?: OwnedModel;
}

export interface HandlerFlow {
  route: Route;
  functions: FlowFunction[];
  queries: QueryInfo[];
  loads: LoadInfo[];
  writes: WriteInfo[];
  /** References to owned models anywhere in the flow (class names used in code). */
  ownedTouches: { model: OwnedModel; node: Node; where: FlowFunction }[];
  /** The route as a whole is admin-only (a role-check dependency or guard at the top of the handler). */
  adminOnly: boolean;
}

const FILTER_METHODS = new Set(['where', 'filter', 'filter_by', 'having', 'join', 'outerjoin', 'select_from', 'exclude', 'get', 'get_or_none', 'first', 'find', 'find_one']);
const TERMINAL = /^(all|first|one|one_or_none|scalar|scalars|scalar_one|scalar_one_or_none|unique|fetchall|fetchone|count|exists|values|values_list|delete|update|get|get_or_none|to_list|first_or_none|paginate)$/;
const CLASS_QUERY_METHODS = new Set(['all', 'filter', 'get', 'get_or_none', 'exclude', 'find', 'find_all', 'find_one', 'first', 'select', 'objects']);
const SELECT_CALLEES = /^(sqlmodel|sqlalchemy)(\.sql|\.sql\.expression|\.future|\.orm)?\.select$|^sqlmodel\.sql\.expression\.select$/;
const DELETE_CALLEES = /^sqlalchemy(\.sql|\.sql\.expression)?\.delete$|^sqlmodel\.delete$/;
const UPDATE_CALLEES = /^sqlalchemy(\.sql|\.sql\.expression)?\.update$|^sqlmodel\.update$/;

/** The flow of a route, memoized. */
export function handlerFlow(ws: Workspace, route: Route): HandlerFlow {
  const cache = ws.memo('iso:handler-flow', () => new Map<Route, HandlerFlow>());
  const hit = cache.get(route);
  if (hit) return hit;
  const flow = computeFlow(ws, route);
  cache.set(route, flow);
  return flow;
}

/** Flows of every route of the workspace. */
export function allHandlerFlows(ws: Workspace): HandlerFlow[] {
  return routes(ws).map((r) => handlerFlow(ws, r));
}

function computeFlow(ws: Workspace, route: Route): HandlerFlow {
  const flow: HandlerFlow = { route, functions: [], queries: [], loads: [], writes: [], ownedTouches: [], adminOnly: false };
  const model = ws.model(route.file);
  if (!model) return flow;
  const roleCheck = safe(() => routeRoleCheck(ws, route));
  flow.adminOnly = roleCheck?.kind === 'dependency';
  const root: FlowFunction = { fn: route.handler, model, file: route.file, identity: identityExpressions(ws, route), depth: 0, adminGuarded: flow.adminOnly };
  const visited = new Set<string>();
  const queue: FlowFunction[] = [root];
  while (queue.length) {
    const f = queue.shift()!;
    const key = `${f.file}:${f.fn.node.startIndex}:${[...f.identity.names.keys()].sort().join(',')}`;
    if (visited.has(key) && f.depth > 0) continue;
    visited.add(key);
    flow.functions.push(f);
    if (f.depth >= MAX_DEPTH) continue;
    queue.push(...childFunctions(ws, f));
  }
  const loads: { load: LoadInfo; returned: boolean }[] = [];
  for (const f of flow.functions) {
    const queries = queriesIn(ws, f);
    flow.queries.push(...queries);
    loads.push(...loadsIn(ws, f, queries));
    flow.writes.push(...writesIn(ws, f));
    flow.ownedTouches.push(...ownedReferences(ws, f));
  }
  for (const { load, returned } of loads) {
    flow.loads.push(load);
    followLoad(ws, load, returned);
  }
  return flow;
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

// ---- functions of the flow ----------------------------------------------------------------------------

function childFunctions(ws: Workspace, parent: FlowFunction): FlowFunction[] {
  return factsOf(ws, parent).children(() => childSpecs(ws, parent)).map((c) => ({
    fn: c.fn,
    model: c.model,
    file: c.file,
    identity: c.identity,
    key: c.key,
    depth: parent.depth + 1,
    callSite: c.callSite,
    dependencyParam: c.dependencyParam,
    parent,
    adminGuarded: parent.adminGuarded || c.regionGuarded,
  }));
}

/** A function called from a flow function, or a dependency it declares, with the identity it receives. */
interface ChildSpec {
  fn: FunctionInfo;
  model: ModuleModel;
  file: string;
  identity: IdentityInfo;
  key: string;
  callSite: Node;
  dependencyParam?: string;
  /** The call is inside an admin-only region of the parent. */
  regionGuarded: boolean;
}

function childSpecs(ws: Workspace, parent: FlowFunction): ChildSpec[] {
  const out: ChildSpec[] = [];
  const guards = adminRegions(parent.fn);
  const child = (target: { fn: FunctionInfo; model: ModuleModel; file: string }, seed: Map<string, IdentityKind>) => {
    const key = `${target.file}:${target.fn.node.startIndex}:${[...seed].map(([name, kind]) => `${name}=${kind}`).sort().join(',')}`;
    const identities = ws.memo('iso:helper-identity', () => new Map<string, IdentityInfo>());
    let identity = identities.get(key);
    if (!identity) identities.set(key, (identity = scopeIdentity(target.model, target.fn, seed, ws, target.file)));
    return { fn: target.fn, model: target.model, file: target.file, identity, key };
  };
  for (const call of descendantsInScope(parent.fn.body, 'call')) {
    const target = resolveCallTarget(ws, parent.file, parent.model, call);
    if (!target || target.fn.node.id === parent.fn.node.id) continue;
    out.push({ ...child(target, argumentIdentity(target.fn, call, parent.identity)), callSite: call, regionGuarded: guards.some((g) => contains(g, call)) });
  }
  // Non-auth dependencies the function declares (`task: Task = Depends(get_task_or_404)`) run for the request too.
  for (const p of parent.fn.params) {
    const dep = paramDependency(ws, parent.model, p);
    if (!dep || isAuthDependency(ws, dep.qualified)) continue;
    const target = lookupCallable(ws, dep.qualified);
    if (!target) continue;
    const seed = new Map<string, IdentityKind>();
    for (const q of target.fn.params) {
      const d = paramDependency(ws, target.model, q);
      if (d && isAuthDependency(ws, d.qualified)) seed.set(q.name, paramKind(ws, target.model, q));
    }
    out.push({ ...child(target, seed), callSite: p.node, dependencyParam: p.name, regionGuarded: false });
  }
  return out;
}

/** Which parameters of `fn` receive the identity at `call`. */
function argumentIdentity(fn: FunctionInfo, call: Node, identity: IdentityInfo): Map<string, IdentityKind> {
  const seed = new Map<string, IdentityKind>();
  const params = fn.params.filter((p, i) => !(i === 0 && fn.className && (p.name === 'self' || p.name === 'cls')));
  const args = callArguments(call);
  const kindOf = (arg: Node): IdentityKind | undefined => {
    if (!identity.isIdentityExpression(arg)) return undefined;
    const name = dottedName(arg);
    const k = name ? identity.names.get(name) : undefined;
    return k ?? 'id';
  };
  args.positional.forEach((arg, i) => {
    const p = params[i];
    const k = p && p.kind === 'normal' ? kindOf(arg) : undefined;
    if (p && k) seed.set(p.name, k);
  });
  for (const [name, arg] of args.keywords) {
    const k = kindOf(arg);
    if (k && params.some((p) => p.name === name)) seed.set(name, k);
  }
  return seed;
}

/**
 * Regions of a function that run only for admins: the branch of `if user.is_superuser:`, and everything after a
 * guard that raises unless the caller is privileged (`if not user.is_superuser: raise ...`).
 */
function adminRegions(fn: FunctionInfo): Node[] {
  let regions = regionCache.get(fn);
  if (!regions) regionCache.set(fn, (regions = computeAdminRegions(fn)));
  return regions;
}

const regionCache = new WeakMap<FunctionInfo, Node[]>();

function computeAdminRegions(fn: FunctionInfo): Node[] {
  const out: Node[] = [];
  for (const stmt of descendantsInScope(fn.body, 'if_statement')) {
    const cond = stmt.childForFieldName('condition');
    const body = stmt.childForFieldName('consequence');
    if (!cond || !body || !mentionsPrivilege(cond)) continue;
    const negated = /^\s*not\b|!=|\bnot\s+in\b/.test(cond.text);
    if (!negated) out.push(body);
  }
  for (const guard of safe(() => privilegeGuardsIn(fn.body)) ?? []) {
    // Statements after the guard in the same block.
    for (let next = guard.nextNamedSibling; next; next = next.nextNamedSibling) out.push(next);
  }
  return out;
}

function inAdminRegion(fn: FunctionInfo, node: Node): boolean {
  return adminRegions(fn).some((r) => contains(r, node));
}

// ---- facts shared between flows --------------------------------------------------------------------------

/**
 * What a flow function yields that depends only on the function and the identity it holds (its `key`): the
 * functions it reaches, its queries and its loads with their first hop. A helper reached by many routes is analysed
 * once; the facts are then bound to each flow's FlowFunction (`where`, and admin guards that come from the caller).
 */
interface FunctionFacts {
  children<T extends ChildSpec[]>(compute: () => T): T;
  queries<T extends QueryFact[]>(compute: () => T): T;
  loads<T extends LoadFact[]>(compute: () => T): T;
}

/** A query with what is true of it in any flow; `regionGuarded`: inside an admin-only region of its function. */
type QueryFact = Omit<QueryInfo, 'where' | 'adminGuarded'> & { regionGuarded: boolean };

/** A load with its checks and uses in the loading function, before following it into callers. */
interface LoadFact {
  node: Node;
  model: OwnedModel;
  idValue?: Node;
  /** The query that loads the object, as an index into the function's queries. */
  queryIndex?: number;
  ownerBound: boolean;
  ownerFiltered: boolean;
  regionGuarded: boolean;
  names: Set<string>;
  statement: Node;
  /** The uses the load itself is (`delete(Task).where(Task.id == id)`). */
  ownUses: Omit<ObjectUse, 'where'>[];
  check?: Node;
  uses: Omit<ObjectUse, 'where'>[];
  /** The function returns the object to its caller. */
  returned: boolean;
}

function factsOf(ws: Workspace, f: FlowFunction): FunctionFacts {
  if (!f.key) return computeOnce();
  const cache = ws.memo('iso:function-facts', () => new Map<string, FunctionFacts>());
  let facts = cache.get(f.key);
  if (!facts) cache.set(f.key, (facts = computeOnce()));
  return facts;
}

function computeOnce(): FunctionFacts {
  const values = new Map<string, unknown>();
  const once = <T>(name: string, compute: () => T): T => {
    if (!values.has(name)) values.set(name, compute());
    return values.get(name) as T;
  };
  return {
    children: (compute) => once('children', compute),
    queries: (compute) => once('queries', compute),
    loads: (compute) => once('loads', compute),
  };
}

// ---- queries --------------------------------------------------------------------------------------------

/** The owned model an expression names (`Task`, `models.Task`, `Task.id` -> Task). */
function ownedModelOf(ws: Workspace, model: ModuleModel, node: Node | null | undefined): { owned: OwnedModel; node: Node } | undefined {
  if (!node) return undefined;
  if (node.type !== 'identifier' && node.type !== 'attribute') return undefined;
  const direct = ownedModelByName(ws, model.resolve(node));
  if (direct) return { owned: direct, node };
  if (node.type === 'attribute') return ownedModelOf(ws, model, node.childForFieldName('object'));
  return undefined;
}

function queriesIn(ws: Workspace, f: FlowFunction): QueryInfo[] {
  return factsOf(ws, f).queries(() => queryFacts(ws, f)).map(({ regionGuarded, ...q }) => ({ ...q, where: f, adminGuarded: f.adminGuarded || regionGuarded }));
}

function queryFacts(ws: Workspace, f: FlowFunction): QueryFact[] {
  const out: QueryFact[] = [];
  const locals = f.model.localAssignments(f.fn.body);
  for (const call of descendantsInScope(f.fn.body, 'call')) {
    const found = queryStart(ws, f.model, call);
    if (!found) continue;
    const chain = chainTop(call);
    const holders = holderNames(locals, [chain]);
    const filters: FilterInfo[] = [];
    // Filters on the chain itself and on later statements that extend a holder (`stmt = stmt.where(...)`).
    const filterCalls = [...chainCalls(chain), ...extensionCalls(f.fn.body, holders)];
    if (found.kind === 'classmethod' || found.kind === 'objects') filterCalls.push(call);
    for (const fc of filterCalls) filters.push(...filtersOf(ws, f, fc, found.owned));
    const ownerFilter = filters.find((x) => x.isOwner && x.isIdentity) ?? filters.find((x) => x.isOwner);
    // A query handed to a helper together with the identity (`scoped(select(Task), user)`) is scoped there.
    const scopedByHelper = helperScopes(f, chain, holders);
    out.push({
      kind: found.kind,
      node: call,
      chain,
      model: found.owned,
      modelNode: found.modelNode,
      filters,
      ownerBound: filters.some((x) => x.isOwner && x.isIdentity) || scopedByHelper,
      ownerFilter,
      idFilter: filters.find((x) => x.isId && x.model?.qualified === found.owned.qualified) ?? filters.find((x) => x.isId),
      parentFilter: filters.find((x) => !x.isId && !x.isOwner && !!x.value && !isLiteralValue(x.value) && keysOwnedParent(ws, x)),
      executed: isExecuted(f.fn.body, chain, holders, found.kind),
      regionGuarded: inAdminRegion(f.fn, call),
      holders,
    });
  }
  // `select(Task).where(...).where(...)`: only the innermost start counts once.
  return out.filter((q) => !out.some((o) => o !== q && o.node.id !== q.node.id && contains(q.node, o.node) && o.chain.id === q.chain.id));
}

function queryStart(ws: Workspace, model: ModuleModel, call: Node): { kind: QueryKind; owned: OwnedModel; modelNode: Node } | undefined {
  const fn = call.childForFieldName('function');
  if (!fn) return undefined;
  const callee = model.callee(call) ?? '';
  const args = callArguments(call);
  if (SELECT_CALLEES.test(callee)) {
    for (const a of args.positional) {
      const m = ownedModelOf(ws, model, a);
      if (m) return { kind: 'select', owned: m.owned, modelNode: m.node };
    }
    // `select(func.count()).select_from(Task)`.
    for (const c of chainCalls(chainTop(call))) {
      if (c.childForFieldName('function')?.childForFieldName('attribute')?.text !== 'select_from') continue;
      const m = ownedModelOf(ws, model, callArguments(c).positional[0]);
      if (m) return { kind: 'select', owned: m.owned, modelNode: m.node };
    }
    return undefined;
  }
  if (DELETE_CALLEES.test(callee) || UPDATE_CALLEES.test(callee)) {
    const m = ownedModelOf(ws, model, args.positional[0]);
    return m ? { kind: DELETE_CALLEES.test(callee) ? 'delete' : 'update', owned: m.owned, modelNode: m.node } : undefined;
  }
  if (fn.type !== 'attribute') return undefined;
  const method = fn.childForFieldName('attribute')?.text ?? '';
  const object = fn.childForFieldName('object');
  if (method === 'query' && args.positional.length > 0) {
    for (const a of args.positional) {
      const m = ownedModelOf(ws, model, a);
      if (m) return { kind: 'query', owned: m.owned, modelNode: m.node };
    }
    return undefined;
  }
  if (CLASS_QUERY_METHODS.has(method) && object && (object.type === 'identifier' || object.type === 'attribute')) {
    const owned = ownedModelByName(ws, model.resolve(object));
    if (owned) return { kind: 'classmethod', owned, modelNode: object };
    // `Task.objects.filter(...)`.
    if (object.type === 'attribute' && object.childForFieldName('attribute')?.text === 'objects') {
      const base = object.childForFieldName('object');
      const o = ownedModelByName(ws, model.resolve(base));
      if (o && base) return { kind: 'objects', owned: o, modelNode: base };
    }
  }
  return undefined;
}

/** Climbs `x.where(...).order_by(...)` / `await ...` to the outermost call of the chain. */
function chainTop(call: Node): Node {
  let top = call;
  for (;;) {
    const parent = top.parent;
    if (parent?.type === 'attribute' && parent.childForFieldName('object')?.id === top.id && parent.parent?.type === 'call' && parent.parent.childForFieldName('function')?.id === parent.id) {
      top = parent.parent;
      continue;
    }
    break;
  }
  return top;
}

/** The method calls along a chain (`a.where(x).filter(y)` -> the where and filter calls), outermost first. */
function chainCalls(top: Node): Node[] {
  const out: Node[] = [];
  let n: Node | null = top;
  while (n && n.type === 'call') {
    out.push(n);
    const fn: Node | null = n.childForFieldName('function');
    n = fn?.type === 'attribute' ? fn.childForFieldName('object') : null;
    while (n && (n.type === 'parenthesized_expression' || n.type === 'await')) n = children(n)[0] ?? null;
  }
  return out;
}

/** Calls in `scope` that extend a holder: `stmt.where(...)`, `query.filter(...)`. */
function extensionCalls(scope: Node, holders: Set<string>): Node[] {
  if (holders.size === 0) return [];
  const out: Node[] = [];
  for (const call of descendantsInScope(scope, 'call')) {
    const calls = chainCalls(call);
    const last = calls[calls.length - 1];
    const root = last?.childForFieldName('function')?.childForFieldName('object');
    if (root?.type === 'identifier' && holders.has(root.text)) out.push(call);
  }
  return out;
}

/**
 * Local names that hold `nodes` or values derived from them (`stmt = select(...)`, `result = session.exec(stmt)`,
 * `tasks = result.all()`), to a fixpoint.
 */
function holderNames(locals: Map<string, Node[]>, nodes: Node[]): Set<string> {
  const held = new Set<string>();
  for (const [name, values] of locals) if (values.some((v) => nodes.some((n) => contains(v, n)))) held.add(name);
  for (let changed = true, i = 0; changed && i < 6; i++) {
    changed = false;
    for (const [name, values] of locals) {
      if (held.has(name)) continue;
      if (values.some((v) => referencesAny(v, held))) {
        held.add(name);
        changed = true;
      }
    }
  }
  return held;
}

function referencesAny(node: Node, names: Set<string>): boolean {
  if (names.size === 0) return false;
  // A name that is not in the text is not referenced: the common case, without visiting the nodes.
  const text = node.text;
  if (![...names].some((n) => text.includes(n))) return false;
  let found = false;
  walk(node, (n) => {
    if (found) return false;
    if (n.type === 'identifier' && names.has(n.text)) {
      // `stmt` in `x.stmt` is an attribute name, not the local.
      const p = n.parent;
      if (!(p?.type === 'attribute' && p.childForFieldName('attribute')?.id === n.id) && !(p?.type === 'keyword_argument' && p.childForFieldName('name')?.id === n.id)) found = true;
    }
    if (n.type === 'lambda' || n.type === 'function_definition') return false;
    return undefined;
  });
  return found;
}

function filtersOf(ws: Workspace, f: FlowFunction, call: Node, queryModel: OwnedModel): FilterInfo[] {
  const out: FilterInfo[] = [];
  const method = call.childForFieldName('function')?.childForFieldName('attribute')?.text ?? '';
  const args = callArguments(call);
  const isClassQuery = call.childForFieldName('function')?.type === 'attribute' && !!ownedModelByName(ws, f.model.resolve(call.childForFieldName('function')?.childForFieldName('object')));
  // Keyword filters: `filter_by(user_id=uid)`, Tortoise/Django `filter(owner=user)`, `get(id=task_id)`.
  if (method === 'filter_by' || isClassQuery || method === 'filter' || method === 'get' || method === 'get_or_none' || method === 'exclude') {
    for (const [name, value] of args.keywords) {
      const column = name.replace(/__(id|exact|eq)$/, (m) => (m === '__id' ? '_id' : '')).replace(/_id_id$/, '_id');
      out.push(classify(ws, f, args.keywordNodes.get(name)!, column, queryModel, value));
    }
  }
  // Legacy `session.query(Task).get(task_id)` and Beanie `Task.get(id)`: a positional id.
  if ((method === 'get' || method === 'get_or_none') && args.positional.length === 1 && args.keywords.size === 0) {
    out.push({ node: call, column: 'id', model: queryModel, value: args.positional[0], isOwner: false, isId: true, isIdentity: false });
  }
  if (!FILTER_METHODS.has(method) && !isClassQuery) return out;
  for (const arg of args.positional) {
    walk(arg, (n) => {
      if (n.type === 'comparison_operator') {
        const ops = children(n);
        if (ops.length === 2 && /==|\bis\b/.test(n.text.slice(ops[0].endIndex - n.startIndex, ops[1].startIndex - n.startIndex))) {
          const [a, b] = ops;
          const colA = columnOf(ws, f.model, a);
          const colB = columnOf(ws, f.model, b);
          if (colA) out.push(classify(ws, f, n, colA.column, colA.model, b));
          else if (colB) out.push(classify(ws, f, n, colB.column, colB.model, a));
        }
        return false;
      }
      // `Task.user_id.is_(uid)`, `Task.user_id.in_([...])`, `Task.owner.has(id=uid)`.
      if (n.type === 'call') {
        const fn = n.childForFieldName('function');
        const m = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : undefined;
        if (m && /^(is_|in_|has|any|contains|__eq__)$/.test(m)) {
          const col = columnOf(ws, f.model, fn!.childForFieldName('object')!);
          const a = callArguments(n);
          const value = a.positional[0] ?? [...a.keywords.values()][0];
          if (col) out.push(classify(ws, f, n, col.column, col.model, value));
          return false;
        }
      }
      return undefined;
    });
  }
  return out;
}

/** `Task.user_id` -> (Task, user_id) when Task is an owned model. */
function columnOf(ws: Workspace, model: ModuleModel, node: Node): { column: string; model: OwnedModel } | undefined {
  if (node.type !== 'attribute') return undefined;
  const object = node.childForFieldName('object');
  const owned = ownedModelByName(ws, model.resolve(object));
  const column = node.childForFieldName('attribute')?.text;
  if (owned && column) return { column, model: owned };
  // `Task.owner.id == uid`: the relationship's key.
  if (object?.type === 'attribute') {
    const inner = columnOf(ws, model, object);
    if (inner && inner.model.ownerRelationships.includes(inner.column)) return inner;
  }
  return undefined;
}

function classify(ws: Workspace, f: FlowFunction, node: Node, column: string, model: OwnedModel | undefined, value: Node | undefined): FilterInfo {
  const isOwner = !!model && (model.ownerColumns.includes(column) || model.ownerRelationships.includes(column));
  const isId = !!model && idColumns(ws, model).has(column);
  return { node, column, model, value, isOwner, isId, isIdentity: !!value && f.identity.isIdentityExpression(value) };
}

/** The filtered column is a foreign key to another owned model (`Comment.post_id` -> `Post`, which has an owner). */
function keysOwnedParent(ws: Workspace, filter: FilterInfo): boolean {
  if (!filter.model) return false;
  const field = modelClassByName(ws, filter.model.qualified)?.fields.get(filter.column);
  const text = `${field?.annotation?.text ?? ''} ${field?.value?.text ?? ''}`;
  const m = /foreign_key\s*=\s*["']([\w.]+)\.\w+["']|ForeignKey\(\s*["']([\w.]+)\.\w+["']|ForeignKey\(\s*(\w+)\.\w+|ForeignKeyField\(\s*["'](?:\w+\.)?(\w+)["']/.exec(text);
  const target = (m?.[1] ?? m?.[2] ?? m?.[3] ?? m?.[4])?.toLowerCase();
  if (!target) return false;
  return ownedModels(ws).some((o) => o.qualified !== filter.model!.qualified && (o.name.toLowerCase() === target || o.tableName?.toLowerCase() === target));
}

function isLiteralValue(node: Node): boolean {
  return /^(string|integer|float|true|false|none)$/.test(node.type);
}

/** Primary-key columns of a model: `id`, or fields declared with `primary_key=True` / `pk=True`. */
export function idColumns(ws: Workspace, owned: OwnedModel): Set<string> {
  const out = new Set<string>();
  const cls = modelClassByName(ws, owned.qualified);
  for (const field of cls?.fields.values() ?? []) {
    if (/primary_key\s*=\s*True|\bpk\s*=\s*True/.test(field.value?.text ?? '')) out.add(field.name);
  }
  if (out.size === 0) out.add('id');
  return out;
}

function helperScopes(f: FlowFunction, chain: Node, holders: Set<string>): boolean {
  for (const call of descendantsInScope(f.fn.body, 'call')) {
    const args = callArguments(call);
    const all = [...args.positional, ...args.keywords.values()];
    const carriesQuery = all.some((a) => contains(a, chain) || (a.type === 'identifier' && holders.has(a.text)));
    if (!carriesQuery) continue;
    const name = call.childForFieldName('function')?.text ?? '';
    if (/\b(exec|execute|scalars?|paginate|get|all|first|one)$/.test(name)) continue;
    if (all.some((a) => f.identity.isIdentityExpression(a))) return true;
  }
  return false;
}

function isExecuted(scope: Node, chain: Node, holders: Set<string>, kind: QueryKind): boolean {
  if (kind === 'classmethod' || kind === 'objects') return true;
  const calls = chainCalls(chain);
  if (calls.some((c) => TERMINAL.test(c.childForFieldName('function')?.childForFieldName('attribute')?.text ?? ''))) return true;
  const p = chain.parent;
  if (p && (p.type === 'argument_list' || p.type === 'return_statement' || p.type === 'await' || p.type === 'keyword_argument')) return true;
  if (holders.size === 0) return false;
  for (const n of descendantsOf(scope, 'identifier')) {
    if (!holders.has(n.text)) continue;
    const parent = n.parent;
    if (parent?.type === 'argument_list' || parent?.type === 'return_statement' || parent?.type === 'keyword_argument') return true;
    if (parent?.type === 'attribute' && parent.childForFieldName('object')?.id === n.id) return true;
  }
  return false;
}

// ---- loads by id ----------------------------------------------------------------------------------------

/** The loads of a flow function, with their checks and uses there; `returned`: the function hands the object back. */
function loadsIn(ws: Workspace, f: FlowFunction, queries: QueryInfo[]): { load: LoadInfo; returned: boolean }[] {
  return factsOf(ws, f).loads(() => loadFacts(ws, f, queries)).map((l) => ({
    returned: l.returned,
    load: {
      node: l.node,
      model: l.model,
      idValue: l.idValue,
      where: f,
      query: l.queryIndex === undefined ? undefined : queries[l.queryIndex],
      ownerBound: l.ownerBound,
      ownerFiltered: l.ownerFiltered,
      adminGuarded: f.adminGuarded || l.regionGuarded,
      holders: [{ where: f, names: l.names, statement: l.statement }],
      check: l.check,
      uses: [...l.ownUses, ...l.uses].map((u) => ({ ...u, where: f })),
    },
  }));
}

function loadFacts(ws: Workspace, f: FlowFunction, queries: QueryInfo[]): LoadFact[] {
  const out: LoadFact[] = [];
  const locals = f.model.localAssignments(f.fn.body);
  const add = (load: Omit<LoadFact, 'check' | 'uses' | 'returned'>) => out.push({ ...load, ...holding(ws, f, load.names, load.node) });
  // `session.get(Task, task_id)`, `await db.get(Task, id)`, `session.get_one(...)`.
  for (const call of descendantsInScope(f.fn.body, 'call')) {
    const fn = call.childForFieldName('function');
    const method = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : undefined;
    if (method !== 'get' && method !== 'get_one') continue;
    const args = callArguments(call);
    const entity = args.positional[0] ?? args.keywords.get('entity');
    const owned = entity ? ownedModelByName(ws, f.model.resolve(entity)) : undefined;
    if (!owned) continue;
    add({
      node: call,
      model: owned,
      idValue: args.positional[1] ?? args.keywords.get('ident'),
      ownerBound: false,
      ownerFiltered: false,
      regionGuarded: inAdminRegion(f.fn, call),
      names: holderNames(locals, [call]),
      statement: enclosingStatementIn(call, f.fn.body),
      ownUses: [],
    });
  }
  queries.forEach((q, queryIndex) => {
    if (!q.idFilter) return;
    add({
      node: q.chain,
      model: q.model,
      idValue: q.idFilter.value,
      queryIndex,
      ownerBound: q.ownerBound,
      ownerFiltered: !!q.ownerFilter,
      regionGuarded: inAdminRegion(f.fn, q.node),
      names: q.holders,
      statement: enclosingStatementIn(q.chain, f.fn.body),
      ownUses: q.kind === 'delete' || q.kind === 'update' ? [{ kind: q.kind === 'delete' ? 'delete' : 'write', node: q.chain }] : [],
    });
  });
  return out;
}

function enclosingStatementIn(node: Node, body: Node): Node {
  let n = node;
  while (n.parent && n.parent.id !== body.id && n.parent.type !== 'block') n = n.parent;
  return n;
}

/**
 * What `f` does with the object held in `names` (or produced by `direct`, the load itself): the ownership check, the
 * uses, and whether it returns the object to its caller.
 */
function holding(ws: Workspace, f: FlowFunction, names: Set<string>, direct?: Node): { check?: Node; uses: Omit<ObjectUse, 'where'>[]; returned: boolean } {
  return {
    check: ownershipCheck(ws, f, names, direct),
    uses: usesOf(f, names, direct).map(({ where: _where, ...use }) => use),
    returned: descendantsInScope(f.fn.body, 'return_statement').some((r) => (direct && contains(r, direct)) || referencesAny(r, names)),
  };
}

/**
 * Follows a loaded object from the function that loads it (`returned`: that function returns it) into each caller
 * it is returned to (the call site's holders), up to the handler: their checks and uses.
 */
function followLoad(ws: Workspace, load: LoadInfo, returned: boolean): void {
  let holder = load.holders[0];
  for (let hops = 0; ; ) {
    const f = holder.where;
    const caller = f.parent;
    if (!returned || !caller || !f.callSite) break;
    let names: Set<string>;
    let statement: Node;
    if (f.dependencyParam) {
      names = new Set([f.dependencyParam]);
      statement = f.callSite;
    } else {
      names = holderNames(caller.model.localAssignments(caller.fn.body), [f.callSite]);
      statement = enclosingStatementIn(f.callSite, caller.fn.body);
    }
    // A direct `return crud.get_task(...)` in the caller is a use there too.
    const next: Holder = { where: caller, names, statement };
    load.holders.push(next);
    if (!f.dependencyParam && f.callSite.parent && enclosingReturn(f.callSite, caller.fn.body)) {
      load.uses.push({ kind: 'return', node: enclosingReturn(f.callSite, caller.fn.body)!, where: caller });
    }
    holder = next;
    if (++hops > MAX_DEPTH) break;
    const there = holding(ws, caller, names);
    if (there.check) load.check ??= there.check;
    load.uses.push(...there.uses.map((u) => ({ ...u, where: caller })));
    returned = there.returned;
  }
}

function enclosingReturn(node: Node, body: Node): Node | undefined {
  for (let n: Node | null = node.parent; n && n.id !== body.id; n = n.parent) if (n.type === 'return_statement') return n;
  return undefined;
}

/** An `if` comparing the object's owner with the identity and raising, or a helper given both that raises. */
function ownershipCheck(ws: Workspace, f: FlowFunction, names: Set<string>, direct?: Node): Node | undefined {
  const objectNames = [...names];
  // The object itself or one of its attributes: `task.user_id != uid`, `task not in current_user.tasks`.
  const mentionsOwner = (n: Node): boolean => {
    let hit = false;
    walk(n, (x) => {
      if (hit) return false;
      if (x.type === 'identifier' && names.has(x.text)) {
        const p = x.parent;
        if (!(p?.type === 'attribute' && p.childForFieldName('attribute')?.id === x.id)) hit = true;
      } else if (x.type === 'attribute') {
        const base = dottedName(x.childForFieldName('object'));
        if (base && (names.has(base) || objectNames.some((o) => base.startsWith(`${o}.`)))) hit = true;
      }
      return undefined;
    });
    return hit;
  };
  const mentionsIdentity = (n: Node): boolean => {
    let hit = false;
    walk(n, (x) => {
      if (hit) return false;
      if (f.identity.isIdentityExpression(x)) hit = true;
      return undefined;
    });
    return hit;
  };
  for (const stmt of descendantsInScope(f.fn.body, ['if_statement', 'assert_statement'])) {
    if (direct && stmt.endIndex < direct.startIndex) continue;
    const cond = stmt.type === 'if_statement' ? stmt.childForFieldName('condition') : children(stmt)[0];
    if (!cond || !mentionsOwner(cond) || !mentionsIdentity(cond)) continue;
    if (stmt.type === 'assert_statement') return stmt;
    const body = stmt.childForFieldName('consequence');
    if (body && refuses(ws, f, body)) return stmt;
  }
  for (const call of descendantsInScope(f.fn.body, 'call')) {
    if (direct && call.endIndex < direct.startIndex) continue;
    const args = callArguments(call);
    const all = [...args.positional, ...args.keywords.values()];
    if (!all.some((a) => a.type === 'identifier' && names.has(a.text)) || !all.some((a) => f.identity.isIdentityExpression(a) || mentionsIdentity(a))) continue;
    const target = resolveCallTarget(ws, f.file, f.model, call);
    if (target && descendantsInScope(target.fn.body, 'raise_statement').length > 0) return call;
    const name = call.childForFieldName('function')?.text ?? '';
    if (!target && /(check|verify|ensure|assert|authori[sz]e|require|permission|owner|can_)/i.test(name)) return call;
  }
  return undefined;
}

/** A block that ends the request: a `raise`, an error response, or a call to a helper that raises (`raise_not_found()`). */
export function refuses(ws: Workspace, f: FlowFunction, block: Node): boolean {
  if (descendantsInScope(block, 'raise_statement').length > 0) return true;
  if (/status_code\s*=\s*(40[134]|status\.HTTP_40[134])/.test(block.text)) return true;
  for (const call of descendantsInScope(block, 'call')) {
    const target = resolveCallTarget(ws, f.file, f.model, call);
    if (target ? descendantsInScope(target.fn.body, 'raise_statement').length > 0 : /(^|[._])(raise|abort|forbid|deny|not_found|forbidden)\w*$/i.test(call.childForFieldName('function')?.text ?? '')) return true;
  }
  return false;
}

function usesOf(f: FlowFunction, names: Set<string>, direct?: Node): ObjectUse[] {
  const out: ObjectUse[] = [];
  if (direct) {
    const r = enclosingReturn(direct, f.fn.body);
    if (r) out.push({ kind: 'return', node: r, where: f });
  }
  if (names.size === 0) return out;
  for (const r of descendantsInScope(f.fn.body, 'return_statement')) {
    if (referencesAny(r, names)) out.push({ kind: 'return', node: r, where: f });
  }
  for (const n of descendantsInScope(f.fn.body, ['assignment', 'augmented_assignment', 'call', 'delete_statement'])) {
    if (n.type === 'assignment' || n.type === 'augmented_assignment') {
      const left = n.childForFieldName('left');
      const base = left?.type === 'attribute' ? dottedName(left.childForFieldName('object')) : undefined;
      if (base && names.has(base)) out.push({ kind: 'write', node: n, where: f });
      continue;
    }
    if (n.type === 'delete_statement') continue;
    const fn = n.childForFieldName('function');
    const method = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : fn?.text;
    const args = callArguments(n);
    const first = args.positional[0];
    const objectName = fn?.type === 'attribute' ? dottedName(fn.childForFieldName('object')) : undefined;
    if ((method === 'delete' || method === 'remove') && first?.type === 'identifier' && names.has(first.text)) out.push({ kind: 'delete', node: n, where: f });
    else if (method === 'delete' && objectName && names.has(objectName)) out.push({ kind: 'delete', node: n, where: f });
    else if (method === 'setattr' && first?.type === 'identifier' && names.has(first.text)) out.push({ kind: 'write', node: n, where: f });
    else if (/^(sqlmodel_update|update|update_from_dict|save|set)$/.test(method ?? '') && objectName && names.has(objectName)) out.push({ kind: 'write', node: n, where: f });
    else if ((method === 'add' || method === 'merge') && first?.type === 'identifier' && names.has(first.text)) out.push({ kind: 'write', node: n, where: f });
  }
  return out;
}

// ---- writes and references -----------------------------------------------------------------------------

function writesIn(ws: Workspace, f: FlowFunction): WriteInfo[] {
  // The writes depend on the function only; every route reaching a helper asks again.
  const cache = ws.memo('iso:writes', () => new Map<string, Omit<WriteInfo, 'where'>[]>());
  const key = `${f.file}:${f.fn.body.startIndex}`;
  let writes = cache.get(key);
  if (!writes) cache.set(key, (writes = writesOf(ws, f.model, f.fn.body)));
  return writes.map((w) => ({ ...w, where: f }));
}

function writesOf(ws: Workspace, model: ModuleModel, body: Node): Omit<WriteInfo, 'where'>[] {
  const out: Omit<WriteInfo, 'where'>[] = [];
  for (const n of descendantsInScope(body, ['call', 'assignment'])) {
    if (n.type === 'assignment') {
      const left = n.childForFieldName('left');
      if (left?.type === 'attribute') out.push({ kind: 'attribute', node: n, target: dottedName(left.childForFieldName('object')) });
      continue;
    }
    const fn = n.childForFieldName('function');
    const args = callArguments(n);
    const first = args.positional[0];
    if (fn?.type === 'identifier' && fn.text === 'setattr') {
      out.push({ kind: 'setattr', node: n, target: dottedName(first) });
      continue;
    }
    if (fn?.type !== 'attribute') {
      const owned = ownedModelByName(ws, model.resolve(fn));
      if (owned) out.push({ kind: 'create', node: n, model: owned });
      continue;
    }
    const method = fn.childForFieldName('attribute')?.text ?? '';
    const object = fn.childForFieldName('object');
    const ownedObject = ownedModelByName(ws, model.resolve(object));
    switch (method) {
      case 'add':
      case 'add_all':
      case 'merge':
        out.push({ kind: 'add', node: n, target: dottedName(first) });
        break;
      case 'delete':
        out.push({ kind: 'delete', node: n, target: dottedName(first) ?? dottedName(object) });
        break;
      case 'commit':
        out.push({ kind: 'commit', node: n });
        break;
      case 'sqlmodel_update':
        out.push({ kind: 'sqlmodel_update', node: n, target: dottedName(object) });
        break;
      case 'model_validate':
      case 'from_orm':
      case 'parse_obj':
        if (ownedObject) out.push({ kind: 'model_validate', node: n, model: ownedObject });
        break;
      case 'create':
        if (ownedObject) out.push({ kind: 'create', node: n, model: ownedObject });
        break;
      case 'update':
      case 'update_from_dict':
        out.push({ kind: 'update', node: n, target: dottedName(object), model: ownedObject });
        break;
      case 'save':
        out.push({ kind: 'save', node: n, target: dottedName(object) });
        break;
    }
  }
  return out;
}

function ownedReferences(ws: Workspace, f: FlowFunction): { model: OwnedModel; node: Node; where: FlowFunction }[] {
  // Most functions name no owned model at all; a text check avoids resolving every identifier.
  const names = ws.memo('iso:owned-names', () => ownedModels(ws).map((m) => m.name));
  const text = f.fn.body.text;
  if (!names.some((n) => text.includes(n))) return [];
  // The references depend on the function only; every route reaching a helper asks again.
  const cache = ws.memo('iso:owned-references', () => new Map<string, { model: OwnedModel; node: Node }[]>());
  const key = `${f.file}:${f.fn.body.startIndex}`;
  let refs = cache.get(key);
  if (!refs) cache.set(key, (refs = ownedReferencesIn(ws, f.model, f.fn.body)));
  return refs.map((r) => ({ ...r, where: f }));
}

/** Names and dotted names resolving to an owned model, outermost first, outside nested definitions. */
function ownedReferencesIn(ws: Workspace, model: ModuleModel, body: Node): { model: OwnedModel; node: Node }[] {
  const out: { model: OwnedModel; node: Node }[] = [];
  let skipUntil = -1;
  for (const n of descendantsInBody(body, ['identifier', 'attribute'])) {
    // Inside a reference already found: its parts are not references of their own.
    if (n.startIndex < skipUntil) continue;
    const p = n.parent;
    // `user_id` in `task.user_id` is an attribute name, not a reference.
    if (p?.type === 'attribute' && p.childForFieldName('attribute')?.id === n.id) continue;
    const owned = ownedModelByName(ws, model.resolve(n));
    if (owned) {
      out.push({ model: owned, node: n });
      skipUntil = n.endIndex;
    }
  }
  return out;
}
