import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { Fix, RelatedLocation, TextEdit } from '../core/types';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace } from '../workspace/workspace';
import { routesInFile, type Route } from '../workspace/app-graph';
import { isAuthDependency, paramDependency, routeAuth } from '../workspace/auth';
import { identityExpressions, paramKind, scopeIdentity, type IdentityInfo, type IdentityKind } from '../workspace/identity';
import { lookup, lookupCallable, resolveCallTarget } from '../workspace/symbols';
import { isUserModel, modelClassByName } from '../workspace/owned-models';
import { objectClass } from '../workspace/client-writes';
import { clientValuesIn, isScalar, isUserIdName, type ClientValue } from '../workspace/client-input';
import { mentionsPrivilege, routeRoleCheck } from '../workspace/role-checks';
import { ensureImport } from '../python/edits';
import { callArguments, children, descendantsInScope, dottedName, indentOf, rangeOf } from '../python/syntax';

type MessageId = 'unchecked' | 'noIdentity';

export const ISO202 = defineRule<MessageId>({
  code: 'ISO202',
  name: 'client-supplied-user-id',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [6],
  // Exact: `check` reports only inside handlers of `routesInFile` (the client value is the handler's own), so a
  // file that defines no route handler has nothing to report; the app graph parses no file when none builds an app.
  prescan: (file, ws) => routesInFile(ws, file.path).length > 0,
  messages: {
    unchecked: 'Client-supplied {origin} is used to {action} without first being compared to the authenticated `{identity}`',
    noIdentity: 'Client-supplied {origin} is used to {action} and cannot be checked: {reason}',
  },
  docs: `## What it does
Finds routes that take a user identifier from the client (a path segment such as \`/api/{user_id}/tasks\`, a query
parameter, a header, a body field, named like the owner column or \`user_id\`/\`uid\`/\`owner\`) and use it to read,
filter or write data without first comparing it to the authenticated identity and rejecting a mismatch.

A check counts when it comes before the use: \`if user_id != current_user.id: raise HTTPException(403)\` in the
handler, a helper called with both values that raises on a mismatch, or a dependency that receives the same path
parameter and compares it. Routes guarded by a role check (admin routes) may act for any user and are not reported.

## Why is this bad?
The token proves who the caller is; the path only says who the caller claims to be. A route that filters by the
path's \`user_id\` lets any signed-in user read or change another user's data by editing the URL (IDOR, OWASP API1).

## Example
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine, select

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
bearer = HTTPBearer()


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    user_id: str


def get_current_user_id(credentials=Depends(bearer)) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return payload["sub"]


@app.get("/api/{user_id}/tasks")
def list_tasks(user_id: str, current_user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        return session.exec(select(Task).where(Task.user_id == user_id)).all()
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine, select

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
bearer = HTTPBearer()


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    user_id: str


def get_current_user_id(credentials=Depends(bearer)) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return payload["sub"]


@app.get("/api/{user_id}/tasks")
def list_tasks(user_id: str, current_user_id: str = Depends(get_current_user_id)):
    if user_id != current_user_id:
        raise HTTPException(status_code=403, detail="Forbidden")
    with Session(engine) as session:
        return session.exec(select(Task).where(Task.user_id == user_id)).all()
\`\`\`

## Fix safety
Unsafe: the fix inserts \`if <value> != <authenticated id>: raise HTTPException(status_code=403, ...)\` at the top of
the handler. Requests that name another user start failing with 403, which is the point, but a route meant to serve
administrators (with a role check the analysis cannot see) would lose that ability, and an identifier typed
differently from the token's (a \`str\` path against an \`int\` or \`UUID\` id) needs a conversion. No fix is offered
when the route has no identity in scope (authenticated only through \`dependencies=[...]\`).

## References
- [OWASP API Security Top 10: API1 Broken Object Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/)
- [FastAPI: Path Parameters](https://fastapi.tiangolo.com/tutorial/path-params/)
- [CWE-639: Authorization Bypass Through User-Controlled Key](https://cwe.mitre.org/data/definitions/639.html)
`,
  check(ctx) {
    const { workspace: ws, file } = ctx;
    const handled = new Set<number>();
    for (const route of routesInFile(ws, file.path)) {
      if (handled.has(route.handler.node.id)) continue;
      handled.add(route.handler.node.id);
      checkRoute(ctx, route);
    }
  },
});

