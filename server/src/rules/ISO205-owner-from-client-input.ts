import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { Fix, RelatedLocation, TextEdit } from '../core/types';
import type { FunctionInfo } from '../python/module-model';
import type { Workspace } from '../workspace/workspace';
import { routes, type Route } from '../workspace/app-graph';
import { routeAuth } from '../workspace/auth';
import { identityExpressions } from '../workspace/identity';
import { ownedModelByName, type OwnedModel } from '../workspace/owned-models';
import { clientMaySet, clientValuesIn, isScalar } from '../workspace/client-input';
import { appendArgumentEdit, classOf, clientWritesIn, excludeFieldsEdit, objectClass, type ClientWrite } from '../workspace/client-writes';
import { routeRoleCheck } from '../workspace/role-checks';
import { children, descendantsInScope, rangeOf } from '../python/syntax';

type MessageId = 'whole' | 'field' | 'wholeNoIdentity' | 'fieldNoIdentity';

interface Finding {
  file: string;
  node: Node;
  messageId: MessageId;
  data: Record<string, string>;
  related: RelatedLocation[];
  fix?: Fix;
}

export const ISO205 = defineRule<MessageId>({
  code: 'ISO205',
  name: 'owner-from-client-input',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [6],
  // Exact: `check` only hands out this file's share of the memoized workspace-wide findings (the write may sit in
  // a helper file), and computing them walks only the routes' writes.
  prescan: (file, ws) => findingsOf(ws).some((f) => f.file === file.path),
  messages: {
    whole: '`{call}` creates a `{model}` whose owner `{column}` comes from {origin} instead of the authenticated `{identity}`',
    field: '`{model}.{column}` is set from {origin} instead of the authenticated `{identity}`',
    wholeNoIdentity: '`{call}` creates a `{model}` whose owner `{column}` comes from {origin}, and {reason}',
    fieldNoIdentity: '`{model}.{column}` is set from {origin}, and {reason}',
  },
  docs: `## What it does
Finds owned objects created with their owner taken from the request: \`Model(**body.dict())\`,
\`Model.model_validate(body)\` or \`Model(**data)\` where the client's model (or dict) carries the owner column, and
\`owner_id=body.owner_id\` or \`task.user_id = body.user_id\`. Writes in helpers the handler passes the body to
are followed across files. Not a finding: the owner excluded from the copy, set from the authenticated identity
next to it (\`update={"user_id": ...}\`, a keyword) or overwritten before the object is saved, and routes guarded by
a role check (administrators creating objects for others).

## Why is this bad?
Whoever sends the request chooses the owner: a user can create objects in another user's account (planting data,
spending their quota) or take ownership of shared identifiers. The owner must come from the verified token.

## Example
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
bearer = HTTPBearer()


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    user_id: str


class TaskCreate(SQLModel):
    title: str
    user_id: str


def get_current_user_id(credentials=Depends(bearer)) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return payload["sub"]


@app.post("/tasks")
def create_task(body: TaskCreate, user_id: str = Depends(get_current_user_id)):
    task = Task.model_validate(body)
    with Session(engine) as session:
        session.add(task)
        session.commit()
    return task
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPBearer
from sqlmodel import Field, Session, SQLModel, create_engine

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
bearer = HTTPBearer()


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    user_id: str


class TaskCreate(SQLModel):
    title: str
    user_id: str


def get_current_user_id(credentials=Depends(bearer)) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return payload["sub"]


@app.post("/tasks")
def create_task(body: TaskCreate, user_id: str = Depends(get_current_user_id)):
    task = Task.model_validate(body, update={"user_id": user_id})
    with Session(engine) as session:
        session.add(task)
        session.commit()
    return task
\`\`\`

## Fix safety
Safe: the fix sets the owner from the authenticated identity (\`update={"user_id": ...}\` for SQLModel's
\`model_validate\`; \`exclude={"user_id"}\` on the dump plus \`user_id=...\`; \`**{**data, "user_id": ...}\`; or the
identity in place of the client's value). A client that sent its own id sees no change. No fix is offered when the
write is in a helper (the identity is not in scope there) or the route has no identity in scope.

## References
- [OWASP API Security Top 10: API3 Broken Object Property Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/)
- [SQLModel: Create data with model_validate and update](https://sqlmodel.tiangolo.com/tutorial/fastapi/update-extra-data/)
- [CWE-639: Authorization Bypass Through User-Controlled Key](https://cwe.mitre.org/data/definitions/639.html)
`,
  check(ctx) {
    for (const f of findingsOf(ctx.workspace)) {
      if (f.file !== ctx.file.path) continue;
      ctx.report({ node: f.node, messageId: f.messageId, data: f.data, related: f.related, fix: f.fix });
    }
  },
});

