/**
 * The authenticated identity inside a route handler (or a helper it calls): which names and expressions hold it
 * (`current_user`, `current_user.id`, `user_id` from an identity dependency, `payload["sub"]`, locals assigned from
 * them, `request.state.user` set by an auth middleware, a client value that the code compared to the identity and
 * rejected on mismatch), and why a route has none in scope. Knows nothing of queries or rules.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel, ParamInfo } from '../python/module-model';
import type { Workspace } from './workspace';
import type { Route } from './app-graph';
import { authMiddlewares, functionVerdict, paramDependency, routeAuth, type RouteAuth } from './auth';
import { jwtCallsIn } from '../python/jwt-libs';
import { lookup, lookupCallable, resolveCallTarget } from './symbols';
import { children, descendantsInScope, dottedName, stringValue } from '../python/syntax';

/** `object`: a user object (`current_user`); `id`: the user id itself; `payload`: verified claims (`payload["sub"]`). */
export type IdentityKind = 'object' | 'id' | 'payload';

export interface IdentityInfo {
  /** Names (or dotted paths such as `request.state.user`) that hold the identity, with their kind. */
  names: Map<string, IdentityKind>;
  /** Client values the code compared with the identity and rejected on mismatch (name -> the `if` statement). */
  verified: Map<string, Node>;
  /** The expression to compare an owner column with, as source text (`current_user.id`, `user_id`, `payload["sub"]`). */
  idExpression?: string;
  /** The expression that holds the user object, when one is in scope (for relationship comparisons). */
  objectExpression?: string;
  /** True when `node` evaluates to the authenticated identity (or the user's id). */
  isIdentityExpression(node: Node | null | undefined): boolean;
  /** Why no identity is in scope although the route is authenticated (dependencies=[...] or a middleware). */
  noIdentityReason?: string;
  auth?: RouteAuth;
}

const ID_ATTRS = new Set(['id', 'user_id', 'uid', 'pk', 'sub', 'uuid', 'userId', 'user_uuid', 'account_id', 'tenant_id', 'owner_id']);
const ID_KEYS = new Set(['sub', 'user_id', 'uid', 'id', 'userId']);
const WRAPPERS = /^(str|int|uuid\.UUID|UUID|UUID4|ObjectId|PydanticObjectId)$/;

/** The identity in a route's handler, memoized per route. */
export function identityExpressions(ws: Workspace, route: Route): IdentityInfo {
  const cache = ws.memo('iso:identity', () => new Map<Route, IdentityInfo>());
  const hit = cache.get(route);
  if (hit) return hit;
  const info = computeRouteIdentity(ws, route);
  cache.set(route, info);
  return info;
}

function computeRouteIdentity(ws: Workspace, route: Route): IdentityInfo {
  const auth = routeAuth(ws, route);
  const model = ws.model(route.file);
  const seed = new Map<string, IdentityKind>();
  let reason: string | undefined;
  if (model) {
    for (const name of auth.identityParams) {
      const p = route.handler.params.find((x) => x.name === name);
      if (p) seed.set(name, paramKind(ws, model, p));
    }
  }
  if (auth.via === 'handler' && model) seedFromHandlerVerification(ws, route, model, seed);
  if (auth.authenticated && seed.size === 0) {
    if (auth.via === 'handler') {
      reason = `the handler verifies the token itself but keeps no identity from it`;
    } else if (auth.via === 'middleware') {
      const mw = authMiddlewares(ws).find((m) => m.qualified === auth.dependency?.qualified);
      const request = route.handler.params.find((p) => /\b(Request|WebSocket|HTTPConnection)\b/.test(p.annotation?.text ?? ''))?.name;
      const stateAttrs = mw ? stateAttributes(mw.node) : [];
      if (request && stateAttrs.length) {
        for (const attr of stateAttrs) seed.set(`${request}.state.${attr}`, /(^|_)(id|sub)$/.test(attr) ? 'id' : /payload|claims/.test(attr) ? 'payload' : 'object');
      } else {
        reason = stateAttrs.length
          ? `the route is authenticated by middleware \`${short(auth.dependency?.qualified)}\` but does not read \`request.state\``
          : `the route is authenticated by middleware \`${short(auth.dependency?.qualified)}\`, which puts no identity in scope`;
      }
    } else {
      reason = `the route is authenticated only through \`dependencies=[...]\` (${auth.via} level, \`${short(auth.dependency?.qualified)}\`), whose value FastAPI discards, so no identity is in scope`;
    }
  }
  const info = scopeIdentity(model, route.handler, seed, ws, route.file);
  info.auth = auth;
  info.noIdentityReason = reason;
  return info;
}