/** Callees that only look at a value (log it, convert it, put it in an error) rather than use it to reach data. */
const CONVERSIONS = /^(str|int|float|bool|len|repr|UUID|uuid\.UUID|hash|and_|or_|not_|col|sqlalchemy\.(and_|or_|not_)|sqlmodel\.(and_|or_|col))$/;
const HARMLESS = /^(print|logging\.\w+|log\.\w+|logger\.\w+|_?log\w*\.\w+|warnings\.warn|HTTPException|fastapi\.HTTPException|dict|isinstance|format|jsonable_encoder|fastapi\.encoders\.jsonable_encoder)$|\.(debug|info|warning|warn|error|exception|critical|format|startswith|endswith|url_for|url_path_for)$|Response$|HTTPException$/;
const FILTER_METHODS = /^(where|filter|filter_by|having|join|outerjoin|get_or_none|exclude)$/;
const READ_METHODS = /^(get|exec|execute|scalars|scalar|scalar_one|query|select|first|one|all|get_one|fetch|fetch_one|fetch_all|find|find_one|count)$/;
const CHECK_HELPER = /(ensure|verify|check|assert|require|authori[sz]e|validate|guard|same_user|is_owner|owns|member|access|permission)/i;

/** Names that are user identifiers only in context (`/files/{uid}` is a file). */
const AMBIGUOUS_NAMES: ReadonlySet<string> = new Set(['uid', 'owner']);

/**
 * The value is compared with or assigned to a user column (`Task.user_id == uid`, `filter_by(owner_id=owner)`,
 * `user_id=uid`), loads a user row (`session.get(User, uid)`), or is passed to a helper parameter named like one.
 */
function usedAsUserId(ws: Workspace, file: string, model: ModuleModel, node: Node, ownerColumns: string[]): boolean {
  const parent = node.parent;
  if (!parent) return false;
  if (parent.type === 'comparison_operator') {
    return children(parent).some((o) => o.id !== node.id && o.type === 'attribute' && isUserIdName(o.childForFieldName('attribute')?.text ?? '', ownerColumns));
  }
  if (parent.type === 'keyword_argument') return isUserIdName(parent.childForFieldName('name')?.text ?? '', ownerColumns);
  if (parent.type === 'argument_list' && parent.parent?.type === 'call') {
    const call = parent.parent;
    const args = callArguments(call);
    const i = args.positional.findIndex((a) => a.id === node.id);
    const fnNode = call.childForFieldName('function');
    if (fnNode?.type === 'attribute' && fnNode.childForFieldName('attribute')?.text === 'get' && i === 1) {
      return isUserModel(ws, lookupClass(ws, model, args.positional[0]));
    }
    const target = resolveCallTarget(ws, file, model, call);
    const param = target?.fn.params.filter((p) => p.name !== 'self' && p.name !== 'cls')[i];
    return !!param && isUserIdName(param.name, ownerColumns) && !AMBIGUOUS_NAMES.has(param.name);
  }
  return false;
}

function lookupClass(ws: Workspace, model: ModuleModel, node: Node | undefined): string {
  const def = node ? lookup(ws, model.resolve(node)) : undefined;
  return def?.kind === 'class' ? def.qualified : '';
}

