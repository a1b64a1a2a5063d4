import { defineRule } from './rule';
import type { Fix, RelatedLocation } from '../core/types';
import type { Workspace } from '../workspace/workspace';
import { routes, type Route } from '../workspace/app-graph';
import { routeAuth } from '../workspace/auth';
import { ownedModelByName, type OwnedModel } from '../workspace/owned-models';
import { clientMaySet } from '../workspace/client-input';
import { clientWritesIn, excludeFieldsEdit, type ClientWrite } from '../workspace/client-writes';
import { routeRoleCheck } from '../workspace/role-checks';
import { rangeOf } from '../python/syntax';
import { pinnedBelow, pinnedMajor } from '../workspace/pinned-versions';
import type { Node } from 'web-tree-sitter';

type MessageId = 'copy';

interface Finding {
  file: string;
  node: Node;
  data: Record<string, string>;
  related: RelatedLocation[];
  fix?: Fix;
}

export const ISO206 = defineRule<MessageId>({
  code: 'ISO206',
  name: 'owner-reassignable',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [8],
  // Exact: `check` only hands out this file's share of the memoized workspace-wide findings (the update may sit
  // in a helper file), and computing them walks only the routes' writes.
  prescan: (file, ws) => findingsOf(ws).some((f) => f.file === file.path),
  messages: {
    copy: '{how} copies {origin} onto {target} including the owner field `{column}`, so a client can move it to another user',
  },
  docs: `## What it does
Finds updates that copy client data onto an owned object field by field (a \`setattr\` loop over
\`body.model_dump().items()\`, \`obj.sqlmodel_update(data)\`, \`query.update(data)\`, \`update(Model).values(**data)\`)
where the client's model (or a free-form dict) includes the owner column. Helpers the handler passes the data to
are followed across files. Not a finding: the owner excluded from the dump (\`exclude={"user_id"}\`), skipped in
the loop, pinned with \`update={"user_id": ...}\`, update models without the owner field, and routes guarded by a
role check.

## Why is this bad?
The update checks that the caller owns the object, then lets the caller's JSON rewrite the owner: one
\`PATCH {"user_id": "<victim>"}\` moves the object into another account (or out of every account's view).

## Example
\`\`\`python
import os
from typing import Optional

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


class TaskUpdate(SQLModel):
    title: Optional[str] = None
    user_id: Optional[str] = None


def get_current_user_id(credentials=Depends(bearer)) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return payload["sub"]


@app.patch("/tasks/{task_id}")
def update_task(task_id: int, body: TaskUpdate, user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        task = session.get(Task, task_id)
        if task is None or task.user_id != user_id:
            raise HTTPException(status_code=404, detail="Not found")
        for key, value in body.model_dump(exclude_unset=True).items():
            setattr(task, key, value)
        session.commit()
        return task
\`\`\`

## Use instead
\`\`\`python
import os
from typing import Optional

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


class TaskUpdate(SQLModel):
    title: Optional[str] = None
    user_id: Optional[str] = None


def get_current_user_id(credentials=Depends(bearer)) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return payload["sub"]


@app.patch("/tasks/{task_id}")
def update_task(task_id: int, body: TaskUpdate, user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        task = session.get(Task, task_id)
        if task is None or task.user_id != user_id:
            raise HTTPException(status_code=404, detail="Not found")
        for key, value in body.model_dump(exclude_unset=True, exclude={"user_id"}).items():
            setattr(task, key, value)
        session.commit()
        return task
\`\`\`

## Fix safety
Safe: the fix adds the owner column to the dump's \`exclude=\` (or dumps the body with
\`model_dump(exclude_unset=True, exclude={...})\`, which is what \`sqlmodel_update(body)\` does without the owner).
Requests that tried to change the owner now leave it unchanged. No fix when \`exclude=\` is not a literal or the
data is a free-form dict; better still, remove the field from the update model.

## References
- [OWASP API Security Top 10: API3 Broken Object Property Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa3-broken-object-property-level-authorization/)
- [SQLModel: Update data with FastAPI](https://sqlmodel.tiangolo.com/tutorial/fastapi/update/)
- [CWE-915: Improperly Controlled Modification of Dynamically-Determined Object Attributes](https://cwe.mitre.org/data/definitions/915.html)
`,
  check(ctx) {
    for (const f of findingsOf(ctx.workspace)) {
      if (f.file === ctx.file.path) ctx.report({ node: f.node, messageId: 'copy', data: f.data, related: f.related, fix: f.fix });
    }
  },
});

