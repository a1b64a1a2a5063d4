import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { Fix, Range, RelatedLocation, TextEdit } from '../core/types';
import type { Workspace } from '../workspace/workspace';
import { routes } from '../workspace/app-graph';
import { routeAuth } from '../workspace/auth';
import { handlerFlow, type Holder, type LoadInfo, type ObjectUse } from '../workspace/handler-flow';
import { ensureImport } from '../python/edits';
import { children, rangeOf } from '../python/syntax';

type MessageId = 'unchecked' | 'noIdentity' | 'bulk';

export const ISO204 = defineRule<MessageId>({
  code: 'ISO204',
  name: 'missing-ownership-check',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [8],
  // Exact: `check` only hands out this file's share of the memoized workspace-wide findings (a load may sit in a
  // helper file that no route names), and computing them walks only the routes' flows.
  prescan: (file, ws) => findings(ws).some((f) => f.file === file.path),
  messages: {
    unchecked: '`{object}` (`{model}`) is loaded by id at {load} and {use} at {useAt} without comparing `{object}.{owner}` to `{identity}`',
    noIdentity: '`{object}` (`{model}`) is loaded by id at {load} and {use} at {useAt} without an ownership check: {reason}',
    bulk: '`{statement}` {use} a `{model}` row by id at {load} without binding `{model}.{owner}` to `{identity}`',
  },
  docs: `## What it does
Finds an owned object loaded by its own id (\`session.get(Task, task_id)\`, \`select(Task).where(Task.id == task_id)\`,
\`db.query(Task).filter_by(id=task_id).first()\`, \`Task.get(id=task_id)\`, a \`get_or_404\`-style helper in another
file, a dependency that loads it) in an authenticated route and then returned, changed or deleted, with no check
that its owner is the authenticated user.

These count as checks: \`if task.user_id != current_user.id: raise HTTPException(...)\` (in the handler or in the
helper that loads it), a helper given the object and the identity that raises, the owner bound in the same query
(\`where(Task.id == task_id, Task.user_id == current_user.id)\`), and an admin guard or admin-only dependency.

## Why is this bad?
Ids are guessable (sequential integers) or leak (URLs, logs). Without the check, any signed-in user can read,
change or delete any other user's object by changing the id in the URL: the classic IDOR (OWASP API1).

## Example
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Field, Session, SQLModel, create_engine

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


@app.get("/tasks/{task_id}")
def read_task(task_id: int, user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        task = session.get(Task, task_id)
        if task is None:
            raise HTTPException(status_code=404, detail="Task not found")
        return task
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Field, Session, SQLModel, create_engine

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


@app.get("/tasks/{task_id}")
def read_task(task_id: int, user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        task = session.get(Task, task_id)
        if task is None or task.user_id != user_id:
            raise HTTPException(status_code=404, detail="Task not found")
        return task
\`\`\`

## Fix safety
Unsafe: for an object assigned from the load (\`task = session.get(...)\`, \`task = crud.get_task(...)\`), the fix
inserts \`if task is None or task.<owner> != <authenticated id>: raise HTTPException(status_code=404, ...)\` right
after the assignment (importing \`HTTPException\` when missing). It answers 404 rather than 403 so that another
user's ids cannot be probed for existence, and it folds in the not-found case so the check never dereferences
\`None\`. For a statement that loads through a query (\`select(Task).where(Task.id == task_id)\`, a bulk
\`delete(Task).where(...)\`) the fix binds the owner in the same query instead. No fix is offered when no identity is
in scope where the object lands.

## References
- [OWASP API Security Top 10: API1 Broken Object Level Authorization](https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/)
- [OWASP: Insecure Direct Object Reference Prevention Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Insecure_Direct_Object_Reference_Prevention_Cheat_Sheet.html)
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

function findings(ws: Workspace): Item[] {
  return ws.memo('ISO204:findings', () => {
    const out: Item[] = [];
    const seen = new Set<string>();
    for (const route of routes(ws)) {
      if (!routeAuth(ws, route).authenticated) continue;
      const flow = handlerFlow(ws, route);
      if (flow.adminOnly) continue;
      for (const load of flow.loads) {
        if (load.ownerBound || load.ownerFiltered || load.check || load.adminGuarded || load.uses.length === 0) continue;
        // `session.get(Profile, current_user.id)`: the key is the identity itself.
        if (load.idValue && load.where.identity.isIdentityExpression(load.idValue)) continue;
        if (load.model.ownerColumns.length === 0 && load.model.ownerRelationships.length === 0) continue;
        const item = itemFor(ws, load);
        const key = `${item.file}:${item.range.start.line}:${item.range.start.character}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(item);
      }
    }
    return out;
  });
}

function line(file: string, node: Node, here: string): string {
  const rel = file === here ? '' : `${file.split(/[\\/]/).slice(-2).join('/')}:`;
  return `${rel ? rel : 'line '}${node.startPosition.row + 1}`;
}

