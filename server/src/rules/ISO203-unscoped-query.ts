import { defineRule } from './rule';
import type { Fix, Range, RelatedLocation } from '../core/types';
import type { Workspace } from '../workspace/workspace';
import { routes } from '../workspace/app-graph';
import { routeAuth } from '../workspace/auth';
import { handlerFlow, type QueryInfo } from '../workspace/handler-flow';
import { rangeOf } from '../python/syntax';

type MessageId = 'unscoped' | 'noIdentity' | 'helper';

export const ISO203 = defineRule<MessageId>({
  code: 'ISO203',
  name: 'unscoped-query',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [7],
  // Exact: `check` only hands out this file's share of the memoized workspace-wide findings (a query may sit in a
  // helper file that no route names), and computing them walks only the routes' flows.
  prescan: (file, ws) => findings(ws).some((f) => f.file === file.path),
  messages: {
    unscoped: 'Query over owned model `{model}` in {where} is not filtered by `{model}.{owner}`; compare it with the authenticated `{identity}`',
    helper: 'Query over owned model `{model}` in {where} is not filtered by `{model}.{owner}`; the helper does not receive the authenticated identity',
    noIdentity: 'Query over owned model `{model}` in {where} is not filtered by `{model}.{owner}`, and {reason}',
  },
  docs: `## What it does
Finds queries over an owned model (\`select(Task)\`, \`session.query(Task)\`, \`Task.objects\`, \`Task.all()\`,
\`Task.filter(...)\`) that run for an authenticated route, in the handler or in a helper it calls (across files), and
have no filter binding the owner column to the authenticated identity: no \`where(Task.user_id == current_user.id)\`,
\`filter_by(user_id=...)\`, \`and_(...)\`, chained \`.where()\` or \`stmt = stmt.where(...)\` on the owner.

Not reported: queries inside an admin guard (\`if current_user.is_superuser:\`, after a role check that raises, or
in a route whose dependency is an admin-only check), loads of one object by its id (ISO204 covers those), queries
filtered on the owner column with a client-supplied value (ISO202 covers those), queries narrowed to an owned parent
by its foreign key (\`Comment.post_id == post_id\` where \`Post\` has an owner: ownership is checked where the
parent is loaded, see ISO204), and unauthenticated routes (ISO201).

## Why is this bad?
Every signed-in user sees (or changes) every other user's rows: the route is authenticated, but the data is not
isolated per user (OWASP API1, Broken Object Level Authorization).

## Example
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Field, Session, SQLModel, create_engine, select

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    user_id: str


def get_current_user_id(token: str = Depends(oauth2_scheme)) -> str:
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return payload["sub"]


@app.get("/tasks")
def list_tasks(user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        return session.exec(select(Task)).all()
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Field, Session, SQLModel, create_engine, select

app = FastAPI()
engine = create_engine(os.environ["DATABASE_URL"])
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


class Task(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    user_id: str


def get_current_user_id(token: str = Depends(oauth2_scheme)) -> str:
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return payload["sub"]


@app.get("/tasks")
def list_tasks(user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        return session.exec(select(Task).where(Task.user_id == user_id)).all()
\`\`\`

## Fix safety
Unsafe: the fix appends \`.where(Model.<owner> == <authenticated id>)\` (\`.filter(...)\` for \`session.query\`) right
after the query's start, using the identity in scope where the query is written. It changes what the query
returns, which is the point, but a route meant for administrators needs a role check instead. No fix is offered when
no identity is in scope there (a helper that does not receive it, \`dependencies=[...]\`-only routes) or for
Tortoise/Django-style querysets.

## References
- [OWASP API Security Top 10: API1 Broken Object Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/)
- [SQLModel: Filter data with WHERE](https://sqlmodel.tiangolo.com/tutorial/where/)
`,
  check(ctx) {
    for (const item of findings(ctx.workspace).filter((f) => f.file === ctx.file.path)) {
      ctx.report({ range: item.range, messageId: item.messageId, data: item.data, related: item.related, fix: item.fix });
    }
  },
});

