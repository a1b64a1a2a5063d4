/**
 * Role checks ("admin guards"): code that lets a request through only when the caller holds a privilege
 * (`if not current_user.is_superuser: raise HTTPException(403)`, `if user.role != "admin": raise`,
 * `Security(get_user, scopes=["admin"])`, a `require_role("admin")` dependency factory), found in a route's
 * dependencies (parameters, decorator, router, include chain, app), in its handler and in helpers the handler calls,
 * across files. Also which role-check dependency the workspace uses, for fixes that add one.
 * Knows nothing of rules or messages; does not decide what a privilege is beyond the names in client-input.ts.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Range } from '../core/types';
import type { Workspace } from './workspace';
import type { Route } from './app-graph';
import { routes } from './app-graph';
import { authMiddlewares, importPathFor, paramDependency, routeAuth } from './auth';
import { lookupCallable, resolveCallTarget } from './symbols';
import { isPrivilegeName } from './client-input';
import { callArguments, children, descendantsInScope, rangeOf, stringValue, walk } from '../python/syntax';

export interface RoleCheck {
  /** Where the check is: a dependency of the route, or a statement of the handler (or of a helper it calls). */
  kind: 'dependency' | 'handler';
  file: string;
  range: Range;
  /** What the check is, in words: "`get_current_active_superuser`", "`if not current_user.is_superuser`". */
  description: string;
  /** For handler checks: the statement, so callers can compare positions. */
  node?: Node;
}

const MAX_DEPTH = 4;
const PRIVILEGE_WORDS = /^(admin|administrator|superuser|super_user|staff|owner|root|moderator)$/i;

/** True when the condition of an `if` reads a privilege: `.is_superuser`, `["role"]`, `.get("roles")`, `"admin" in`. */
export function mentionsPrivilege(condition: Node): boolean {
  let found = false;
  walk(condition, (n) => {
    if (found) return false;
    if (n.type === 'attribute' && isPrivilegeName(n.childForFieldName('attribute')?.text ?? '')) found = true;
    else if (n.type === 'subscript' && isPrivilegeName(stringValue(n.childForFieldName('subscript')) ?? '')) found = true;
    else if (n.type === 'call' && n.childForFieldName('function')?.type === 'attribute' && n.childForFieldName('function')?.childForFieldName('attribute')?.text === 'get') {
      if (isPrivilegeName(stringValue(callArguments(n).positional[0]) ?? '')) found = true;
    } else if (n.type === 'string' && PRIVILEGE_WORDS.test(stringValue(n) ?? '')) found = true;
    else if (n.type === 'identifier' && /^(is_admin|is_superuser|is_staff)$/.test(n.text)) found = true;
  });
  return found;
}

/**
 * The `if` statements in `scope` that refuse the request unless a privilege holds: the privilege test's branch
 * raises, or it returns early and the code after it raises.
 */
export function privilegeGuardsIn(scope: Node, deep = false): Node[] {
  const out: Node[] = [];
  const ifs = deep ? scope.descendantsOfType('if_statement').filter((n): n is Node => !!n) : descendantsInScope(scope, 'if_statement');
  for (const stmt of ifs) {
    const condition = stmt.childForFieldName('condition');
    const consequence = stmt.childForFieldName('consequence');
    if (!condition || !consequence || !mentionsPrivilege(condition)) continue;
    if (raises(consequence)) {
      out.push(stmt);
      continue;
    }
    const returnsEarly = children(consequence).some((s) => s.type === 'return_statement');
    if (returnsEarly) {
      for (let next = stmt.nextNamedSibling; next; next = next.nextNamedSibling) {
        if (next.type === 'raise_statement' || raises(next)) {
          out.push(stmt);
          break;
        }
      }
    }
  }
  return out;
}

/** The branch refuses the request: it raises, or (in a middleware) returns a 401/403 response. */
function raises(node: Node): boolean {
  if (node.type === 'raise_statement' || descendantsInScope(node, 'raise_statement').length > 0) return true;
  return descendantsInScope(node, 'return_statement').some((r) => /status_code\s*=\s*(40[13]\b|status\.HTTP_40[13]_|HTTPStatus\.(FORBIDDEN|UNAUTHORIZED))/.test(r.text));
}

