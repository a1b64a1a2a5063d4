import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { descendantsInScope, dottedName, rangeOf, walk } from '../python/syntax';
import { jwtCallArgsIn } from '../python/jwt-decode';
import { errorResponseAt, exceptClausesIn, isBroadCatch, type ErrorResponse } from '../python/auth-errors';
import { claimNamesIn } from '../workspace/token-index';
import { isMiddleware, isRouteHandler } from '../workspace/auth-routes';
import { claimReturningNames, mentionsAnyName } from '../workspace/jwt-helper-names';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

type MessageId = 'exception' | 'traceback' | 'token' | 'claims';

export const JWT109 = defineRule<MessageId>({
  code: 'JWT109',
  name: 'error-detail-leak',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [12],
  prescan: mayLeakErrorDetail,
  messages: {
    exception: '`{expression}` sends the text of the caught `{exception}` to the client',
    traceback: '`{expression}` sends a traceback to the client',
    token: 'Error response sends the bearer token `{name}` back to the client in `{expression}`',
    claims: 'Error response sends the decoded claims `{name}` to the client in `{expression}`',
  },
  docs: `## What it does
Finds error responses that carry the exception's own text or the credential itself: \`detail=str(e)\`,
\`detail=f"Invalid token: {e}"\`, \`repr(e)\`, \`e.args\`, \`traceback.format_exc()\` in an \`HTTPException\`, a
\`JSONResponse\` or a value returned from an \`except\` block of a route; and the bearer token or its decoded claims put
into an error answer. Exceptions whose text the application writes for clients (\`HTTPException\`, \`ValueError\`,
validation errors, the workspace's own exception classes) are not reported.

## Why is this bad?
Library exception messages describe the verification logic ("The specified alg value is not allowed",
"Invalid audience", "Signature verification failed", a database URL in a driver error). Sent to the client they
help an attacker tune forged tokens and map the backend. Echoing the token or its claims back puts credentials in
client-side logs and error trackers.

## Example
\`\`\`python
import os

import jwt
from fastapi import HTTPException


def verify(token: str) -> dict:
    try:
        return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError as e:
        raise HTTPException(status_code=401, detail=str(e))
\`\`\`

## Use instead
\`\`\`python
import logging
import os

import jwt
from fastapi import HTTPException

logger = logging.getLogger(__name__)


def verify(token: str) -> dict:
    try:
        return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError as e:
        logger.info("token rejected: %s", e)
        raise HTTPException(status_code=401, detail="Could not validate credentials")
\`\`\`

## Fix safety
Safe: the fix replaces the leaking expression with a fixed message chosen from the response's status. Only the
text clients see changes; log the exception server-side if you need it.

## References
- [OWASP: Improper Error Handling](https://owasp.org/www-community/Improper_Error_Handling)
- [CWE-209: Generation of Error Message Containing Sensitive Information](https://cwe.mitre.org/data/definitions/209.html)
- [FastAPI: Handling Errors](https://fastapi.tiangolo.com/tutorial/handling-errors/)
`,
  check(ctx) {
    const { model, workspace, file } = ctx;
    const reported = new Set<number>();
    for (const fn of model.functions) {
      const answersClient = isRouteHandler(workspace, model, fn) || isMiddleware(workspace, model, fn);
      // Exception text inside `except ... as e` blocks.
      for (const clause of exceptClausesIn(model, fn.body)) {
        if (!clause.body) continue;
        const caught = leakyCatch(workspace, model, clause.typeNames, isBroadCatch(clause));
        if (!caught) continue;
        for (const sink of sinksIn(model, clause.body, answersClient)) {
          for (const leak of exceptionLeaks(sink.message, clause.name)) report(ctx, reported, sink, leak, { exception: caught });
        }
      }
      // `@app.exception_handler(X)`: the handler's exception parameter.
      const handled = exceptionHandlerTypes(model, fn);
      if (handled) {
        const caught = leakyCatch(workspace, model, handled, false);
        const name = fn.params[1]?.name;
        if (caught && name) {
          for (const sink of sinksIn(model, fn.body, true)) {
            for (const leak of exceptionLeaks(sink.message, name)) report(ctx, reported, sink, leak, { exception: caught });
          }
        }
      }
      // The token or its claims echoed in an error answer.
      const secrets = credentialNames(workspace, file.path, model, fn);
      if (!secrets.size) continue;
      for (const sink of sinksIn(model, fn.body, answersClient, true)) {
        if (sink.response && sink.response.kind === 'response' && (sink.response.status ?? 200) < 400 && !sink.inExcept) continue;
        for (const leak of nameLeaks(sink.message, secrets)) {
          report(ctx, reported, sink, leak.node, { name: leak.name, kind: secrets.get(leak.name)! });
        }
      }
    }
  },
});