interface Item {
  file: string;
  range: Range;
  messageId: MessageId;
  data: Record<string, string | number>;
  related: RelatedLocation[];
  fix?: Fix;
}

/** Every unscoped query of the workspace, once per query even when several routes reach it. */
function findings(ws: Workspace): Item[] {
  return ws.memo('ISO203:findings', () => {
    const out: Item[] = [];
    const seen = new Set<string>();
    for (const route of routes(ws)) {
      const auth = routeAuth(ws, route);
      if (!auth.authenticated) continue;
      const flow = handlerFlow(ws, route);
      if (flow.adminOnly) continue;
      for (const q of flow.queries) {
        if (q.ownerBound || q.ownerFilter || q.idFilter || q.parentFilter || !q.executed || q.adminGuarded) continue;
        const key = `${q.where.file}:${q.node.startIndex}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(itemFor(q, route.method, route.path, flow.route.handler.name, route.file, flow.functions[0]?.identity.noIdentityReason));
      }
    }
    return out;
  });
}

function itemFor(q: QueryInfo, method: string, path: string, handler: string, handlerFile: string, noIdentityReason: string | undefined): Item {
  const owner = q.model.ownerColumns[0] ?? q.model.ownerRelationships[0];
  const routeName = `${method} ${path || '/'}`;
  const related: RelatedLocation[] = [];
  const identity = q.where.identity;
  const inHelper = q.where.depth > 0;
  if (inHelper) {
    let top = q.where;
    while (top.parent) top = top.parent;
    const site = q.where.parent && q.where.callSite ? q.where.callSite : undefined;
    if (site && q.where.parent) related.push({ file: q.where.parent.file, range: rangeOf(site), message: `called from \`${handler}\` (${routeName})` });
    else related.push({ file: handlerFile, range: rangeOf(top.fn.node.childForFieldName('name') ?? top.fn.node), message: `route \`${routeName}\`` });
  }
  const where = inHelper ? `\`${q.where.fn.name}\` (called from \`${handler}\`, ${routeName})` : `\`${handler}\` (${routeName})`;
  const base = { model: q.model.name, owner, where };
  let messageId: MessageId;
  let data: Record<string, string | number>;
  if (noIdentityReason && !inHelper) {
    messageId = 'noIdentity';
    data = { ...base, reason: noIdentityReason };
  } else if (!identity.idExpression) {
    messageId = inHelper ? 'helper' : 'noIdentity';
    data = { ...base, reason: noIdentityReason ?? 'no identity is in scope' };
  } else {
    messageId = 'unscoped';
    data = { ...base, identity: comparand(q, identity.idExpression, identity.objectExpression) ?? identity.idExpression };
  }
  return { file: q.where.file, range: rangeOf(q.node), messageId, data, related, fix: fixFor(q) };
}

/** The value to compare the owner with: the id for a column, the user object for a relationship. */
function comparand(q: QueryInfo, idExpression: string | undefined, objectExpression: string | undefined): string | undefined {
  if (q.model.ownerColumns.length > 0) return idExpression;
  return objectExpression;
}

function fixFor(q: QueryInfo): Fix | undefined {
  const id = q.where.identity;
  const value = comparand(q, id.idExpression, id.objectExpression);
  if (!value || (q.kind !== 'select' && q.kind !== 'query')) return undefined;
  const owner = q.model.ownerColumns[0] ?? q.model.ownerRelationships[0];
  const method = q.kind === 'query' ? 'filter' : 'where';
  // `select(func.count()).select_from(Task)`: the filter goes after `select_from(...)`.
  let anchor = q.node;
  const parent = anchor.parent;
  if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.text === 'select_from' && parent.parent?.type === 'call') anchor = parent.parent;
  const text = `.${method}(${q.modelNode.text}.${owner} == ${value})`;
  const end = { line: anchor.endPosition.row, character: anchor.endPosition.column };
  return { title: `Add \`${text.slice(1)}\``, safety: 'unsafe', edits: [{ range: { start: end, end }, newText: text }] };
}
