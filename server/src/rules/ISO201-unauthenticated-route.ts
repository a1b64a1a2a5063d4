import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { Fix, RelatedLocation, TextEdit } from '../core/types';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Workspace } from '../workspace/workspace';
import { routesInFile, type Route } from '../workspace/app-graph';
import { authMiddlewares, dependencyVerdict, paramDependency, preferredAuthDependency, routeAuth, type PreferredAuth } from '../workspace/auth';
import { handlerFlow } from '../workspace/handler-flow';
import { lookup } from '../workspace/symbols';
import { ensureImport } from '../python/edits';
import { children, rangeOf } from '../python/syntax';

type MessageId = 'unauthenticated' | 'swallowing' | 'exempt';

export const ISO201 = defineRule<MessageId>({
  code: 'ISO201',
  name: 'unauthenticated-route',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [7, 8],
  // Exact: `check` reports only on handlers of `routesInFile`, so a file that defines no route handler (after
  // include chains, `add_api_route` from other files and imported routers) has nothing to report. The app graph
  // parses only files that can build an app/router or declare a route, and none when no file builds one.
  prescan: (file, ws) => routesInFile(ws, file.path).length > 0,
  messages: {
    unauthenticated: '`{method} {path}` {action} owned model `{model}` ({line}) but no auth dependency reaches it; {hint}',
    exempt: '`{method} {path}` {action} owned model `{model}` ({line}) but auth middleware `{middleware}` exempts this path and no auth dependency reaches it',
    swallowing: '`{method} {path}` {action} owned model `{model}` ({line}) but its dependency `{dependency}` lets a bad token through instead of raising; {hint}',
  },
  docs: `## What it does
Finds routes that read or write an owned model (a table with an owner column such as \`user_id\`, or a relationship
to the user model), directly or through helpers they call in any file, and that no auth dependency reaches: not
through a parameter (\`Depends\`, \`Security\`, an \`Annotated\` alias such as \`CurrentUser\`), not through the
decorator's, the router's, an \`include_router\` chain's or the app's \`dependencies=[...]\`, and not through an HTTP
middleware that verifies the token and answers 401 for the route's path.

A dependency counts as authentication only when it verifies the credential (a JWT library decode, a \`PyJWKClient\`
key, or a session/API token looked up in the database with its expiry checked) and raises when that fails. A
dependency that returns \`None\` for a bad token does not authenticate. Routes that touch no owned model (\`/health\`,
\`/login\`, \`/register\`, docs) are not reported.

## Why is this bad?
Anyone on the network can call the route without a token and read or change every user's data.

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


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    body: str
    user_id: str


def get_current_user_id(token: str = Depends(oauth2_scheme)) -> str:
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return payload["sub"]


@app.get("/notes")
def list_notes():
    with Session(engine) as session:
        return session.exec(select(Note)).all()
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


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    body: str
    user_id: str


def get_current_user_id(token: str = Depends(oauth2_scheme)) -> str:
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return payload["sub"]


@app.get("/notes")
def list_notes(user_id: str = Depends(get_current_user_id)):
    with Session(engine) as session:
        return session.exec(select(Note).where(Note.user_id == user_id)).all()
\`\`\`

## Fix safety
Unsafe: the fix adds \`current_user = Depends(<the workspace's auth dependency>)\` (or \`current_user: CurrentUser\` when
the workspace uses an \`Annotated\` alias) to the handler's signature, with the import it needs. Clients that called
the route without a token will get 401 afterwards, which is the point but changes behaviour; the handler still has
to use the identity to scope its queries (see ISO203). No fix is offered when the workspace has no auth dependency.

## References
- [OWASP API Security Top 10: API2 Broken Authentication](https://owasp.org/API-Security/editions/2023/en/0xa2-broken-authentication/)
- [FastAPI: Security - Get Current User](https://fastapi.tiangolo.com/tutorial/security/get-current-user/)
- [FastAPI: Dependencies in path operation decorators](https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-in-path-operation-decorators/)
`,
  check(ctx) {
    const { workspace: ws, file, model } = ctx;
    const byHandler = new Map<number, Route[]>();
    for (const r of routesInFile(ws, file.path)) {
      const list = byHandler.get(r.handler.node.id) ?? [];
      list.push(r);
      byHandler.set(r.handler.node.id, list);
    }
    for (const list of byHandler.values()) {
      // A handler mounted several times is reported once, for its first unauthenticated mount.
      const route = list.find((r) => !routeAuth(ws, r).authenticated);
      if (!route) continue;
      const flow = handlerFlow(ws, route);
      const touch = firstTouch(flow);
      if (!touch) continue;
      const preferred = preferredAuthDependency(ws, file.path);
      const swallowing = swallowingDependency(ws, model, route.handler);
      const exemptBy = authMiddlewares(ws).find((m) => (!m.app || !route.app || m.app === route.app) && m.isExempt(route.path));
      const related: RelatedLocation[] = [];
      if (touch.file !== file.path || touch.node.startPosition.row !== route.handler.node.startPosition.row) {
        related.push({ file: touch.file, range: rangeOf(touch.node), message: `\`${touch.model}\` is ${touch.action === 'writes' ? 'written' : 'read'} here` });
      }
      if (preferred) {
        const def = preferredLocation(ws, preferred);
        if (def) related.push({ ...def, message: `the workspace's auth dependency \`${preferred.name}\`` });
      }
      const hint = preferred
        ? `the workspace authenticates other routes with \`${preferred.alias?.name ?? preferred.name}\``
        : 'the workspace defines no auth dependency to add';
      ctx.report({
        node: route.handler.node.childForFieldName('name') ?? route.handler.node,
        messageId: swallowing ? 'swallowing' : exemptBy ? 'exempt' : 'unauthenticated',
        data: {
          method: route.method,
          path: route.path || '/',
          action: touch.action,
          model: touch.model,
          line: touch.file === file.path ? `line ${touch.node.startPosition.row + 1}` : `${touch.file.split(/[\\/]/).slice(-2).join("/")}:${touch.node.startPosition.row + 1}`,
          dependency: swallowing ?? '',
          middleware: exemptBy ? exemptBy.qualified.split('.').slice(/\.(dispatch|__call__)$/.test(exemptBy.qualified) ? -2 : -1).join('.') : '',
          hint,
        },
        related,
        fix: preferred && importsPreferred(ws, file.path, preferred) ? authFix(ws, model, file.text, route.handler, preferred) : undefined,
      });
    }
  },
});