/** `payload = jwt.decode(...)` / `user_id = verify_token(token)` in a handler that verifies the token itself. */
function seedFromHandlerVerification(ws: Workspace, route: Route, model: ModuleModel, seed: Map<string, IdentityKind>): void {
  for (const [name, values] of model.localAssignments(route.handler.body)) {
    if (values.length !== 1) continue;
    const v = unwrap(values[0]);
    if (v.type !== 'call') continue;
    if (jwtCallsIn(model, values[0]).some((c) => c.kind === 'decode' && c.call.id === v.id)) {
      seed.set(name, 'payload');
      continue;
    }
    const target = resolveCallTarget(ws, route.file, model, v);
    if (target && functionVerdict(ws, target) === 'closed') seed.set(name, /(^|_)(id|sub)$/.test(name) ? 'id' : /payload|claims/.test(name) ? 'payload' : 'object');
  }
}

function short(q: string | undefined): string {
  if (!q) return '?';
  const parts = q.replace(/\(\)$/, '').split('.');
  return parts[parts.length - 1] === '__call__' || parts[parts.length - 1] === 'dispatch' ? parts.slice(-2).join('.') : parts[parts.length - 1];
}

/** Attributes an auth middleware sets on `request.state` (`request.state.user = ...`). */
function stateAttributes(fnNode: Node): string[] {
  const out: string[] = [];
  for (const a of fnNode.descendantsOfType('assignment')) {
    const left = a?.childForFieldName('left');
    const m = left ? /\.state\.(\w+)$/.exec(left.text) : null;
    if (m) out.push(m[1]);
  }
  return out;
}

/** The kind of value an identity parameter holds, from its annotation, its alias, or its dependency's return. */
export function paramKind(ws: Workspace, model: ModuleModel, p: ParamInfo): IdentityKind {
  let type = typeText(p.annotation);
  if (p.annotationAlias) {
    const def = lookup(ws, p.annotationAlias);
    if (def?.kind === 'assignment') type = typeText(def.assignment.value);
  }
  const fromType = kindOfType(type);
  if (fromType) return fromType;
  const dep = paramDependency(ws, model, p);
  const target = dep ? lookupCallable(ws, dep.qualified) : undefined;
  if (target) {
    const ret = target.fn.node.childForFieldName('return_type');
    const k = kindOfType(typeText(ret ?? undefined));
    if (k) return k;
    for (const r of descendantsInScope(target.fn.body, 'return_statement')) {
      const v = children(r)[0];
      if (!v) continue;
      const key = v.type === 'subscript' ? stringValue(v.childForFieldName('subscript')) : v.type === 'call' && /\.get$/.test(v.childForFieldName('function')?.text ?? '') ? stringValue(children(v.childForFieldName('arguments') ?? v)[0]) : undefined;
      if (key !== undefined && ID_KEYS.has(key)) return 'id';
      if (v.type === 'identifier' && /^(user_id|uid|sub|subject)$/.test(v.text)) return 'id';
      if (v.type === 'identifier' && /^(payload|claims|decoded|token_data)$/.test(v.text)) return 'payload';
    }
  }
  return 'object';
}