/** All findings of the workspace, computed once: a helper's write is reached from routes in other files. */
function findingsOf(ws: Workspace): Finding[] {
  return ws.memo('isob:ISO205', () => {
    const out: Finding[] = [];
    const seen = new Set<string>();
    const handled = new Set<string>();
    for (const route of routes(ws)) {
      const key = `${route.file}:${route.handler.node.startIndex}`;
      if (handled.has(key)) continue;
      handled.add(key);
      for (const f of routeFindings(ws, route)) {
        const id = `${f.file}:${f.node.startIndex}:${f.data.column}`;
        if (seen.has(id)) continue;
        seen.add(id);
        out.push(f);
      }
    }
    return out;
  });
}

function routeFindings(ws: Workspace, route: Route): Finding[] {
  if (!routeAuth(ws, route).authenticated) return [];
  // Administrators may create objects on behalf of other users.
  if (routeRoleCheck(ws, route)) return [];
  const identity = identityExpressions(ws, route);
  const out: Finding[] = [];
  const routeRelated: RelatedLocation = { file: route.decoratorFile ?? route.file, range: rangeOf(route.decorator), message: `route \`${route.method} ${route.path}\`` };

  for (const w of clientWritesIn(ws, route.file, route.handler, route.path)) {
    if (w.kind !== 'construct' && w.kind !== 'validate') continue;
    const owned = ownedModelByName(ws, w.modelClass);
    if (!owned) continue;
    const column = owned.ownerColumns.find((c) => clientMaySet(ws, w.data, c) && !w.explicit.has(c));
    if (!column || overwrittenLater(w.fn, w.node, owned)) continue;
    const inHandler = w.fn.node.id === route.handler.node.id && w.file === route.file;
    const related: RelatedLocation[] = [];
    if (!inHandler) related.push(routeRelated);
    if (w.data.param) related.push({ file: w.file, range: rangeOf(w.data.param.param.node), message: `\`${w.data.param.name}\` holds the request ${w.data.param.source}` });
    related.push({ file: owned.file, range: rangeOf(owned.node), message: `\`${owned.name}\` is owned through \`${column}\`` });
    const origin = inHandler || !w.data.param ? w.data.origin : `parameter \`${w.data.param.name}\`, which receives the request body of \`${route.method} ${route.path}\``;
    const data: Record<string, string> = { call: shorten(w.node.text), model: owned.name, column, origin };
    if (!identity.idExpression) {
      out.push({ file: w.file, node: w.node, messageId: 'wholeNoIdentity', data: { ...data, reason: identity.noIdentityReason ?? 'no authenticated identity is in scope' }, related });
      continue;
    }
    out.push({
      file: w.file,
      node: w.node,
      messageId: 'whole',
      data: { ...data, identity: identity.idExpression },
      related,
      fix: inHandler ? wholeFix(w, owned, column, identity.idExpression) : undefined,
    });
  }

  // `Task(..., user_id=body.user_id)` and `task.user_id = body.user_id`: one field from the body.
  // Scalar parameters (`/{user_id}/tasks`) are ISO202's finding.
  const values = clientValuesIn(ws, route.file, route.handler, route.path, () => true).filter((v) => !v.param || !isScalar(v.param));
  const model = ws.model(route.file);
  if (!model) return out;
  for (const v of values) {
    const parent = v.node.parent;
    let owned: OwnedModel | undefined;
    let column: string | undefined;
    let target: Node | undefined;
    if (parent?.type === 'keyword_argument' && parent.childForFieldName('value')?.id === v.node.id) {
      const call = parent.parent?.parent;
      column = parent.childForFieldName('name')?.text;
      owned = call?.type === 'call' ? ownedModelByName(ws, classOf(ws, model, call.childForFieldName('function'))) : undefined;
      target = call ?? undefined;
    } else if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === v.node.id) {
      const left = parent.childForFieldName('left');
      if (left?.type === 'attribute') {
        column = left.childForFieldName('attribute')?.text;
        owned = ownedModelByName(ws, objectClass(ws, model, route.file, route.handler, left.childForFieldName('object') ?? undefined));
        target = parent;
      }
    }
    if (!owned || !column || !owned.ownerColumns.includes(column) || !target) continue;
    const related: RelatedLocation[] = [];
    if (v.param) related.push({ file: route.file, range: rangeOf(v.param.param.node), message: `\`${v.param.name}\` is read from the request ${v.param.source}` });
    const data = { model: owned.name, column, origin: v.origin };
    if (!identity.idExpression) {
      out.push({ file: route.file, node: v.node, messageId: 'fieldNoIdentity', data: { ...data, reason: identity.noIdentityReason ?? 'no authenticated identity is in scope' }, related });
      continue;
    }
    out.push({
      file: route.file,
      node: v.node,
      messageId: 'field',
      data: { ...data, identity: identity.idExpression },
      related,
      fix: {
        title: `Set \`${column}\` from \`${identity.idExpression}\``,
        safety: 'safe',
        edits: [{ range: rangeOf(v.node), newText: identity.idExpression }],
      },
    });
  }
  return out;
}

