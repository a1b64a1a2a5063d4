import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { allJwtCalls, JWT_LIBRARY_TEXT, jwtCallsIn } from '../python/jwt-libs';
import { callArguments, children, dottedName, enclosingFunction, rangeOf, stringValue } from '../python/syntax';
import type { RelatedLocation } from '../core/types';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';
import * as path from 'path';

type MessageId = 'middleware' | 'sessionRead' | 'sessionWrite' | 'cookie';

export const SEC302 = defineRule<MessageId>({
  code: 'SEC302',
  name: 'session-auth-mixed',
  severity: 'warning',
  fix: 'none',
  checklist: [9],
  // Every report names a session (`SessionMiddleware`, `.session`, a session cookie) or reads `cookies`/`Cookie`, and
  // needs the workspace to verify or issue JWTs somewhere.
  prescan: (file, ws) => /session|cookie/i.test(file.text) && jwtEvidence(ws) !== undefined,
  messages: {
    middleware: '`SessionMiddleware` adds cookie sessions to an API that authenticates with JWTs (`{jwt}` at {where})',
    sessionRead: 'Identity read from `{expr}` in an API that authenticates with JWTs (`{jwt}` at {where})',
    sessionWrite: '`{expr}` stores the identity in a cookie session in an API that authenticates with JWTs (`{jwt}` at {where})',
    cookie: 'Session cookie `{name}` is read as identity in an API that authenticates with JWTs (`{jwt}` at {where})',
  },
  docs: `## What it does
In a workspace that verifies JWTs, finds a second, session-based way in: Starlette's \`SessionMiddleware\`, the
user's identity read from or stored in \`request.session\`, or a session cookie (\`better-auth.session_token\`,
\`sessionid\`) read as identity without being verified as a JWT. \`SessionMiddleware\` kept only for an authlib
OAuth login (which stores its \`state\` there) is not reported; tokens read from cookies and decoded as JWTs are
JWT106's concern.

## Why is this bad?
Two authentication mechanisms mean two sets of rules to get right: cookie sessions need CSRF protection, their own
expiry and revocation, and a route that accepts either is only as strong as the weaker one. Identity that comes from
a session instead of the verified token also bypasses every check made on the token (expiry, issuer, audience).

## Example
\`\`\`python
import os

import jwt
from fastapi import FastAPI, Request
from starlette.middleware.sessions import SessionMiddleware

app = FastAPI()
app.add_middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"])


def verify(token: str) -> dict:
    return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])


@app.get("/me")
def me(request: Request):
    return {"user_id": request.session.get("user_id")}
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

app = FastAPI()
bearer = HTTPBearer()


def current_user_id(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> str:
    try:
        claims = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return claims["sub"]


@app.get("/me")
def me(user_id: str = Depends(current_user_id)):
    return {"user_id": user_id}
\`\`\`

## Fix safety
No automatic fix: removing a session mechanism changes how clients sign in. Move every route to the JWT
dependency, then remove \`SessionMiddleware\` and the \`request.session\` reads.

## References
- [Starlette: SessionMiddleware](https://www.starlette.io/middleware/#sessionmiddleware)
- [Better Auth: JWT plugin](https://www.better-auth.com/docs/plugins/jwt)
- [OWASP: Session Management Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html)
`,
  check(ctx) {
    const { model, workspace } = ctx;
    const jwt = jwtEvidence(workspace);
    if (!jwt) return;
    const where = `\`${path.relative(workspace.root, jwt.file).split(path.sep).join('/') || path.basename(jwt.file)}:${jwt.range.start.line + 1}\``;
    const base = { jwt: jwt.callee, where };
    const related: RelatedLocation[] = [{ file: jwt.file, range: jwt.range, message: 'JWTs are verified here' }];

    const oauthState = usesAuthlibOAuth(workspace);
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      if (!oauthState && isSessionMiddleware(model, call)) {
        ctx.report({ node: call, messageId: 'middleware', data: base, related });
        continue;
      }
      const cookie = sessionCookieRead(model, call);
      if (cookie && !decodedAsJwt(model, cookie.node)) {
        ctx.report({ node: call, messageId: 'cookie', data: { ...base, name: cookie.name }, related });
      }
    }
    for (const sub of model.root.descendantsOfType('subscript')) {
      if (!sub) continue;
      const cookie = sessionCookieSubscript(model, sub);
      if (cookie && !decodedAsJwt(model, sub)) ctx.report({ node: sub, messageId: 'cookie', data: { ...base, name: cookie }, related });
    }
    for (const access of sessionAccesses(model)) {
      ctx.report({ node: access.node, messageId: access.write ? 'sessionWrite' : 'sessionRead', data: { ...base, expr: access.node.text }, related });
    }
    for (const fn of model.functions) {
      for (const p of fn.params) {
        if (p.marker?.kind !== 'Cookie') continue;
        const alias = stringValue(callArguments(p.marker.call).keywords.get('alias'));
        const name = alias ?? p.name;
        if (!SESSION_COOKIE.test(name) || paramDecodedAsJwt(model, fn, p.name)) continue;
        ctx.report({ node: p.node, messageId: 'cookie', data: { ...base, name }, related });
      }
    }
  },
});