/** The type expression of an annotation; for `Annotated[T, ...]` the `T`. */
function typeText(node: Node | undefined | null): string | undefined {
  if (!node) return undefined;
  const t = node.text.replace(/\s+/g, '');
  const m = /^(?:typing\.)?Annotated\[(.+?),(?:Depends|Security|fastapi\.)/.exec(t);
  return m ? m[1] : t;
}

function kindOfType(t: string | undefined): IdentityKind | undefined {
  if (!t) return undefined;
  const inner = t.replace(/^(Optional\[|typing\.Optional\[)(.*)\]$/, '$2').replace(/\|None$/, '');
  if (/^(str|int|UUID|uuid\.UUID|UUID4|ObjectId)$/.test(inner)) return 'id';
  if (/^(dict|Dict(\[.*\])?|dict\[.*\]|Mapping(\[.*\])?|Any|typing\.Any)$/.test(inner) || /(Payload|Claims|TokenData)$/.test(inner)) return 'payload';
  // A class (`User`, `models.User`, `"User"`): a user object.
  if (/^["']?([\w]+\.)*[A-Z]\w*["']?$/.test(inner)) return 'object';
  return undefined;
}

/**
 * Builds the identity scope of a function from seed names (identity parameters, or a helper's parameters that
 * received the identity): follows local assignments and client values checked against the identity.
 */
export function scopeIdentity(model: ModuleModel | undefined, fn: FunctionInfo, seed: Map<string, IdentityKind>, ws?: Workspace, file?: string): IdentityInfo {
  const names = new Map(seed);
  const verified = new Map<string, Node>();
  const info: IdentityInfo = {
    names,
    verified,
    isIdentityExpression: (node) => isIdentity(node, names),
  };
  if (model && names.size) {
    const locals = model.localAssignments(fn.body);
    // Fixpoint over local assignments: `uid = current_user.id`, `user = current_user`, `sub = payload.get("sub")`.
    for (let changed = true, rounds = 0; changed && rounds < 5; rounds++) {
      changed = false;
      for (const [name, values] of locals) {
        if (names.has(name)) continue;
        // A name reassigned from something else is not reliably the identity.
        if (values.length !== 1) continue;
        const v = unwrap(values[0]);
        let kind: IdentityKind | undefined;
        if (v.type === 'identifier' && names.has(v.text)) kind = names.get(v.text);
        else if (isIdentity(v, names)) kind = 'id';
        else if (loadsUserByIdentity(v, names)) kind = 'object';
        if (kind) {
          names.set(name, kind);
          changed = true;
        }
      }
    }
    for (const stmt of descendantsInScope(fn.body, 'if_statement')) {
      const name = checkedClientValue(stmt, names);
      if (name && !names.has(name)) verified.set(name, stmt);
    }
    // `ensure_same_user(user_id, current_user.id)`: a helper given both values that raises on a mismatch.
    if (ws && file) {
      for (const stmt of descendantsInScope(fn.body, 'expression_statement')) {
        const call = unwrap(children(stmt)[0] ?? stmt);
        if (call.type !== 'call') continue;
        const name = checkingHelperArgument(ws, file, model, call, names);
        if (name && !names.has(name)) verified.set(name, stmt);
      }
    }
    for (const name of verified.keys()) names.set(name, 'id');
  }
  const first = [...seed.entries()][0] ?? [...names.entries()][0];
  if (first) {
    const [name, kind] = first;
    info.idExpression = kind === 'object' ? `${name}.id` : kind === 'payload' ? `${name}["sub"]` : name;
    if (kind === 'object') info.objectExpression = name;
  }
  return info;
}

function unwrap(node: Node): Node {
  let n = node;
  for (let i = 0; i < 6; i++) {
    if (n.type === 'await' || n.type === 'parenthesized_expression') {
      const c = children(n)[0];
      if (!c) break;
      n = c;
      continue;
    }
    if (n.type === 'call') {
      const callee = n.childForFieldName('function')?.text ?? '';
      const args = children(n.childForFieldName('arguments') ?? n);
      if (WRAPPERS.test(callee) && args.length === 1) {
        n = args[0];
        continue;
      }
    }
    break;
  }
  return n;
}

function isIdentity(node: Node | null | undefined, names: Map<string, IdentityKind>): boolean {
  if (!node) return false;
  const n = unwrap(node);
  const dotted = dottedName(n);
  if (dotted && names.has(dotted)) return true;
  if (n.type === 'attribute') {
    const object = n.childForFieldName('object');
    const attr = n.childForFieldName('attribute')?.text ?? '';
    const base = dottedName(object);
    const kind = base ? names.get(base) : undefined;
    if (kind && kind !== 'id' && ID_ATTRS.has(attr)) return true;
    return false;
  }
  if (n.type === 'subscript') {
    const base = dottedName(n.childForFieldName('value'));
    const key = stringValue(n.childForFieldName('subscript'));
    return !!base && names.get(base) === 'payload' && !!key && ID_KEYS.has(key);
  }
  if (n.type === 'call') {
    const fn = n.childForFieldName('function');
    if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'get') {
      const base = dottedName(fn.childForFieldName('object'));
      const key = stringValue(children(n.childForFieldName('arguments') ?? n)[0]);
      return !!base && names.get(base) === 'payload' && !!key && ID_KEYS.has(key);
    }
  }
  return false;
}

/** `user = await get_user(session, payload["sub"])`-style loads of the user row by the identity. */
function loadsUserByIdentity(node: Node, names: Map<string, IdentityKind>): boolean {
  const n = unwrap(node);
  if (n.type !== 'call') return false;
  const callee = n.childForFieldName('function')?.text ?? '';
  if (!/user/i.test(callee)) return false;
  return children(n.childForFieldName('arguments') ?? n).some((a) => isIdentity(a.type === 'keyword_argument' ? a.childForFieldName('value') : a, names));
}

/**
 * A call whose arguments are the identity and one client name, to a helper that compares its parameters and raises
 * (or, when the analysis cannot see the helper, one named like a check). Returns the client name.
 */
function checkingHelperArgument(ws: Workspace, file: string, model: ModuleModel, call: Node, names: Map<string, IdentityKind>): string | undefined {
  const args = children(call.childForFieldName('arguments') ?? call).map((a) => (a.type === 'keyword_argument' ? a.childForFieldName('value') : a)).filter((a): a is Node => !!a);
  if (args.length < 2 || !args.some((a) => isIdentity(a, names))) return undefined;
  const others = args.filter((a) => !isIdentity(a, names) && a.type === 'identifier');
  if (others.length !== 1) return undefined;
  const target = resolveCallTarget(ws, file, model, call);
  if (target) {
    const compares = descendantsInScope(target.fn.body, 'if_statement').some((stmt) => {
      const cond = stmt.childForFieldName('condition');
      const body = stmt.childForFieldName('consequence');
      return !!cond && !!body && /!=|is not|\bnot\b/.test(cond.text) && descendantsInScope(body, 'raise_statement').length > 0;
    });
    return compares ? others[0].text : undefined;
  }
  const name = call.childForFieldName('function')?.text ?? '';
  return /(check|verify|ensure|assert|authori[sz]e|require|same_user|match)/i.test(name) ? others[0].text : undefined;
}

/**
 * `if user_id != current_user.id: raise HTTPException(403)` (either order, `is not`, inside `or`/`and` with an admin
 * bypass): the client value named there equals the identity afterwards. Returns that name.
 */
function checkedClientValue(stmt: Node, names: Map<string, IdentityKind>): string | undefined {
  const cond = stmt.childForFieldName('condition');
  const body = stmt.childForFieldName('consequence');
  if (!cond || !body || descendantsInScope(body, 'raise_statement').length === 0) return undefined;
  for (const cmp of [cond, ...cond.descendantsOfType('comparison_operator')]) {
    if (!cmp || cmp.type !== 'comparison_operator') continue;
    if (!/!=|is not/.test(cmp.text)) continue;
    const operands = children(cmp);
    if (operands.length !== 2) continue;
    const [a, b] = operands;
    const other = isIdentity(a, names) ? unwrap(b) : isIdentity(b, names) ? unwrap(a) : undefined;
    const name = dottedName(other);
    if (name) return name;
  }
  return undefined;
}