// ---- prescan: what a file must contain for `check` to report there ------------------------------------------

/** A dotted name's characters after `@`: identifier characters (non-ASCII included), dots, blanks, continuations. */
const DOTTED = String.raw`@(?:[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]|[ \t.]|\\\r?\n)*\.[ \t]*(?:\\\r?\n[ \t]*)*`;
/** `@app.exception_handler(...)`: `exceptionHandlerTypes` reads any dotted decorator ending so. */
const EXCEPTION_HANDLER_DECORATOR = new RegExp(String.raw`${DOTTED}exception_handler(?!\w)`);
/** `@router.get(` / `@app.middleware(`: the decorators `isRouteHandler` and `isMiddleware` look at. */
const ROUTE_OR_MIDDLEWARE_DECORATOR = new RegExp(
  String.raw`${DOTTED}(?:get|post|put|patch|delete|head|options|trace|api_route|websocket|route|middleware)[ \t]*(?:\\\r?\n[ \t]*)*\(`,
);
/**
 * `errorResponseAt`'s callees resolve to `fastapi.`/`starlette.` names through this file's imports, or are a bare
 * `HTTPException`; relative imports give such names only inside those packages' own modules.
 */
const RESPONSE_TEXT = /HTTPException|fastapi|starlette/;
const FRAMEWORK_MODULE = /^(fastapi|starlette)(\.|$)/;
/** The parameter names `credentialNames` takes for tokens, and JWT calls. */
const CREDENTIAL_TEXT = /token|jwt|jose|bearer|credentials|authorization/i;

/**
 * A necessary condition for a finding in `file`. Every leak sits in an error answer: a FastAPI/Starlette exception
 * or response built here, a value returned from an `except` block of a route or middleware (whose decorator names an
 * app object that some workspace file creates from FastAPI/Starlette), or anything an exception handler returns.
 * Outside exception handlers, what leaks is a caught exception (an `except` clause) or a credential (a token-like
 * name, a JWT call, or the result of a claim-returning helper named in this file).
 */
function mayLeakErrorDetail(file: WorkspaceFile, ws: Workspace): boolean {
  const text = file.text;
  if (EXCEPTION_HANDLER_DECORATOR.test(text)) return true;
  const catches = /\bexcept\b/.test(text);
  if (!catches && !CREDENTIAL_TEXT.test(text) && !mentionsAnyName(ws, file, claimReturningNames(ws))) return false;
  if (RESPONSE_TEXT.test(text) || FRAMEWORK_MODULE.test(file.moduleName)) return true;
  return catches && ROUTE_OR_MIDDLEWARE_DECORATOR.test(text) && mayCreateApp(ws);
}

/** Some workspace module can create a FastAPI/Starlette app or router (`isAppObject`'s constructors). */
function mayCreateApp(ws: Workspace): boolean {
  if (ws.filesMentioning(/fastapi|starlette/).length > 0) return true;
  return ws.memo('JWT109:framework-modules', () => ({ any: ws.allFiles().some((f) => FRAMEWORK_MODULE.test(f.moduleName)) })).any;
}

interface Sink {
  message: Node;
  response?: ErrorResponse;
  inExcept: boolean;
}