const SESSION_MIDDLEWARE = new Set(['starlette.middleware.sessions.SessionMiddleware', 'fastapi.middleware.sessions.SessionMiddleware']);
const SESSION_COOKIE = /session/i;
const IDENTITY_WORDS = new Set(['user', 'userid', 'uid', 'sub', 'account', 'email', 'login', 'auth', 'authenticated', 'identity', 'member', 'profile', 'username']);

/** `user_id`, `userId`, `current_user`, `is_authenticated`; not `oauth_state`, `cart`, `flash`. */
const IDENTITY_KEY = {
  test(key: string): boolean {
    const words = key.split(/[_\-.\s]+|(?<=[a-z])(?=[A-Z])/).map((w) => w.toLowerCase());
    return words.some((w) => IDENTITY_WORDS.has(w)) || /^user/i.test(key);
  },
};
const REQUEST_TYPES = new Set(['fastapi.Request', 'fastapi.requests.Request', 'starlette.requests.Request', 'starlette.requests.HTTPConnection', 'fastapi.WebSocket']);

/** The first JWT verification (or issuance) in the workspace: the evidence that the API uses JWTs. */
function jwtEvidence(ws: Workspace): { file: string; range: RelatedLocation['range']; callee: string } | undefined {
  return ws.memo('sec302:jwt-evidence', () => {
    let fallback: { file: string; range: RelatedLocation['range']; callee: string } | undefined;
    // Only a file that says `jwt`/`jose` holds a JWT call (`allJwtCalls`' own gate); same path order as `allFiles`.
    for (const file of ws.filesMentioning(JWT_LIBRARY_TEXT)) {
      const model = ws.model(file.path);
      if (!model) continue;
      for (const c of allJwtCalls(model)) {
        const hit = { file: file.path, range: rangeOf(c.call), callee: c.callee.replace(/\(\)/g, '') };
        if (c.kind === 'decode' || c.kind === 'signing-key') return hit;
        fallback ??= hit;
      }
    }
    return fallback;
  });
}

function usesAuthlibOAuth(ws: Workspace): boolean {
  // An import of `authlib.integrations...` spells `authlib` in the importing file, unless it is a relative import
  // inside a vendored `authlib` package.
  const imports = (f: WorkspaceFile) => {
    const model = ws.model(f.path);
    return !!model && [...model.imports.values()].some((b) => b.target.startsWith('authlib.integrations.starlette_client'));
  };
  // The text test through filesMentioning (verdicts cached by content); the vendored package by module name.
  return ws.memo('sec302:authlib-oauth', () => ws.filesMentioning(/authlib/).some(imports) || ws.allFiles().some((f) => f.moduleName.startsWith('authlib') && imports(f)));
}

function isSessionMiddleware(model: ModuleModel, call: Node): boolean {
  const callee = model.callee(call) ?? '';
  if (SESSION_MIDDLEWARE.has(callee)) return true;
  const first = callArguments(call).positional[0];
  const wraps = callee === 'starlette.middleware.Middleware' || callee === 'fastapi.middleware.Middleware' || /\.add_middleware$/.test(callee);
  return wraps && !!first && SESSION_MIDDLEWARE.has(model.resolve(first) ?? '');
}

/** True when `object` is the request (a parameter typed `Request`, or named `request`). */
function isRequest(model: ModuleModel, object: Node | null): boolean {
  if (object?.type !== 'identifier') return false;
  const fnNode = enclosingFunction(object);
  const fn = fnNode ? model.functionAt(fnNode) : undefined;
  const param = fn?.params.find((p) => p.name === object.text);
  if (param?.annotation) {
    const inner = param.annotation.type === 'type' ? children(param.annotation)[0] : param.annotation;
    const resolved = model.resolve(inner) ?? '';
    if (REQUEST_TYPES.has(resolved)) return true;
  }
  return /^(request|req)$/.test(object.text);
}

