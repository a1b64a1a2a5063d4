import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { Fix, RelatedLocation, TextEdit } from '../core/types';
import type { ModuleModel } from '../python/module-model';
import type { Workspace } from '../workspace/workspace';
import { routes, type Route } from '../workspace/app-graph';
import { routeAuth } from '../workspace/auth';
import { identityExpressions, type IdentityInfo } from '../workspace/identity';
import { isUserModel, modelClassByName } from '../workspace/owned-models';
import { clientMaySet, clientValuesIn, isPrivilegeName } from '../workspace/client-input';
import { classOf, clientWritesIn, excludeFieldsEdit, objectClass, appendArgumentEdit, type ClientWrite } from '../workspace/client-writes';
import { preferredRoleCheck, routeRoleCheck } from '../workspace/role-checks';
import { resolveCallTarget } from '../workspace/symbols';
import { ensureImport } from '../python/edits';
import { callArguments, children, descendantsInScope, dottedName, rangeOf } from '../python/syntax';
import { pinnedBelow, pinnedMajor } from '../workspace/pinned-versions';

type MessageId = 'copy' | 'assign' | 'adminRoute';

interface Finding {
  file: string;
  node: Node;
  messageId: MessageId;
  data: Record<string, string>;
  related: RelatedLocation[];
  fix?: Fix;
}

export const ISO208 = defineRule<MessageId>({
  code: 'ISO208',
  name: 'privilege-escalation',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [8],
  // Exact: `check` only hands out this file's share of the memoized workspace-wide findings (the write may sit in
  // a helper file), and computing them walks only the routes.
  prescan: (file, ws) => findingsOf(ws).some((f) => f.file === file.path),
  messages: {
    copy: '`{call}` writes {origin} onto a `{model}` including the privilege field {fields}, and no role check guards the route',
    assign: '`{target}` is set from {origin} in `{method} {path}`, which no role check guards',
    adminRoute: 'Administrative route `{method} {path}` ({why}) is reachable by any authenticated user: no role check guards it',
  },
  docs: `## What it does
Finds two ways a client can raise its own privileges:
- a privilege field (\`is_admin\`, \`is_superuser\`, \`is_staff\`, \`role\`, \`roles\`, \`scopes\`, \`permissions\`)
  accepted from the request when a user is created or updated: the request model carries it into
  \`User(**body.dict())\`, \`User.model_validate(body)\`, \`user.sqlmodel_update(data)\` or a \`setattr\` loop, or a
  request value is assigned to it (\`user.role = role\`);
- an administrative route (under \`/admin\` or named so, or one that lists every user or deletes a user the client
  names) that any authenticated user can call.

A role check is a dependency that tests a privilege and raises (\`get_current_active_superuser\`,
\`require_role("admin")\`, \`Security(..., scopes=["admin"])\`), reaching the route from its parameters, decorator,
router, include chain or app, or such a test in the handler (or a helper it calls) before the work.

## Why is this bad?
\`PATCH /users/me {"is_superuser": true}\` turns any account into an administrator; an unguarded
\`DELETE /users/{id}\` lets any account delete every other. Both are one request away for anyone who signs up.

## Example
\`\`\`python
import os
from typing import Annotated, Optional

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
bearer = HTTPBearer()


class User(SQLModel, table=True):
    id: str = Field(primary_key=True)
    full_name: Optional[str] = None
    is_superuser: bool = False


class UserUpdateMe(SQLModel):
    full_name: Optional[str] = None
    is_superuser: Optional[bool] = None


def get_current_user(credentials=Depends(bearer)) -> User:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    with Session(engine) as session:
        user = session.get(User, payload["sub"])
    if user is None:
        raise HTTPException(status_code=401, detail="Unknown user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@app.patch("/users/me")
def update_me(body: UserUpdateMe, current_user: CurrentUser):
    current_user.sqlmodel_update(body.model_dump(exclude_unset=True))
    with Session(engine) as session:
        session.add(current_user)
        session.commit()
    return current_user
\`\`\`

## Use instead
\`\`\`python
import os
from typing import Annotated, Optional

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
bearer = HTTPBearer()


class User(SQLModel, table=True):
    id: str = Field(primary_key=True)
    full_name: Optional[str] = None
    is_superuser: bool = False


class UserUpdateMe(SQLModel):
    full_name: Optional[str] = None


def get_current_user(credentials=Depends(bearer)) -> User:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    with Session(engine) as session:
        user = session.get(User, payload["sub"])
    if user is None:
        raise HTTPException(status_code=401, detail="Unknown user")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@app.patch("/users/me")
def update_me(body: UserUpdateMe, current_user: CurrentUser):
    current_user.sqlmodel_update(body.model_dump(exclude_unset=True))
    with Session(engine) as session:
        session.add(current_user)
        session.commit()
    return current_user
\`\`\`

## Fix safety
Excluding the privilege field from the dump (\`exclude={"is_superuser"}\`) is safe: ordinary users can no longer
set it and nothing else changes; removing it from the request model is better still. Adding the role-check
dependency the workspace already uses (\`dependencies=[Depends(get_current_active_superuser)]\`) is unsafe: every
caller without the privilege now gets 403, which is the intent but changes who can use the route. No role-check
fix is offered when the workspace has no role-check dependency to reuse.

## References
- [OWASP API Security Top 10: API5 Broken Function Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/)
- [OWASP API Security Top 10: API3 Broken Object Property Level Authorization (mass assignment)](https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/)
- [CWE-269: Improper Privilege Management](https://cwe.mitre.org/data/definitions/269.html)
`,
  check(ctx) {
    for (const f of findingsOf(ctx.workspace)) {
      if (f.file === ctx.file.path) ctx.report({ node: f.node, messageId: f.messageId, data: f.data, related: f.related, fix: f.fix });
    }
  },
});