interface Touch {
  model: string;
  node: Node;
  file: string;
  action: 'reads' | 'writes';
}

/** The first place the handler's flow reads or writes an owned model, preferring the handler's own file. */
function firstTouch(flow: ReturnType<typeof handlerFlow>): Touch | undefined {
  const write = flow.writes.find((w) => w.model);
  if (write?.model) return { model: write.model.name, node: write.node, file: write.where.file, action: 'writes' };
  const touch = firstRead(flow);
  // A flow that also adds, deletes or commits changes the owned rows it reached.
  const writes = flow.writes.some((w) => w.kind === 'add' || w.kind === 'delete' || w.kind === 'commit' || w.kind === 'update' || w.kind === 'save');
  return touch && writes ? { ...touch, action: 'writes' } : touch;
}

function firstRead(flow: ReturnType<typeof handlerFlow>): Touch | undefined {
  const query = flow.queries[0];
  if (query) {
    const action = query.kind === 'delete' || query.kind === 'update' ? 'writes' : 'reads';
    return { model: query.model.name, node: query.node, file: query.where.file, action };
  }
  const load = flow.loads[0];
  if (load) return { model: load.model.name, node: load.node, file: load.where.file, action: 'reads' };
  const ref = flow.ownedTouches[0];
  if (ref) return { model: ref.model.name, node: ref.node, file: ref.where.file, action: 'reads' };
  return undefined;
}

/** A parameter dependency that verifies a token but lets a bad one through (returns `None`). */
function swallowingDependency(ws: Workspace, model: ModuleModel, fn: FunctionInfo): string | undefined {
  for (const p of fn.params) {
    const dep = paramDependency(ws, model, p);
    if (dep && dependencyVerdict(ws, dep.qualified) === 'open') return dep.qualified.slice(dep.qualified.lastIndexOf('.') + 1);
  }
  return undefined;
}

function preferredLocation(ws: Workspace, preferred: PreferredAuth): { file: string; range: ReturnType<typeof rangeOf> } | undefined {
  const dot = preferred.qualified.lastIndexOf('.');
  const loc = ws.locate(preferred.qualified);
  const m = loc ? ws.model(loc.file.path) : undefined;
  const fn = m?.topLevelFunction(preferred.qualified.slice(dot + 1));
  return loc && fn ? { file: loc.file.path, range: rangeOf(fn.node.childForFieldName('name') ?? fn.node) } : undefined;
}