/** Error answers in `scope`: exceptions and responses built there, and (for routes) values returned from `except`. */
function sinksIn(model: ModuleModel, scope: Node, answersClient: boolean, onlyErrors = false): Sink[] {
  const out: Sink[] = [];
  for (const call of descendantsInScope(scope, 'call')) {
    const response = errorResponseAt(model, call);
    if (response?.message) out.push({ message: response.message, response, inExcept: insideExcept(call, scope) });
  }
  if (answersClient) {
    for (const ret of descendantsInScope(scope, 'return_statement')) {
      const value = ret.namedChildren[0];
      if (!value || value.type === 'call') continue;
      const inExcept = insideExcept(ret, scope);
      if (onlyErrors && !inExcept) continue;
      if (!onlyErrors || inExcept) out.push({ message: value, inExcept });
    }
  }
  return out;
}

function insideExcept(node: Node, scope: Node): boolean {
  for (let p = node.parent; p && p.id !== scope.parent?.id; p = p.parent) if (p.type === 'except_clause') return true;
  return scope.type === 'block' && scope.parent?.type === 'except_clause';
}

/** Exceptions whose text is written for clients: FastAPI's own, validation errors, plain value errors. */
const CLIENT_FACING = /^(fastapi(\.exceptions)?\.(HTTPException|RequestValidationError|WebSocketException)|starlette\.exceptions\.HTTPException|pydantic(_core)?\.(ValidationError|.*\.ValidationError)|ValueError|KeyError|HTTPException|RequestValidationError)$/;

/** The first caught type whose text should not reach clients, or undefined when every caught type is client-facing. */
function leakyCatch(ws: Workspace, model: ModuleModel, typeNames: string[], broad: boolean): string | undefined {
  if (broad) return typeNames[0] ?? 'Exception';
  for (const t of typeNames) {
    if (CLIENT_FACING.test(t)) continue;
    // The workspace's own exception classes carry messages the application wrote.
    const loc = ws.locate(t);
    if (loc?.member && ws.model(loc.file.path)?.topLevelClass(loc.member)) continue;
    if (model.definesLocally(t.split('.').pop() ?? '') && t.startsWith(model.moduleName)) continue;
    return t;
  }
  return undefined;
}

function exceptionHandlerTypes(model: ModuleModel, fn: FunctionInfo): string[] | undefined {
  for (const d of fn.decorators) {
    if (d.type !== 'call' || !/\.exception_handler$/.test(dottedName(d.childForFieldName('function')) ?? '')) continue;
    const arg = d.childForFieldName('arguments')?.namedChildren[0];
    const name = arg ? model.resolve(arg) : undefined;
    return name ? [name] : arg?.type === 'integer' ? ['HTTPException'] : [];
  }
  return undefined;
}

const SAFE_ATTRIBUTES = new Set(['detail', 'status_code', 'headers', 'code', '__name__', '__class__', 'errors']);
const STRING_BUILDERS = /^(str|repr|format|join|dumps|format_exc|format_exception|format_tb)$/;

/** Expressions in `message` that carry exception `name`'s text (or a traceback). */
function exceptionLeaks(message: Node | undefined, name: string | undefined): Node[] {
  const out: Node[] = [];
  if (!message) return out;
  walk(message, (n) => {
    if (n.type === 'call') {
      const callee = dottedName(n.childForFieldName('function')) ?? '';
      if (/(^|\.)format_(exc|exception|tb)$/.test(callee)) {
        out.push(n);
        return false;
      }
      // `type(e).__name__` names the class only.
      if (callee === 'type') return false;
    }
    if (!name || n.type !== 'identifier' || n.text !== name) return;
    const parent = n.parent;
    if (parent?.type === 'attribute' && parent.childForFieldName('object')?.id === n.id) {
      if (SAFE_ATTRIBUTES.has(parent.childForFieldName('attribute')?.text ?? '')) return;
    }
    if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === n.id) return;
    out.push(n);
  });
  return out;
}