function findingsOf(ws: Workspace): Finding[] {
  return ws.memo('isob:ISO208', () => {
    const out: Finding[] = [];
    const seen = new Set<string>();
    const handled = new Set<string>();
    for (const route of routes(ws)) {
      const key = `${route.file}:${route.handler.node.startIndex}`;
      if (handled.has(key)) continue;
      handled.add(key);
      // Administrators may grant privileges and manage other users.
      if (routeRoleCheck(ws, route)) continue;
      const found = [...privilegeWrites(ws, route), ...adminRoute(ws, route)];
      for (const f of found) {
        const id = `${f.file}:${f.node.startIndex}:${f.messageId}`;
        if (!seen.has(id)) {
          seen.add(id);
          out.push(f);
        }
      }
    }
    return out;
  });
}

// ---- privilege fields from the request -------------------------------------------------------------

/** The privilege columns of a user (or any table) model: the fields a client must not set. */
function privilegeColumns(ws: Workspace, cls: string | undefined): string[] {
  const model = modelClassByName(ws, cls);
  if (!model?.orm) return [];
  const fields = [...model.fields.keys()].filter(isPrivilegeName);
  if (isUserModel(ws, model.qualified)) return fields;
  // On other tables `role`/`scopes`/`permissions` are often the user's own choice (an API key's scopes, a
  // document's sharing role); administrator flags are privileges wherever they live.
  return fields.filter((f) => ADMIN_FLAGS.test(f));
}

function privilegeWrites(ws: Workspace, route: Route): Finding[] {
  const out: Finding[] = [];
  for (const w of clientWritesIn(ws, route.file, route.handler, route.path)) {
    const columns = privilegeColumns(ws, w.modelClass);
    const exposed = columns.filter((c) => exposes(ws, w, c));
    if (exposed.length === 0) continue;
    const model = modelClassByName(ws, w.modelClass)!;
    const related: RelatedLocation[] = [{ file: route.decoratorFile ?? route.file, range: rangeOf(route.decorator), message: `route \`${route.method} ${route.path}\` has no role check` }];
    if (w.data.model) {
      const field = w.data.model.cls.fields.get(exposed[0]);
      related.push({ file: w.data.model.file, range: rangeOf(field?.node ?? w.data.model.cls.node), message: `\`${w.data.model.cls.name}\` lets the client send \`${exposed[0]}\`` });
    }
    out.push({
      file: w.file,
      node: w.node,
      messageId: 'copy',
      data: { call: shorten(w.node.type === 'for_statement' ? w.call.text : w.node.text), origin: w.data.origin, model: model.name, fields: exposed.map((f) => `\`${f}\``).join(', ') },
      related,
      fix: excludeFix(ws, w, exposed),
    });
  }
  out.push(...privilegeAssignments(ws, route));
  return out;
}

function exposes(ws: Workspace, w: ClientWrite, column: string): boolean {
  if (w.explicit.has(column)) return false;
  if (w.filteredKeys === 'unknown' || w.filteredKeys?.has(column)) return false;
  return clientMaySet(ws, w.data, column);
}