function checkRoute(ctx: RuleContext<MessageId>, route: Route): void {
  const { workspace: ws, file, model } = ctx;
  const auth = routeAuth(ws, route);
  // Unauthenticated routes are ISO201's finding: there is no identity to compare with.
  if (!auth.authenticated) return;
  // A role-checked (admin) route may legitimately act for any user.
  if (routeRoleCheck(ws, route)) return;
  const identity = identityExpressions(ws, route);
  const ownerColumns = ctx.settings.ownerColumns;
  const values = clientValuesIn(ws, file.path, route.handler, route.path, (f) => isUserIdName(f, ownerColumns));
  if (values.length === 0) return;
  const guardedByDependency = dependencyCheckedParams(ws, route);
  const groups = new Map<string, ClientValue[]>();
  for (const v of values) {
    // Names that hold the identity itself; a client value the code verified is still checked for order below.
    if (v.node.type === 'identifier' && identity.names.has(v.node.text) && !identity.verified.has(v.node.text)) continue;
    const list = groups.get(v.origin) ?? [];
    list.push(v);
    groups.set(v.origin, list);
  }
  for (const [origin, group] of groups) {
    if (group[0].param && guardedByDependency.has(group[0].param.name)) continue;
    const names = new Set(group.map((v) => v.node.text));
    const ambiguous = AMBIGUOUS_NAMES.has(group[0].field);
    for (const v of group) {
      const use = dataUse(model, v.node);
      if (!use) continue;
      // `uid`/`owner` also name files, repositories...: only a use against a user column says it is a user id.
      if (ambiguous && !usedAsUserId(ws, file.path, model, v.node, ownerColumns)) continue;
      // The call that checks the value (`ensure_same_user(user_id, current_user)`) is not a use of it.
      if (use.call && helperChecks(ws, file.path, model, use.call, identity, names)) continue;
      if (use.call && inRejectingCondition(use.call, identity, names)) continue;
      // A query already bound to the caller (`.where(Task.user_id == me.id, Task.assignee_id == user_id)`) only
      // narrows the caller's own rows.
      if (use.call && boundToIdentity(use.call, identity)) continue;
      const action = use.action;
      if (isGuarded(ws, file.path, model, route.handler, identity, names, v.node)) break;
      report(ctx, route, identity, origin, v, action);
      break;
    }
  }
}

/**
 * What the value is used for, when it reaches data: the innermost call it is an argument of (past conversions such
 * as `str()`), or an attribute it is stored into. Logging, error messages, comparisons and returns are not uses.
 */
function dataUse(model: ModuleModel, node: Node): { action: string; call?: Node } | undefined {
  let child = node;
  for (let p = node.parent; p; child = p, p = p.parent) {
    switch (p.type) {
      case 'block':
      case 'module':
      case 'function_definition':
      case 'class_definition':
      case 'lambda':
      case 'return_statement':
      case 'if_statement':
      case 'elif_clause':
      case 'while_statement':
      case 'assert_statement':
      case 'raise_statement':
      case 'string':
      case 'interpolation':
        return undefined;
      case 'comparison_operator':
        // `Task.user_id == user_id` is a use only inside a query call; a bare comparison is a test.
        continue;
      case 'assignment': {
        if (p.childForFieldName('right')?.id !== child.id) return undefined;
        const left = p.childForFieldName('left');
        if (left?.type === 'attribute') return { action: `write \`${left.text}\`` };
        return undefined;
      }
      case 'call': {
        const args = p.childForFieldName('arguments');
        if (args?.id !== child.id) continue; // the value is the object of a method call: `user_id.strip()`
        const fn = p.childForFieldName('function');
        const callee = dottedName(fn) ?? fn?.text ?? '';
        const resolved = model.callee(p) ?? callee;
        if (CONVERSIONS.test(callee)) continue;
        if (HARMLESS.test(callee) || HARMLESS.test(resolved)) return undefined;
        const method = fn?.type === 'attribute' ? (fn.childForFieldName('attribute')?.text ?? '') : '';
        if (FILTER_METHODS.test(method)) return { action: 'filter a query', call: p };
        if (READ_METHODS.test(method) || /(^|\.)select$/.test(resolved)) return { action: 'read data', call: p };
        if (/^[A-Z]/.test(callee.slice(callee.lastIndexOf('.') + 1))) return { action: `create \`${callee}\``, call: p };
        return { action: `call \`${callee}\``, call: p };
      }
      default:
        continue;
    }
  }
  return undefined;
}