function findingsOf(ws: Workspace): Finding[] {
  return ws.memo('isob:ISO206', () => {
    const out: Finding[] = [];
    const seen = new Set<string>();
    const handled = new Set<string>();
    for (const route of routes(ws)) {
      const key = `${route.file}:${route.handler.node.startIndex}`;
      if (handled.has(key)) continue;
      handled.add(key);
      for (const f of routeFindings(ws, route)) {
        const id = `${f.file}:${f.node.startIndex}`;
        if (!seen.has(id)) {
          seen.add(id);
          out.push(f);
        }
      }
    }
    return out;
  });
}

function routeFindings(ws: Workspace, route: Route): Finding[] {
  if (!routeAuth(ws, route).authenticated) return [];
  // Administrators may reassign objects.
  if (routeRoleCheck(ws, route)) return [];
  const out: Finding[] = [];
  for (const w of clientWritesIn(ws, route.file, route.handler, route.path)) {
    if (w.kind !== 'setattr-loop' && w.kind !== 'model-update' && w.kind !== 'query-update') continue;
    const owned = ownedModelByName(ws, w.modelClass);
    // A known class that is not owned (a profile keyed by the user's own id) has no owner to move.
    if (w.modelClass && !owned) continue;
    // With neither the target's class nor the client's fields known there is no evidence either way.
    if (!owned && !w.data.model) continue;
    const candidates = owned ? owned.ownerColumns : ws.settingsFor(w.file).ownerColumns;
    const column = candidates.find((c) => exposes(ws, w, c));
    if (!column) continue;
    out.push(finding(ws, route, w, owned, column));
  }
  return out;
}

function exposes(ws: Workspace, w: ClientWrite, column: string): boolean {
  if (w.explicit.has(column)) return false;
  if (w.filteredKeys === 'unknown' || w.filteredKeys?.has(column)) return false;
  return clientMaySet(ws, w.data, column);
}

function finding(ws: Workspace, route: Route, w: ClientWrite, owned: OwnedModel | undefined, column: string): Finding {
  const how =
    w.kind === 'setattr-loop' ? `The \`setattr\` loop over \`${w.dataNode.text}\`` : `\`${shorten(w.call.text)}\``;
  const target = owned ? `a \`${owned.name}\`` : w.target ? `\`${w.target.text}\`` : 'the rows';
  const related: RelatedLocation[] = [];
  const inHandler = w.fn.node.id === route.handler.node.id && w.file === route.file;
  if (!inHandler) related.push({ file: route.decoratorFile ?? route.file, range: rangeOf(route.decorator), message: `route \`${route.method} ${route.path}\`` });
  if (w.data.model) {
    const field = w.data.model.cls.fields.get(column);
    related.push({ file: w.data.model.file, range: rangeOf(field?.node ?? w.data.model.cls.node), message: `\`${w.data.model.cls.name}\` lets the client send \`${column}\`` });
  }
  if (owned) related.push({ file: owned.file, range: rangeOf(owned.node), message: `\`${owned.name}\` is owned through \`${column}\`` });
  const origin = inHandler || !w.data.param ? w.data.origin : `parameter \`${w.data.param.name}\` (the request body of \`${route.method} ${route.path}\`)`;
  return { file: w.file, node: w.node, data: { how, origin, target, column }, related, fix: fixFor(ws, w, column) };
}

function fixFor(ws: Workspace, w: ClientWrite, column: string): Fix | undefined {
  const title = `Exclude \`${column}\` from the update`;
  if (w.data.dump) {
    const edit = excludeFieldsEdit(w.data.dump, [column]);
    return edit ? { title, safety: 'safe', edits: [edit] } : undefined;
  }
  // `task.sqlmodel_update(body)`: SQLModel dumps a model with `exclude_unset=True`; spell that out without the owner.
  if (w.data.model && w.data.param && w.dataNode.text === w.data.param.name) {
    const pydantic = pinnedMajor(ws.pinnedVersion('pydantic'));
    const v1 = (pydantic !== undefined && pydantic < 2) || pinnedBelow(ws.pinnedVersion('sqlmodel'), [0, 0, 14]) === true;
    const dump = v1 ? 'dict' : 'model_dump';
    return { title, safety: 'safe', edits: [{ range: rangeOf(w.dataNode), newText: `${w.dataNode.text}.${dump}(exclude_unset=True, exclude={${JSON.stringify(column)}})` }] };
  }
  return undefined;
}

function shorten(text: string): string {
  const one = text.replace(/\s+/g, ' ');
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