/**
 * Whether the import the fix writes in `file` (`from app.api.deps import CurrentUser`, as the workspace's code
 * spells it) means the preferred dependency there: in a workspace of several projects that share a package name,
 * it names the file's own project's module, which may be another dependency (one that verifies nothing) or none.
 */
function importsPreferred(ws: Workspace, file: string, preferred: PreferredAuth): boolean {
  const what = preferred.alias ?? preferred;
  const written = `${what.module}.${what.name}`;
  const meant = ws.rootedFrom(file, written);
  if (meant === written) return true;
  return (lookup(ws, meant)?.qualified ?? meant) === (lookup(ws, what.qualified)?.qualified ?? what.qualified);
}

/** Adds the workspace's auth dependency to the handler's parameters, with the imports it needs. */
function authFix(ws: Workspace, model: ModuleModel, text: string, fn: FunctionInfo, preferred: PreferredAuth): Fix | undefined {
  const params = fn.node.childForFieldName('parameters');
  if (!params) return undefined;
  const taken = new Set(fn.params.map((p) => p.name));
  const name = ['current_user', 'authenticated_user', 'auth_user'].find((n) => !taken.has(n));
  if (!name) return undefined;
  const edits: TextEdit[] = [];
  const items = children(params);
  let paramText: string;
  if (preferred.alias) {
    const local = localName(model, preferred.alias.module, preferred.alias.name, edits);
    paramText = `${name}: ${local}`;
    // A parameter without a default goes before the first one that has a default (or a `*`).
    const firstDefault = items.find((p) => p.type === 'default_parameter' || p.type === 'typed_default_parameter' || p.type === 'list_splat_pattern' || p.type === 'dictionary_splat_pattern' || p.type === 'keyword_separator' || (p.type === 'typed_parameter' && /^\*/.test(p.text)));
    if (firstDefault) {
      edits.push({ range: { start: pos(firstDefault.startPosition), end: pos(firstDefault.startPosition) }, newText: `${paramText}, ` });
      return { title: `Add \`${paramText}\` to \`${fn.name}\``, safety: 'unsafe', edits: sortEdits(edits) };
    }
  } else {
    const depends = localName(model, 'fastapi', 'Depends', edits);
    const dep = localName(model, preferred.module, preferred.name, edits);
    paramText = `${name}=${depends}(${dep})`;
  }
  const kwargs = items.find((p) => p.type === 'dictionary_splat_pattern' || (p.type === 'typed_parameter' && p.text.startsWith('**')));
  if (kwargs) {
    edits.push({ range: { start: pos(kwargs.startPosition), end: pos(kwargs.startPosition) }, newText: `${paramText}, ` });
  } else if (items.length === 0) {
    const close = params.endPosition;
    edits.push({ range: { start: { line: close.row, character: close.column - 1 }, end: { line: close.row, character: close.column - 1 } }, newText: paramText });
  } else {
    const last = items[items.length - 1];
    const multiline = params.startPosition.row !== params.endPosition.row && last.startPosition.row !== params.startPosition.row;
    if (multiline) {
      const indent = /^[ \t]*/.exec(text.split('\n')[last.startPosition.row] ?? '')![0];
      edits.push({ range: { start: pos(last.endPosition), end: pos(last.endPosition) }, newText: `,\n${indent}${paramText}` });
    } else {
      edits.push({ range: { start: pos(last.endPosition), end: pos(last.endPosition) }, newText: `, ${paramText}` });
    }
  }
  return { title: `Add \`${paramText}\` to \`${fn.name}\``, safety: 'unsafe', edits: sortEdits(edits) };
}

/** The local name for `module.name` in this file, adding the import when the file lacks it. */
function localName(model: ModuleModel, module: string, name: string, edits: TextEdit[]): string {
  if (module === model.moduleName) return name;
  const r = ensureImport(model, module, name);
  if (r.edit && !edits.some((e) => e.range.start.line === r.edit!.range.start.line && e.range.start.character === r.edit!.range.start.character && e.newText === r.edit!.newText)) {
    // Two imports landing at the same point are merged into one edit so edits never overlap.
    const same = edits.find((e) => e.range.start.line === r.edit!.range.start.line && e.range.start.character === r.edit!.range.start.character && e.range.end.line === r.edit!.range.end.line && e.range.end.character === r.edit!.range.end.character);
    if (same) same.newText += r.edit.newText;
    else edits.push(r.edit);
  }
  return r.local;
}

function pos(p: { row: number; column: number }) {
  return { line: p.row, character: p.column };
}

function sortEdits(edits: TextEdit[]): TextEdit[] {
  return [...edits].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
}