/**
 * True when the use at `use` comes after a check of the value against the identity: an `if` that compares them and
 * raises, a helper called with both that raises on a mismatch, or a `==` comparison whose branch holds the use.
 */
function isGuarded(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo, identity: IdentityInfo, names: Set<string>, use: Node): boolean {
  // Every rejecting comparison counts (the identity model keeps one per name; a second check may come later).
  for (const stmt of descendantsInScope(fn.body, 'if_statement')) {
    if (stmt.startIndex < use.startIndex && !contains(stmt, use) && rejectsMismatch(stmt, identity, names)) return true;
  }
  for (let p = use.parent; p && p.id !== fn.body.id; p = p.parent) {
    if (p.type !== 'if_statement') continue;
    const cond = p.childForFieldName('condition');
    const consequence = p.childForFieldName('consequence');
    if (!cond || !consequence || !contains(consequence, use)) continue;
    if (comparesEqual(cond, identity, names)) return true;
    // `if current_user.is_superuser: ...`: the branch runs only for administrators, who may act for any user.
    if (cond.type !== 'not_operator' && mentionsPrivilege(cond) && !/^not\b|!=|\bnot in\b/.test(cond.text.trim())) return true;
  }
  for (const { call } of model.callsIn(fn.body)) {
    if (call.endIndex > use.startIndex) continue;
    if (helperChecks(ws, file, model, call, identity, names)) return true;
  }
  return false;
}

/** The branch ends the request: it raises, or returns a 401/403/404 response (`JSONResponse(status_code=403)`). */
function refuses(branch: Node): boolean {
  if (descendantsInScope(branch, 'raise_statement').length > 0) return true;
  return descendantsInScope(branch, 'return_statement').some((r) => /status_code\s*=\s*(40[134]\b|status\.HTTP_40[134]_|HTTPStatus\.(FORBIDDEN|UNAUTHORIZED|NOT_FOUND))/.test(r.text));
}

/** The query chain around `call` also compares a column with the authenticated identity. */
function boundToIdentity(call: Node, identity: IdentityInfo): boolean {
  let chain = call;
  while (chain.parent && ['call', 'attribute', 'argument_list', 'await', 'parenthesized_expression', 'keyword_argument', 'comparison_operator'].includes(chain.parent.type)) chain = chain.parent;
  for (const cmp of chain.descendantsOfType(['comparison_operator', 'keyword_argument'])) {
    if (!cmp) continue;
    const sides = cmp.type === 'keyword_argument' ? [cmp.childForFieldName('value')] : children(cmp);
    if (sides.some((side) => side && identity.isIdentityExpression(side) && !identity.verified.has(side.text))) return true;
  }
  return false;
}

/** The call is (part of) the condition of an `if` that rejects a mismatch: `if not can_access(user_id, user): raise`. */
function inRejectingCondition(call: Node, identity: IdentityInfo, names: Set<string>): boolean {
  for (let p = call.parent; p; p = p.parent) {
    if (p.type === 'if_statement') {
      const cond = p.childForFieldName('condition');
      return !!cond && contains(cond, call) && rejectsMismatch(p, identity, names);
    }
    if (p.type === 'block' || p.type === 'function_definition') return false;
  }
  return false;
}