/** Whole-name references to the token or its claims (not `payload["sub"]` or `payload.get(...)`). */
function nameLeaks(message: Node | undefined, names: Map<string, 'token' | 'claims'>): { node: Node; name: string }[] {
  const out: { node: Node; name: string }[] = [];
  if (!message) return out;
  walk(message, (n) => {
    if (n.type !== 'identifier' || !names.has(n.text)) return;
    const parent = n.parent;
    if (parent?.type === 'attribute' && parent.childForFieldName('object')?.id === n.id) {
      // `credentials.credentials` is the raw token; other attributes are fields of an object.
      if (parent.childForFieldName('attribute')?.text !== 'credentials') return;
      out.push({ node: parent, name: parent.text });
      return;
    }
    if (parent?.type === 'attribute' || parent?.type === 'subscript' && parent.childForFieldName('value')?.id === n.id) return;
    if (parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === n.id) return;
    out.push({ node: n, name: n.text });
  });
  return out;
}

/** Names in `fn` that hold the raw token or the decoded claims. */
function credentialNames(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo): Map<string, 'token' | 'claims'> {
  const out = new Map<string, 'token' | 'claims'>();
  for (const args of jwtCallArgsIn(model, fn.body)) {
    if (args.token?.type === 'identifier') out.set(args.token.text, 'token');
  }
  for (const p of fn.params) {
    if (/^(token|access_token|refresh_token|jwt|jwt_token|bearer|id_token|credentials|authorization)$/i.test(p.name)) out.set(p.name, 'token');
  }
  for (const name of claimNamesIn(model, fn, ws, file)) out.set(name, 'claims');
  return out;
}

/** Climbs from a leaking expression to the whole value that is built from it (`f"bad: {e}"`, `"x" + str(e)`). */
function leakRoot(leak: Node, message: Node): Node {
  let n = leak;
  while (n.id !== message.id && n.parent) {
    const p = n.parent;
    if (p.type === 'argument_list') {
      const call = p.parent;
      const callee = call?.childForFieldName('function');
      const last = callee?.type === 'attribute' ? callee.childForFieldName('attribute')?.text : callee?.text;
      if (!call || !STRING_BUILDERS.test(last ?? '')) break;
      n = call;
      continue;
    }
    if (['interpolation', 'string', 'concatenated_string', 'binary_operator', 'parenthesized_expression', 'subscript', 'attribute', 'call', 'format_expression'].includes(p.type)) {
      n = p;
      continue;
    }
    break;
  }
  return n;
}

function fixedMessage(status: number | undefined, auth: boolean): string {
  if (status === 401 || (status === undefined && auth)) return 'Could not validate credentials';
  if (status === 403) return 'Forbidden';
  if (status === 404) return 'Not found';
  if (status === 400 || status === 422) return 'Invalid request';
  if (status === 409) return 'Conflict';
  return 'Internal server error';
}

function report(ctx: RuleContext<MessageId>, reported: Set<number>, sink: Sink, leak: Node, what: { exception?: string; name?: string; kind?: 'token' | 'claims' }): void {
  const root = leakRoot(leak, sink.message);
  if (reported.has(root.id)) return;
  reported.add(root.id);
  const status = sink.response?.kind === 'websocket-exception' ? undefined : sink.response?.status;
  const auth = !!what.kind || /jwt|jose|token|signature|authlib/i.test(what.exception ?? '');
  const text = fixedMessage(status, auth);
  const traceback = leak.type === 'call';
  const messageId: MessageId = what.kind ?? (traceback ? 'traceback' : 'exception');
  ctx.report({
    node: root,
    messageId,
    data: { expression: root.text.replace(/\s+/g, ' ').slice(0, 80), exception: what.exception ?? '', name: what.name ?? '' },
    fix: { title: `Replace the detail with "${text}"`, safety: 'safe', edits: [{ range: rangeOf(root), newText: JSON.stringify(text) }] },
  });
}