/**
 * True when `qualified` names a dependency that checks a privilege: its body (or a dependency factory's inner
 * function) has a privilege guard, or one of its own dependencies is a role check.
 */
export function isRoleCheckDependency(ws: Workspace, qualified: string | undefined, depth = 0): boolean {
  if (!qualified || depth > MAX_DEPTH) return false;
  const cache = ws.memo('isob:role-check-deps', () => new Map<string, boolean>());
  const hit = cache.get(qualified);
  if (hit !== undefined) return hit;
  cache.set(qualified, false); // cycle guard
  const target = lookupCallable(ws, qualified);
  let result = false;
  if (target) {
    // A factory (`require_role("admin")` resolves to `...require_role()`): the check is in the inner function.
    result = privilegeGuardsIn(target.fn.body, qualified.endsWith('()')).length > 0;
    if (!result) {
      for (const p of target.fn.params) {
        const dep = paramDependency(ws, target.model, p);
        if (dep && isRoleCheckDependency(ws, dep.qualified, depth + 1)) {
          result = true;
          break;
        }
      }
    }
    if (!result) result = !!privilegeHelperCall(ws, target.file, target.model, target.fn.body, depth + 1);
  }
  cache.set(qualified, result);
  return result;
}

/**
 * A call in `scope` (before offset `before`, when given) to a workspace helper whose body, or a helper it calls,
 * has a privilege guard (`require_admin(user)`).
 */
function privilegeHelperCall(ws: Workspace, file: string, model: ModuleModel, scope: Node, depth: number, before?: number): Node | undefined {
  if (depth > MAX_DEPTH) return undefined;
  for (const { call } of model.callsIn(scope)) {
    if (before !== undefined && call.startIndex >= before) continue;
    const target = resolveCallTarget(ws, file, model, call);
    if (!target || target.fn.body.id === scope.id) continue;
    if (helperChecksPrivilege(ws, target.file, target.model, target.fn.body, depth + 1)) return call;
  }
  return undefined;
}

/** Memoized per function body: the helper (or one it calls) has a privilege guard. */
function helperChecksPrivilege(ws: Workspace, file: string, model: ModuleModel, body: Node, depth: number): boolean {
  const cache = ws.memo('isob:privilege-helpers', () => new Map<string, boolean>());
  const key = `${file}\0${body.startIndex}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  cache.set(key, false); // recursion guard
  const result = privilegeGuardsIn(body).length > 0 || !!privilegeHelperCall(ws, file, model, body, depth);
  cache.set(key, result);
  return result;
}

/** `Security(dep, scopes=["admin"])`: FastAPI hands the scopes to the dependency, which checks them. */
function securityScopes(call: Node): string[] {
  const scopes = callArguments(call).keywords.get('scopes');
  if (!scopes) return [];
  return children(scopes).map((s) => stringValue(s)).filter((s): s is string => !!s);
}

/**
 * The role check that guards a route, if any: a role-check dependency reaching it (parameter, decorator, router,
 * include, app), a scoped `Security(...)`, or a privilege guard in the handler (or a helper it calls) that starts
 * before `before` (an offset in the handler's file; omit to accept a guard anywhere in the handler).
 */
export function routeRoleCheck(ws: Workspace, route: Route, before?: number): RoleCheck | undefined {
  const cache = ws.memo('isob:route-role-check', () => new Map<string, RoleCheck | null>());
  const key = `${route.file}\0${route.handler.node.startIndex}\0${route.path}\0${route.instance}\0${before ?? ''}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  const result = computeRouteRoleCheck(ws, route, before);
  cache.set(key, result ?? null);
  return result;
}