/** `if <value> != <identity>: raise ...` (either order, `is not`, or inside `and`/`or` with other tests). */
function rejectsMismatch(stmt: Node, identity: IdentityInfo, names: Set<string>): boolean {
  const cond = stmt.childForFieldName('condition');
  const consequence = stmt.childForFieldName('consequence');
  if (!cond || !consequence || !refuses(consequence)) return false;
  for (const cmp of [cond, ...cond.descendantsOfType('comparison_operator').filter((n): n is Node => !!n)]) {
    if (cmp.type !== 'comparison_operator' || !/!=|\bis\s+not\b/.test(cmp.text)) continue;
    const [a, b] = children(cmp);
    if (!a || !b) continue;
    if ((identity.isIdentityExpression(a) && mentions(b, names)) || (identity.isIdentityExpression(b) && mentions(a, names))) return true;
  }
  // `if not can_access(user_id, current_user): raise ...`: a predicate given both values, negated.
  for (const neg of [cond, ...cond.descendantsOfType('not_operator').filter((n): n is Node => !!n)]) {
    if (neg.type !== 'not_operator') continue;
    let inner = neg.childForFieldName('argument');
    while (inner?.type === 'await' || inner?.type === 'parenthesized_expression') inner = children(inner)[0] ?? null;
    if (inner?.type !== 'call') continue;
    const args = callArguments(inner);
    const all = [...args.positional, ...args.keywords.values()];
    const value = all.find((a) => mentions(a, names));
    if (value && all.some((a) => a.id !== value.id && !mentions(a, names) && (identity.isIdentityExpression(a) || (a.type === 'identifier' && identity.names.has(a.text))))) return true;
  }
  return false;
}

function contains(outer: Node, inner: Node): boolean {
  return inner.startIndex >= outer.startIndex && inner.endIndex <= outer.endIndex;
}

function comparesEqual(cond: Node, identity: IdentityInfo, names: Set<string>): boolean {
  for (const cmp of [cond, ...cond.descendantsOfType('comparison_operator').filter((n): n is Node => !!n)]) {
    if (cmp.type !== 'comparison_operator' || !/==/.test(cmp.text)) continue;
    const [a, b] = children(cmp);
    if (!a || !b) continue;
    if ((identity.isIdentityExpression(a) && mentions(b, names)) || (identity.isIdentityExpression(b) && mentions(a, names))) return true;
  }
  return false;
}

function mentions(node: Node, names: Set<string>): boolean {
  if (names.has(node.text)) return true;
  return node.descendantsOfType(['identifier', 'attribute']).some((n) => !!n && names.has(n.text));
}

/**
 * `ensure_same_user(user_id, current_user)`: a call given both the client value and the identity, whose target (in
 * the workspace) rejects a mismatch, or (outside it) is named like a check.
 */
function helperChecks(ws: Workspace, file: string, model: ModuleModel, call: Node, identity: IdentityInfo, names: Set<string>): boolean {
  const args = callArguments(call);
  const all = [...args.positional, ...args.keywords.values()];
  const valueArg = all.find((a) => mentions(a, names));
  if (!valueArg) return false;
  const identityArg = all.find((a) => a.id !== valueArg.id && !mentions(a, names) && (identity.isIdentityExpression(a) || (a.type === 'identifier' && identity.names.has(a.text))));
  if (!valueArg || !identityArg) return false;
  const target = resolveCallTarget(ws, file, model, call);
  if (!target) return CHECK_HELPER.test(call.childForFieldName('function')?.text ?? '');
  const params = target.fn.params.filter((p) => p.name !== 'self' && p.name !== 'cls');
  const paramFor = (arg: Node): string | undefined => {
    const i = args.positional.findIndex((a) => a.id === arg.id);
    if (i >= 0) return params[i]?.name;
    for (const [k, v] of args.keywords) if (v.id === arg.id) return k;
    return undefined;
  };
  const valueParam = paramFor(valueArg);
  const identityParam = paramFor(identityArg);
  if (!valueParam || !identityParam) return false;
  const kind: IdentityKind = identityArg.type === 'identifier' ? (identity.names.get(identityArg.text) ?? 'id') : 'id';
  const scoped = scopeIdentity(target.model, target.fn, new Map([[identityParam, kind]]));
  if (scoped.verified.has(valueParam)) return true;
  // A membership or access helper (`ensure_member(session, current_user, tenant_id)`) that looks the pair up and
  // refuses with 401/403/404: named as a check and raising is the evidence the analysis can see.
  const name = target.fn.name;
  return CHECK_HELPER.test(name) && target.model.raisesIn(target.fn.body).some((r) => r.status === undefined || [401, 403, 404].includes(r.status));
}