function itemFor(ws: Workspace, load: LoadInfo): Item {
  // Report where the object lands closest to the handler: that is where a check can use the identity.
  const top = load.holders[load.holders.length - 1];
  const reportNode = top.where === load.where ? load.node : top.statement;
  const file = top.where.file;
  const use = pickUse(load.uses, top);
  const object = objectName(top) ?? load.model.name.toLowerCase();
  const owner = load.model.ownerColumns[0] ?? load.model.ownerRelationships[0];
  const identity = top.where.identity;
  const related: RelatedLocation[] = [];
  if (top.where !== load.where) related.push({ file: load.where.file, range: rangeOf(load.node), message: `\`${load.model.name}\` is loaded by id here` });
  related.push({ file: use.where.file, range: rangeOf(use.node), message: `\`${object}\` is ${useVerb(use)} here` });
  const data: Record<string, string | number> = {
    object,
    model: load.model.name,
    load: line(load.where.file, load.node, file),
    use: useVerb(use),
    useAt: line(use.where.file, use.node, file),
    owner,
  };
  const reason = identity.noIdentityReason;
  const value = load.model.ownerColumns.length ? identity.idExpression : identity.objectExpression;
  if (!value) {
    return {
      file,
      range: rangeOf(reportNode),
      messageId: 'noIdentity',
      data: { ...data, reason: reason ?? `no authenticated identity is in scope in \`${top.where.fn.name}\`` },
      related,
    };
  }
  const fix = fixFor(ws, load, top, object, owner, value);
  if (load.query && (load.query.kind === 'delete' || load.query.kind === 'update')) {
    const statement = `${load.query.kind}(${load.query.modelNode.text})`;
    return { file, range: rangeOf(reportNode), messageId: 'bulk', data: { ...data, statement, use: load.query.kind === 'delete' ? 'deletes' : 'updates', identity: value }, related: [], fix };
  }
  return { file, range: rangeOf(reportNode), messageId: 'unchecked', data: { ...data, identity: value }, related, fix };
}

/** The most telling use, preferring the function where the object lands (the handler) over the loader's own return. */
function pickUse(uses: ObjectUse[], top: Holder): ObjectUse {
  const here = uses.filter((u) => u.where === top.where);
  const pool = here.length ? here : uses;
  return pool.find((u) => u.kind === 'delete') ?? pool.find((u) => u.kind === 'write') ?? pool[0];
}

function useVerb(use: ObjectUse): string {
  return use.kind === 'delete' ? 'deleted' : use.kind === 'write' ? 'changed' : 'returned';
}

/** The name assigned directly from the load in the holder statement (`task = ...`). */
function objectName(holder: Holder): string | undefined {
  let stmt = holder.statement;
  if (stmt.type === 'expression_statement') stmt = children(stmt)[0] ?? stmt;
  if (stmt.type === 'assignment') {
    const left = stmt.childForFieldName('left');
    if (left?.type === 'identifier') return left.text;
  }
  // A dependency parameter: `task: Task = Depends(get_task)`.
  if (/parameter$/.test(stmt.type)) return stmt.childForFieldName('name')?.text ?? children(stmt)[0]?.text;
  return undefined;
}

function fixFor(ws: Workspace, load: LoadInfo, top: Holder, object: string, owner: string, value: string): Fix | undefined {
  const model = top.where.model;
  const file = ws.file(top.where.file);
  if (!file) return undefined;
  // Query loads in the same function: bind the owner in the query itself.
  if (load.query && top.where === load.where && (load.query.kind === 'select' || load.query.kind === 'query' || load.query.kind === 'delete' || load.query.kind === 'update')) {
    const method = load.query.kind === 'query' ? 'filter' : 'where';
    const text = `.${method}(${load.query.modelNode.text}.${owner} == ${value})`;
    const end = { line: load.query.node.endPosition.row, character: load.query.node.endPosition.column };
    return { title: `Add \`${text.slice(1)}\` to the query`, safety: 'unsafe', edits: [{ range: { start: end, end }, newText: text }] };
  }
  let stmt = top.statement;
  if (stmt.type === 'expression_statement') stmt = children(stmt)[0] ?? stmt;
  if (stmt.type !== 'assignment' || stmt.childForFieldName('left')?.type !== 'identifier') return undefined;
  const statement = top.statement.type === 'expression_statement' ? top.statement : top.statement.parent!;
  const lineText = file.text.split('\n')[statement.startPosition.row] ?? '';
  const indent = /^[ \t]*/.exec(lineText)![0];
  const unit = /\t/.test(indent) ? '\t' : '    ';
  const edits: TextEdit[] = [];
  const imp = ensureImport(model, 'fastapi', 'HTTPException');
  if (imp.edit) edits.push(imp.edit);
  const at = { line: statement.endPosition.row + 1, character: 0 };
  const text =
    `${indent}if ${object} is None or ${object}.${owner} != ${value}:\n` +
    `${indent}${unit}raise ${imp.local}(status_code=404, detail="${load.model.name} not found")\n`;
  edits.push({ range: { start: at, end: at }, newText: text });
  return { title: `Check that \`${object}.${owner}\` is \`${value}\` after loading it`, safety: 'unsafe', edits };
}