/** `task = Task.model_validate(body)` followed by `task.user_id = ...` (or `task.owner = ...`) in the same function. */
function overwrittenLater(fn: FunctionInfo, write: Node, owned: OwnedModel): boolean {
  let stmt: Node | null = write;
  while (stmt && stmt.type !== 'assignment') {
    if (stmt.type === 'expression_statement' || stmt.type === 'block') return false;
    stmt = stmt.parent;
  }
  const left = stmt?.childForFieldName('left');
  if (!stmt || left?.type !== 'identifier') return false;
  const name = left.text;
  const fields = new Set([...owned.ownerColumns, ...owned.ownerRelationships]);
  return descendantsInScope(fn.body, 'assignment').some((a) => {
    const l = a.childForFieldName('left');
    return a.startIndex > stmt!.startIndex && l?.type === 'attribute' && l.childForFieldName('object')?.text === name && fields.has(l.childForFieldName('attribute')?.text ?? '');
  });
}

function wholeFix(w: ClientWrite, owned: OwnedModel, column: string, identity: string): Fix | undefined {
  const edits: TextEdit[] = [];
  const title = `Set \`${column}\` from \`${identity}\``;
  if (w.kind === 'validate') {
    const method = w.call.childForFieldName('function')?.childForFieldName('attribute')?.text;
    // Only SQLModel's `model_validate` takes `update=`.
    if (method !== 'model_validate' || owned.orm !== 'sqlmodel') return undefined;
    if (!w.update) {
      const edit = appendArgumentEdit(w.call, `update={${JSON.stringify(column)}: ${identity}}`);
      return edit ? { title, safety: 'safe', edits: [edit] } : undefined;
    }
    if (w.update.type !== 'dictionary') return undefined;
    const pairs = children(w.update);
    const last = pairs[pairs.length - 1];
    const at = last ? last.endPosition : { row: w.update.startPosition.row, column: w.update.startPosition.column + 1 };
    edits.push({ range: { start: { line: at.row, character: at.column }, end: { line: at.row, character: at.column } }, newText: `${last ? ', ' : ''}${JSON.stringify(column)}: ${identity}` });
    return { title, safety: 'safe', edits };
  }
  // Constructor: exclude the column from the dump and pass it explicitly, or override it in a merged dict.
  if (w.data.dump && w.data.dump.id === w.dataNode.id) {
    const exclude = excludeFieldsEdit(w.data.dump, [column]);
    const append = appendArgumentEdit(w.call, `${column}=${identity}`);
    if (!exclude || !append) return undefined;
    return { title, safety: 'safe', edits: [exclude, append] };
  }
  const splat = w.dataNode.parent;
  if (splat?.type !== 'dictionary_splat') return undefined;
  return { title, safety: 'safe', edits: [{ range: rangeOf(splat), newText: `**{**${w.dataNode.text}, ${JSON.stringify(column)}: ${identity}}` }] };
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