/**
 * Client parameters a route's dependencies receive and check themselves: FastAPI fills a dependency's `user_id`
 * parameter from the same path segment, so `def verify_path_user(user_id: str, user = Depends(auth))` that raises
 * on a mismatch guards every route that depends on it.
 */
function dependencyCheckedParams(ws: Workspace, route: Route): Set<string> {
  const out = new Set<string>();
  const model = ws.model(route.file);
  if (!model) return out;
  const qualifieds: string[] = [];
  for (const p of route.handler.params) {
    const dep = paramDependency(ws, model, p);
    if (dep) qualifieds.push(dep.qualified);
  }
  for (const d of route.dependencies) if (d.qualified) qualifieds.push(d.qualified);
  const seen = new Set<string>();
  const visit = (qualified: string, depth: number) => {
    if (depth > 3 || seen.has(qualified)) return;
    seen.add(qualified);
    const target = lookupCallable(ws, qualified);
    if (!target) return;
    const seed = new Map<string, IdentityKind>();
    for (const p of target.fn.params) {
      const dep = paramDependency(ws, target.model, p);
      if (!dep) continue;
      if (isAuthDependency(ws, dep.qualified)) seed.set(p.name, paramKind(ws, target.model, p));
      visit(dep.qualified, depth + 1);
    }
    if (seed.size === 0) return;
    const scoped = scopeIdentity(target.model, target.fn, seed);
    for (const name of scoped.verified.keys()) if (target.fn.params.some((p) => p.name === name)) out.add(name);
  };
  for (const q of qualifieds) visit(q, 0);
  return out;
}

function report(ctx: RuleContext<MessageId>, route: Route, identity: IdentityInfo, origin: string, value: ClientValue, action: string): void {
  const related: RelatedLocation[] = [];
  if (value.param) related.push({ file: route.file, range: rangeOf(value.param.param.node), message: `\`${value.param.name}\` is read from the ${value.param.source}` });
  if (identity.auth?.dependency) {
    related.push({ file: identity.auth.dependency.file, range: identity.auth.dependency.range, message: `the route is authenticated here (\`${short(identity.auth.dependency.qualified)}\`)` });
  }
  const later = descendantsInScope(route.handler.body, 'if_statement').find(
    (stmt) => stmt.startIndex > value.node.startIndex && rejectsMismatch(stmt, identity, new Set([value.node.text])),
  );
  if (later) related.push({ file: route.file, range: rangeOf(later), message: 'the comparison with the identity comes only after the use' });
  if (!identity.idExpression) {
    ctx.report({
      node: value.node,
      messageId: 'noIdentity',
      data: { origin, action, reason: identity.noIdentityReason ?? 'no authenticated identity is in scope in this handler' },
      related,
    });
    return;
  }
  // A tenant or account id is compared with the user's own tenant, not with the user's id.
  const scoped = SCOPE_FIELDS.has(value.field);
  const compareWith = scoped && identity.objectExpression ? `${identity.objectExpression}.${value.field}` : identity.idExpression;
  const canFix = !scoped || !!identity.objectExpression;
  ctx.report({
    node: value.node,
    messageId: 'unchecked',
    data: { origin, action, identity: compareWith },
    related,
    fix: canFix ? insertCheck(ctx, route, value, compareWith, identity) : undefined,
  });
}

/** Owner columns that name a group the user belongs to rather than the user. */
const SCOPE_FIELDS: ReadonlySet<string> = new Set(['tenant_id', 'account_id', 'org_id', 'organization_id', 'team_id', 'workspace_id']);

/**
 * `str(current_user.id)` when the client sends a string and the user model's `id` is a UUID or an integer: the
 * comparison would otherwise always fail.
 */