/** `request.cookies.get("better-auth.session_token")`. */
function sessionCookieRead(model: ModuleModel, call: Node): { name: string; node: Node } | undefined {
  const fn = call.childForFieldName('function');
  if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'get') return undefined;
  const cookies = fn.childForFieldName('object');
  if (cookies?.type !== 'attribute' || cookies.childForFieldName('attribute')?.text !== 'cookies') return undefined;
  if (!isRequest(model, cookies.childForFieldName('object'))) return undefined;
  const name = stringValue(callArguments(call).positional[0]);
  return name !== undefined && SESSION_COOKIE.test(name) ? { name, node: call } : undefined;
}

/** `request.cookies["sessionid"]` (a read). */
function sessionCookieSubscript(model: ModuleModel, sub: Node): string | undefined {
  const value = sub.childForFieldName('value');
  if (value?.type !== 'attribute' || value.childForFieldName('attribute')?.text !== 'cookies') return undefined;
  if (!isRequest(model, value.childForFieldName('object'))) return undefined;
  const name = stringValue(sub.childForFieldName('subscript'));
  return name !== undefined && SESSION_COOKIE.test(name) ? name : undefined;
}

/** `request.session["user_id"]`, `request.session.get("user")`, `request.session["user"] = ...`. */
function sessionAccesses(model: ModuleModel): { node: Node; write: boolean }[] {
  const out: { node: Node; write: boolean }[] = [];
  // Both forms read an attribute `session`: `.session`, with blanks, line continuations or comments after the dot.
  if (!/\.(?:[\s\\]|#[^\n]*\n)*session\b/.test(model.text)) return out;
  for (const attr of model.root.descendantsOfType('attribute')) {
    if (!attr || attr.childForFieldName('attribute')?.text !== 'session' || !isRequest(model, attr.childForFieldName('object'))) continue;
    const parent = attr.parent;
    if (parent?.type === 'subscript' && parent.childForFieldName('value')?.id === attr.id) {
      const key = stringValue(parent.childForFieldName('subscript'));
      if (key === undefined || !IDENTITY_KEY.test(key)) continue;
      const assignment = parent.parent;
      const write = assignment?.type === 'assignment' && assignment.childForFieldName('left')?.id === parent.id;
      out.push({ node: write ? assignment! : parent, write });
      continue;
    }
    if (parent?.type === 'attribute' && parent.parent?.type === 'call') {
      const method = parent.childForFieldName('attribute')?.text ?? '';
      const call = parent.parent;
      const key = stringValue(callArguments(call).positional[0]);
      if (key === undefined || !IDENTITY_KEY.test(key)) continue;
      if (method === 'get' || method === 'setdefault') out.push({ node: call, write: false });
    }
  }
  // `request.session.update({"user_id": ...})`.
  for (const call of model.root.descendantsOfType('call')) {
    const fn = call?.childForFieldName('function');
    if (!call || fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'update') continue;
    const target = fn.childForFieldName('object');
    if (target?.type !== 'attribute' || target.childForFieldName('attribute')?.text !== 'session' || !isRequest(model, target.childForFieldName('object'))) continue;
    const arg = callArguments(call).positional[0];
    const keys = arg?.type === 'dictionary' ? children(arg).map((p) => stringValue(p.childForFieldName('key')) ?? '') : [...callArguments(call).keywords.keys()];
    if (keys.some((k) => IDENTITY_KEY.test(k))) out.push({ node: call, write: true });
  }
  return out;
}

/** The cookie value ends up in a JWT decode in the same function (JWT106 reports that case). */
function decodedAsJwt(model: ModuleModel, read: Node): boolean {
  const fnNode = enclosingFunction(read);
  if (!fnNode) return false;
  const body = fnNode.childForFieldName('body')!;
  const stmt = read.parent?.type === 'assignment' ? read.parent : read.parent?.parent?.type === 'assignment' ? read.parent.parent : undefined;
  const name = stmt?.childForFieldName('left')?.type === 'identifier' ? stmt.childForFieldName('left')!.text : undefined;
  return jwtCallsIn(model, body).some((c) => {
    if (c.kind !== 'decode' && c.kind !== 'unverified-claims') return false;
    const token = callArguments(c.call).positional[0] ?? callArguments(c.call).keywords.get('jwt') ?? callArguments(c.call).keywords.get('token');
    return !!token && (token.text === read.text || (name !== undefined && dottedName(token) === name));
  });
}

function paramDecodedAsJwt(model: ModuleModel, fn: FunctionInfo, name: string): boolean {
  return jwtCallsIn(model, fn.body).some((c) => {
    const token = callArguments(c.call).positional[0];
    return c.kind === 'decode' && token?.text === name;
  });
}