function computeRouteRoleCheck(ws: Workspace, route: Route, before?: number): RoleCheck | undefined {
  const model = ws.model(route.file);
  if (!model) return undefined;
  for (const p of route.handler.params) {
    const marker = p.marker;
    if (marker?.kind === 'Security' && securityScopes(marker.call).length > 0) {
      return { kind: 'dependency', file: route.file, range: rangeOf(p.node), description: `\`${marker.call.text}\`` };
    }
    const dep = paramDependency(ws, model, p);
    if (dep && isRoleCheckDependency(ws, dep.qualified)) {
      return { kind: 'dependency', file: route.file, range: rangeOf(p.node), description: `\`${shortName(dep.qualified)}\`` };
    }
  }
  for (const d of route.dependencies) {
    const inner = d.node.type === 'call' ? d.node : undefined;
    if (inner && /(^|\.)Security$/.test(calleeText(inner) ?? '') && securityScopes(inner).length > 0) {
      return { kind: 'dependency', file: d.file, range: rangeOf(d.node), description: `\`${d.node.text}\`` };
    }
    if (isRoleCheckDependency(ws, d.qualified)) {
      return { kind: 'dependency', file: d.file, range: rangeOf(d.node), description: `\`${shortName(d.qualified!)}\`` };
    }
  }
  // An auth middleware that also tests a privilege (`if path.startswith("/admin") and not user.is_admin: return 403`).
  const auth = routeAuth(ws, route);
  if (auth.via === 'middleware' && auth.dependency) {
    const mw = authMiddlewares(ws).find((m) => m.qualified === auth.dependency!.qualified);
    const guard = mw ? privilegeGuardsIn(mw.node, true)[0] : undefined;
    if (mw && guard) return { kind: 'dependency', file: mw.file, range: rangeOf(guard), description: `middleware \`${shortName(mw.qualified)}\`` };
  }
  return handlerRoleCheck(ws, route.file, model, route.handler, before);
}

function calleeText(call: Node): string | undefined {
  return call.childForFieldName('function')?.text;
}

/** A privilege guard in the handler's own statements, or a call to a helper that has one. */
export function handlerRoleCheck(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo, before?: number): RoleCheck | undefined {
  const guard = privilegeGuardsIn(fn.body).find((g) => before === undefined || g.startIndex < before);
  if (guard) {
    const cond = guard.childForFieldName('condition');
    return { kind: 'handler', file, range: rangeOf(guard), description: `\`if ${cond?.text ?? ''}\``, node: guard };
  }
  const call = privilegeHelperCall(ws, file, model, fn.body, 1, before);
  if (call) return { kind: 'handler', file, range: rangeOf(call), description: `\`${call.text}\``, node: call };
  return undefined;
}

function shortName(qualified: string): string {
  const clean = qualified.replace(/\(\)$/, '');
  return clean.slice(clean.lastIndexOf('.') + 1) + (qualified.endsWith('()') ? '(...)' : '');
}

export interface PreferredRoleCheck {
  qualified: string;
  /** How the workspace's code imports it. */
  module: string;
  name: string;
  uses: number;
}

/**
 * The role-check dependency the workspace's routes use most (`get_current_active_superuser`), for fixes that add
 * one to an unguarded admin route. Dependency factories (`require_role("admin")`) are skipped: their argument
 * cannot be guessed.
 */
export function preferredRoleCheck(ws: Workspace): PreferredRoleCheck | undefined {
  return ws.memo('isob:preferred-role-check', () => {
    const counts = new Map<string, number>();
    const note = (q: string | undefined) => {
      if (!q || q.endsWith('()') || !isRoleCheckDependency(ws, q)) return;
      const canonical = lookupCallable(ws, q)?.qualified ?? q;
      counts.set(canonical, (counts.get(canonical) ?? 0) + 1);
    };
    for (const route of routes(ws)) {
      const model = ws.model(route.file);
      if (!model) continue;
      for (const p of route.handler.params) note(paramDependency(ws, model, p)?.qualified);
      for (const d of route.dependencies) note(d.qualified);
    }
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best) return undefined;
    const imp = importPathFor(ws, best[0]);
    return { qualified: best[0], module: imp.module, name: imp.name, uses: best[1] };
  });
}