function comparable(ws: Workspace, route: Route, value: ClientValue, identityText: string, identity: IdentityInfo): string {
  const param = value.param;
  if (!param || !isScalar(param) || !identity.objectExpression || identityText !== `${identity.objectExpression}.id`) return identityText;
  const annotation = param.param.annotation?.text.replace(/\s+/g, '') ?? 'str';
  if (!/^(str|Annotated\[str,.*)$/.test(annotation)) return identityText;
  const model = ws.model(route.file);
  const holder = route.handler.params.find((p) => p.name === identity.objectExpression);
  const nameNode = holder ? (holder.node.type === 'identifier' ? holder.node : holder.node.childForFieldName('name') ?? children(holder.node)[0]) : undefined;
  const cls = model && nameNode ? objectClass(ws, model, route.file, route.handler, nameNode) : undefined;
  const idType = cls ? modelClassByName(ws, cls)?.fields.get('id')?.annotation?.text ?? '' : '';
  return /\b(UUID|UUID4|int)\b/.test(idType) ? `str(${identityText})` : identityText;
}

function short(qualified: string): string {
  const clean = qualified.replace(/\(\)$/, '');
  return clean.slice(clean.lastIndexOf('.') + 1);
}

/**
 * Inserts `if <value> != <identity>: raise HTTPException(status_code=403, ...)` as the handler's first statement
 * (after its docstring). Only for values the handler can name at its top: a parameter, or a field of a body
 * parameter.
 */
function insertCheck(ctx: RuleContext<MessageId>, route: Route, value: ClientValue, identityText: string, info: IdentityInfo): Fix | undefined {
  const { model } = ctx;
  const fn = route.handler;
  const identity = comparable(ctx.workspace, route, value, identityText, info);
  const param = value.param;
  if (!param) return undefined;
  let expr: string | undefined;
  if (isScalar(param)) expr = param.name;
  else if (value.node.type === 'attribute' && value.node.childForFieldName('object')?.text === param.name) expr = value.node.text;
  if (!expr) return undefined;
  const at = bodyInsertion(model, fn);
  if (!at) return undefined;
  const exception = ensureImport(model, 'fastapi', 'HTTPException');
  const edits: TextEdit[] = [];
  if (exception.edit) edits.push(exception.edit);
  edits.push({
    range: { start: { line: at.line, character: 0 }, end: { line: at.line, character: 0 } },
    newText: `${at.indent}if ${expr} != ${identity}:\n${at.indent}${at.unit}raise ${exception.local}(status_code=403, detail="Forbidden")\n`,
  });
  return { title: `Reject requests whose \`${expr}\` is not \`${identity}\` (unsafe)`, safety: 'unsafe', edits };
}

/** The line to insert a first statement at (after the docstring), the body's indentation and one indent unit. */
function bodyInsertion(model: ModuleModel, fn: FunctionInfo): { line: number; indent: string; unit: string } | undefined {
  const stmts = fn.body.namedChildren.filter((c): c is Node => !!c);
  const firstCode = stmts.find((s) => s.type !== 'comment');
  if (!firstCode || firstCode.startPosition.row === fn.node.startPosition.row) return undefined;
  const indent = indentOf(model.text, firstCode);
  const defIndent = indentOf(model.text, fn.node);
  const unit = indent.startsWith(defIndent) && indent.length > defIndent.length ? indent.slice(defIndent.length) : '    ';
  const isDocstring = firstCode.type === 'expression_statement' && children(firstCode)[0]?.type === 'string';
  if (isDocstring) return { line: firstCode.endPosition.row + 1, indent, unit };
  // Comments just above the first statement belong to it (tree-sitter puts them outside the block): insert above.
  const lines = model.text.split('\n');
  let line = stmts[0].startPosition.row;
  const headerEnd = fn.node.children.find((c) => c?.type === ':')?.startPosition.row ?? fn.node.startPosition.row;
  while (line - 1 > headerEnd && /^\s*#/.test(lines[line - 1])) line--;
  return { line, indent, unit };
}