function excludeFix(ws: Workspace, w: ClientWrite, fields: string[]): Fix | undefined {
  const title = `Exclude ${fields.map((f) => `\`${f}\``).join(', ')} from the client data`;
  if (w.data.dump) {
    const edit = excludeFieldsEdit(w.data.dump, fields);
    return edit ? { title, safety: 'safe', edits: [edit] } : undefined;
  }
  if (w.data.model && w.data.param && w.dataNode.text === w.data.param.name && (w.kind === 'model-update' || w.kind === 'validate')) {
    const pydantic = pinnedMajor(ws.pinnedVersion('pydantic'));
    const v1 = (pydantic !== undefined && pydantic < 2) || pinnedBelow(ws.pinnedVersion('sqlmodel'), [0, 0, 14]) === true;
    const unset = w.kind === 'model-update' ? 'exclude_unset=True, ' : '';
    const set = `{${fields.map((f) => JSON.stringify(f)).join(', ')}}`;
    return { title, safety: 'safe', edits: [{ range: rangeOf(w.dataNode), newText: `${w.dataNode.text}.${v1 ? 'dict' : 'model_dump'}(${unset}exclude=${set})` }] };
  }
  return undefined;
}

/** `user.role = role`, `User(..., is_admin=is_admin)`: one privilege field set from a request value. */
function privilegeAssignments(ws: Workspace, route: Route): Finding[] {
  const model = ws.model(route.file);
  if (!model) return [];
  const out: Finding[] = [];
  for (const v of clientValuesIn(ws, route.file, route.handler, route.path, () => true)) {
    const parent = v.node.parent;
    let field: string | undefined;
    let cls: string | undefined;
    let target = '';
    if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === v.node.id) {
      const left = parent.childForFieldName('left');
      if (left?.type !== 'attribute') continue;
      field = left.childForFieldName('attribute')?.text;
      cls = objectClass(ws, model, route.file, route.handler, left.childForFieldName('object') ?? undefined);
      target = left.text;
    } else if (parent?.type === 'keyword_argument' && parent.childForFieldName('value')?.id === v.node.id) {
      const call = parent.parent?.parent;
      field = parent.childForFieldName('name')?.text;
      cls = call?.type === 'call' ? classOf(ws, model, call.childForFieldName('function')) : undefined;
      target = `${dottedName(call?.childForFieldName('function')) ?? '?'}(${field}=...)`;
    }
    if (!field || !privilegeColumns(ws, cls).includes(field)) continue;
    out.push({
      file: route.file,
      node: parent!,
      messageId: 'assign',
      data: { target, origin: v.origin, method: route.method, path: route.path },
      related: v.param ? [{ file: route.file, range: rangeOf(v.param.param.node), message: `\`${v.param.name}\` is read from the request ${v.param.source}` }] : [],
      fix: roleCheckFix(ws, model, route),
    });
  }
  return out;
}

// ---- administrative routes ---------------------------------------------------------------------

const ADMIN_FLAGS = /^(is_admin|is_superuser|is_staff)$/;
const DATA_CALLS = /^(exec|execute|scalars|scalar|query|get|delete|add|commit|merge|flush|all|first|one|filter|filter_by|where|select|count|update|insert|bulk_\w+|fetch\w*)$/;

function adminRoute(ws: Workspace, route: Route): Finding[] {
  const auth = routeAuth(ws, route);
  // Unauthenticated routes are ISO201's finding.
  if (!auth.authenticated) return [];
  const model = ws.model(route.file);
  if (!model) return [];
  const identity = identityExpressions(ws, route);
  const why = adminReason(ws, model, route, identity);
  if (!why) return [];
  const related: RelatedLocation[] = [];
  if (auth.dependency) related.push({ file: auth.dependency.file, range: auth.dependency.range, message: `authentication only (\`${short(auth.dependency.qualified)}\`), no privilege test` });
  // Reported on the decorator, in its own file: `app.add_api_route(...)` may register the handler from another one,
  // and the fix edits that call (and that file's imports).
  const site = route.decoratorFile ?? route.file;
  const siteModel = site === route.file ? model : ws.model(site);
  return [{
    file: site,
    node: route.decorator,
    messageId: 'adminRoute',
    data: { method: route.method, path: route.path, why },
    related,
    fix: siteModel ? roleCheckFix(ws, siteModel, route) : undefined,
  }];
}

function adminReason(ws: Workspace, model: ModuleModel, route: Route, identity: IdentityInfo): string | undefined {
  const body = route.handler.body;
  const calls = descendantsInScope(body, 'call');
  const touchesData = calls.some((c) => dataCall(ws, model, route.file, c, 0));
  const segments = route.path.split('/').filter(Boolean);
  if (touchesData) {
    const segment = segments.find((s) => /^admins?$/i.test(s));
    if (segment) return `under \`/${segment}\``;
    if (/(^|_)admin(_|$)/i.test(route.handler.name)) return `its handler \`${route.handler.name}\` is named as one`;
  }
  for (const c of calls) {
    const fn = c.childForFieldName('function');
    const name = dottedName(fn) ?? '';
    // `select(User)` / `session.query(User)` with no filter at all: every user's row.
    if (/(^|\.)(select|query)$/.test(name)) {
      const cls = classOf(ws, model, callArguments(c).positional[0]);
      if (!cls || !isUserModel(ws, cls)) continue;
      const statement = enclosingChain(c);
      if (!/\.(where|filter|filter_by|get|join)\s*\(/.test(statement.text)) return `it lists every \`${short(cls)}\``;
    }
    // `session.delete(user)` where `user` is a user row the client chose.
    if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'delete') {
      const arg = callArguments(c).positional[0];
      if (!arg || arg.type !== 'identifier' || identity.names.has(arg.text)) continue;
      // `if user.id != current_user.id: raise ...` before the delete: the caller deletes itself.
      if ([...identity.verified.keys()].some((n) => n.startsWith(`${arg.text}.`))) continue;
      const cls = objectClass(ws, model, route.file, route.handler, arg);
      if (cls && isUserModel(ws, cls) && loadedByClientValue(model, route, arg.text, identity)) return `it deletes a \`${short(cls)}\` the client names`;
    }
  }
  return undefined;
}

/**
 * A call that reaches the database: a session/connection method (`session.exec`, `db.delete`), a query builder
 * (`select(...)`, `update(...)`), or a workspace helper that makes such a call (one level down).
 */
function dataCall(ws: Workspace, model: ModuleModel, file: string, call: Node, depth: number): boolean {
  const fn = call.childForFieldName('function');
  if (fn?.type === 'attribute') {
    const method = fn.childForFieldName('attribute')?.text ?? '';
    const object = fn.childForFieldName('object')?.text ?? '';
    if (DATA_CALLS.test(method) && /(session|db|conn|connection|cursor|engine|tx|uow|repo)\b/i.test(object)) return true;
  }
  const callee = model.callee(call) ?? '';
  if (/^(sqlmodel|sqlalchemy)(\.\w+)*\.(select|update|delete|insert)$/.test(callee)) return true;
  if (depth > 0) return false;
  const target = resolveCallTarget(ws, file, model, call);
  return !!target && descendantsInScope(target.fn.body, 'call').some((c) => dataCall(ws, target.model, target.file, c, depth + 1));
}

/** The outermost call/attribute chain around a call (`session.exec(select(User).offset(s)).all()`). */
function enclosingChain(node: Node): Node {
  let n = node;
  while (n.parent && ['call', 'attribute', 'argument_list', 'await', 'parenthesized_expression'].includes(n.parent.type)) n = n.parent;
  return n;
}

/** `user = session.get(User, user_id)` where `user_id` is not the identity. */
function loadedByClientValue(model: ModuleModel, route: Route, name: string, identity: IdentityInfo): boolean {
  const values = model.localAssignments(route.handler.body).get(name) ?? [];
  return values.some((v) => {
    const idents = v.descendantsOfType('identifier').filter((n): n is Node => !!n);
    return !idents.some((i) => identity.names.has(i.text)) && route.handler.params.some((p) => idents.some((i) => i.text === p.name && !identity.names.has(p.name) && !p.marker?.dependency));
  });
}

/** Adds the workspace's role-check dependency to the route decorator's `dependencies=[...]`. */
function roleCheckFix(ws: Workspace, model: ModuleModel, route: Route): Fix | undefined {
  const check = preferredRoleCheck(ws);
  if (!check) return undefined;
  const decorator = route.decorator;
  if (decorator.type !== 'call') return undefined;
  const edits: TextEdit[] = [];
  const depends = ensureImport(model, 'fastapi', 'Depends');
  const sameModule = check.module === model.moduleName;
  const fnImport: { edit?: TextEdit; local: string } = sameModule ? { local: check.name } : ensureImport(model, check.module, check.name);
  // Two new import lines at the same place become one insertion (fix edits must not overlap).
  for (const e of [depends.edit, fnImport.edit]) {
    if (!e) continue;
    const twin = edits.find((x) => x.range.start.line === e.range.start.line && x.range.start.character === e.range.start.character && x.range.end.line === e.range.end.line);
    if (twin) twin.newText += e.newText;
    else edits.push({ ...e });
  }
  const dep = `${depends.local}(${fnImport.local})`;
  const existing = callArguments(decorator).keywords.get('dependencies');
  if (existing) {
    if (existing.type !== 'list') return undefined;
    const items = children(existing);
    const last = items[items.length - 1];
    const at = last ? last.endPosition : { row: existing.startPosition.row, column: existing.startPosition.column + 1 };
    edits.push({ range: { start: { line: at.row, character: at.column }, end: { line: at.row, character: at.column } }, newText: `${last ? ', ' : ''}${dep}` });
  } else {
    const edit = appendArgumentEdit(decorator, `dependencies=[${dep}]`);
    if (!edit) return undefined;
    edits.push(edit);
  }
  return { title: `Require \`${check.name}\` on this route (unsafe)`, safety: 'unsafe', edits };
}

function short(qualified: string): string {
  const clean = qualified.replace(/\(\)$/, '');
  return clean.slice(clean.lastIndexOf('.') + 1);
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
