import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { FunctionInfo, ModuleModel, ParamInfo } from '../python/module-model';
import { jwtCallArgsIn, valueOf } from '../python/jwt-decode';
import { functionDecodesJwt } from '../workspace/jwt-helpers';
import { JWT_LIBRARY_TEXT } from '../python/jwt-libs';
import { decodingFunctionNames, mentionsAnyName } from '../workspace/jwt-helper-names';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';
import { callArguments, children, descendantsInScope, dottedName, stringValue } from '../python/syntax';

type MessageId = 'query' | 'cookie' | 'body' | 'apiKey' | 'handParsed';

/** Parameter and key names that only ever hold an authentication token. */
const AUTH_TOKEN_NAMES = /^(access_?token|jwt|jwt_?token|id_?token|auth_?token|bearer|bearer_?token|authorization)$/i;
/**
 * Functions whose token is a one-time link, a signed download/share URL or a refresh grant: in the URL or body by
 * design, not a session credential.
 */
const ONE_TIME_TOKEN_FUNCTIONS = /(reset|verif|confirm|activat|invite|invitation|unsubscribe|magic|recover|refresh|callback|oauth|download|share|signed|presign|preview|stream|export|embed)/i;
const ROUTE_METHODS = /\.(get|post|put|patch|delete|head|options|api_route|route)$/;

// ---- prescan: what a file's text must contain for `check` to report there ----------------------------------
/**
 * `AUTH_TOKEN_NAMES` as a whole word (a parameter's name, or a key's whole string between its quotes; `-` for the
 * API-key schemes' header-style names). A key cut in two by implicit string concatenation is not looked for.
 */
const AUTH_TOKEN_WORD = /(?<!\w)(access[_-]?token|jwt|jwt[_-]?token|id[_-]?token|auth[_-]?token|bearer|bearer[_-]?token|authorization)(?!\w)/i;
/**
 * Where a parameter or read gets its location: a FastAPI marker (`Query`, `Cookie`, `Body`, `Form`, spelled in
 * this file even through an alias), a dependency (`Depends`/`Security`), `query_params`/`cookies`, `APIKeyQuery`/
 * `APIKeyCookie`.
 */
const LOCATION_TEXT = /\b(Query|Cookie|Body|Form|Depends|Security)\b|APIKey(Query|Cookie)|query_params|cookies/;
/**
 * A decorator `@a.b.get(` (a dotted name, as `isRoute` requires, with the spaces and line continuations Python
 * allows): the other way a plain parameter becomes a query parameter. Identifier characters include non-ASCII.
 */
const ROUTE_DECORATOR = new RegExp(
  String.raw`@(?:[^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]|[ \t.]|\\\r?\n)*\.[ \t]*(?:\\\r?\n[ \t]*)*(?:get|post|put|patch|delete|head|options|api_route|route)[ \t]*(?:\\\r?\n[ \t]*)*\(`,
);
/** `checkHandParsed`'s own gate. */
const HAND_SPLIT = /\.(r?split|partition)\(/;
/** What `isAuthorizationHeader` needs: the header's name in the split object or its assigned value... */
const AUTH_HEADER_TEXT = /authorization|auth_?header/i;
/** ...or a `Header` parameter named `*auth*` split itself (`auth.split(`). */
const AUTH_PARAM_SPLIT = /auth(?:\w|[^\x00-\x7f])*[ \t]*(?:\\\r?\n[ \t]*)*\.(r?split|partition)\(/i;

/**
 * A necessary condition for a finding in `file`. A hand-split header needs the split and the header. Every other
 * finding needs a token location (marker, dependency, route decorator, request read, API-key scheme) and a token:
 * a name like one (`access_token`), a JWT call in this file, or a call of a workspace function that decodes (named
 * in this file's text, as a call site names its callee; see jwt-helper-names.ts).
 */
function mayHoldUntrustedToken(file: WorkspaceFile, ws: Workspace): boolean {
  const text = file.text;
  if (HAND_SPLIT.test(text) && (AUTH_HEADER_TEXT.test(text) || (/\bHeader\b/.test(text) && AUTH_PARAM_SPLIT.test(text)))) return true;
  if (!LOCATION_TEXT.test(text) && !ROUTE_DECORATOR.test(text)) return false;
  return AUTH_TOKEN_WORD.test(text) || JWT_LIBRARY_TEXT.test(text) || mentionsAnyName(ws, file, decodingFunctionNames(ws));
}

export const JWT106 = defineRule<MessageId>({
  code: 'JWT106',
  name: 'token-from-untrusted-location',
  severity: 'warning',
  fix: 'none',
  checklist: [1],
  prescan: mayHoldUntrustedToken,
  messages: {
    query: '`{name}` takes the token from the query string, where it ends up in logs and `Referer` headers; read it from the `Authorization: Bearer` header (`HTTPBearer`)',
    cookie: '`{name}` takes the token from a cookie, which browsers attach to cross-site requests (CSRF); read it from the `Authorization: Bearer` header (`HTTPBearer`)',
    body: '`{name}` takes the token from the request body; send it in the `Authorization: Bearer` header and read it with `HTTPBearer`',
    apiKey: '`{ctor}` reads the token from the {location}; use `HTTPBearer()` so it comes from the `Authorization` header',
    handParsed: '`{expr}` takes the token from the `Authorization` header without checking that the scheme is `Bearer`; use `HTTPBearer()` or compare the scheme first',
  },
  docs: `## What it does
Finds JWTs read from somewhere other than the \`Authorization: Bearer\` header: a query parameter (\`Query\`, a
plain scalar route parameter, \`request.query_params\`, \`APIKeyQuery\`), a cookie (\`Cookie\`, \`request.cookies\`,
\`APIKeyCookie\`) or the body (\`Body\`, \`Form\`); and an \`Authorization\` header split by hand
(\`authorization.split(" ")[1]\`) without checking the scheme.

A parameter counts as a token when it reaches a JWT decode (directly or through a helper that decodes), or when
it is named like one (\`access_token\`, \`jwt\`, \`id_token\`, \`authorization\`).
Not a finding: one-time link tokens (e-mail verification, password reset, invitations, OAuth callbacks), signed
download/share links and refresh grants, which belong in the URL or body by design (recognised by the function's
name); WebSocket endpoints, where browsers cannot set headers.

## Why is this bad?
URLs are written to access logs, proxy logs and browser history, and leak to other sites through \`Referer\`.
Cookies are sent automatically on cross-site requests, so a cookie-borne token needs CSRF protection that a
Bearer header does not. A hand-split header accepts \`Basic ...\` or any other scheme as if it were a Bearer token.

## Example
\`\`\`python
import os

import jwt
from fastapi import FastAPI, Query

app = FastAPI()


@app.get("/api/todos")
def list_todos(access_token: str = Query(...)):
    claims = jwt.decode(access_token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    return {"user": claims["sub"]}
\`\`\`

## Use instead
\`\`\`python
import os
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

app = FastAPI()
bearer = HTTPBearer()


@app.get("/api/todos")
def list_todos(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]):
    claims = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    return {"user": claims["sub"]}
\`\`\`

## Fix safety
No fix: moving the token to a header changes the API's contract with every client.

## References
- [OWASP: Information exposure through query strings in URL](https://owasp.org/www-community/vulnerabilities/Information_exposure_through_query_strings_in_url)
- [RFC 6750 §2: Bearer token usage (and why not the URI)](https://www.rfc-editor.org/rfc/rfc6750#section-2)
- [FastAPI: HTTPBearer](https://fastapi.tiangolo.com/reference/security/#fastapi.security.HTTPBearer)
- [CWE-598: Use of GET Request Method With Sensitive Query Strings](https://cwe.mitre.org/data/definitions/598.html)
`,
  check(ctx) {
    const { model } = ctx;
    const dependencies = dependencyNames(model);
    for (const fn of model.functions) {
      if (isWebSocket(model, fn) || ONE_TIME_TOKEN_FUNCTIONS.test(fn.name)) continue;
      try {
        checkParams(ctx, fn, dependencies);
        checkBodyModelTokens(ctx, fn, dependencies);
        if (/query_params|cookies/.test(fn.body.text)) checkRequestReads(ctx, fn);
        if (/\.(r?split|partition)\(/.test(fn.body.text)) checkHandParsed(ctx, fn);
      } catch {
        // Odd code must never stop the other functions from being checked.
      }
    }
    checkApiKeySchemes(ctx);
  },
});

function isRoute(model: ModuleModel, fn: FunctionInfo): boolean {
  return fn.decorators.some((d) => d.type === 'call' && ROUTE_METHODS.test(dottedName(d.childForFieldName('function')) ?? ''));
}

function isWebSocket(model: ModuleModel, fn: FunctionInfo): boolean {
  if (fn.decorators.some((d) => /\.websocket(_route)?$/.test(dottedName(d.type === 'call' ? d.childForFieldName('function') : d) ?? ''))) return true;
  return fn.params.some((p) => /(^|\.)WebSocket$/.test(model.resolve(annotationExpr(p.annotation)) ?? ''));
}

function annotationExpr(annotation: Node | undefined): Node | undefined {
  return annotation?.type === 'type' ? children(annotation)[0] : annotation;
}

/** Names used as `Depends(name)` / `Security(name)` in this module: FastAPI resolves their parameters too. */
function dependencyNames(model: ModuleModel): Set<string> {
  const out = new Set<string>();
  if (!/Depends|Security/.test(model.text)) return out;
  for (const fn of model.functions) {
    for (const p of fn.params) {
      const dep = p.marker?.dependency;
      if (dep) out.add(dep.text);
    }
  }
  for (const call of model.root.descendantsOfType('call')) {
    if (!call || !/(^|\.)(Depends|Security)$/.test(dottedName(call.childForFieldName('function')) ?? '')) continue;
    const first = callArguments(call).positional[0];
    if (first) out.add(first.text);
  }
  return out;
}

/** Where FastAPI takes a parameter from: its marker, else a plain scalar parameter of a route or dependency is a query parameter. */
function locationOf(model: ModuleModel, fn: FunctionInfo, p: ParamInfo, dependencies: Set<string>): 'query' | 'cookie' | 'body' | undefined {
  const kind = p.marker?.kind;
  if (kind === 'Query') return 'query';
  if (kind === 'Cookie') return 'cookie';
  if (kind === 'Body' || kind === 'Form') return 'body';
  if (kind || p.kind !== 'normal' || p.name === 'self' || p.name === 'cls') return undefined;
  if (!isRoute(model, fn) && !dependencies.has(fn.name)) return undefined;
  // A path parameter is named in the route's path.
  if (fn.decorators.some((d) => d.type === 'call' && (stringValue(callArguments(d).positional[0]) ?? '').includes(`{${p.name}}`))) return undefined;
  const type = annotationExpr(p.annotation)?.text.replace(/\s+/g, '') ?? (p.default ? 'str' : '');
  return /^(str|Optional\[str\]|str\|None|None\|str)$/.test(type) ? 'query' : undefined;
}

function checkParams(ctx: RuleContext<MessageId>, fn: FunctionInfo, dependencies: Set<string>): void {
  const { model } = ctx;
  for (const p of fn.params) {
    const location = locationOf(model, fn, p, dependencies);
    if (!location) continue;
    if (!AUTH_TOKEN_NAMES.test(p.name) && !reachesDecode(ctx, fn, p.name)) continue;
    ctx.report({ node: p.node, messageId: location, data: { name: p.name } });
  }
}

/**
 * `payload.access_token` where `payload: TokenIn` is a request body model (a class parameter without a marker, as
 * FastAPI reads it from the JSON body) and the field reaches a JWT decode.
 */
function checkBodyModelTokens(ctx: RuleContext<MessageId>, fn: FunctionInfo, dependencies: Set<string>): void {
  const { model } = ctx;
  if (!isRoute(model, fn) && !dependencies.has(fn.name)) return;
  if (!fn.params.some((p) => !p.marker && p.annotation)) return;
  const bodyParams = new Set(
    fn.params
      .filter((p) => !p.marker && p.kind === 'normal' && isBodyModel(ctx, annotationExpr(p.annotation)))
      .map((p) => p.name),
  );
  if (bodyParams.size === 0) return;
  const tokens: Node[] = [];
  for (const a of jwtCallArgsIn(model, fn.body)) if (a.jwt.kind !== 'encode' && a.token) tokens.push(a.token);
  for (const { call, callee } of model.callsIn(fn.body)) {
    if (callee && helperDecodes(ctx, callee)) tokens.push(...callArguments(call).positional.slice(0, 1));
  }
  for (const token of tokens) {
    const value = valueOf(model, token) ?? token;
    const object = value.type === 'attribute' ? value.childForFieldName('object') : undefined;
    if (object?.type === 'identifier' && bodyParams.has(object.text)) {
      ctx.report({ node: token, messageId: 'body', data: { name: value.text } });
    }
  }
}

/** A class the workspace defines as a pydantic / SQLModel model (FastAPI reads such parameters from the body). */
function isBodyModel(ctx: RuleContext<MessageId>, annotation: Node | undefined): boolean {
  if (annotation?.type !== 'identifier' && annotation?.type !== 'attribute') return false;
  const last = annotation.text.split('.').pop() ?? '';
  if (!/^[A-Z]/.test(last) || /^(Request|WebSocket|Response|BackgroundTasks|SecurityScopes|HTTPConnection|Session|AsyncSession)$/.test(last)) return false;
  const qualified = ctx.model.resolve(annotation) ?? annotation.text;
  const local = ctx.model.topLevelClass(annotation.text);
  const located = local ? undefined : ctx.workspace.locate(qualified);
  const owner = local ? ctx.model : located ? ctx.workspace.model(located.file.path) : undefined;
  const cls = local ?? (located?.member ? owner?.topLevelClass(located.member) : undefined);
  return !!cls && cls.baseNames.some((b) => /(^|\.)(BaseModel|SQLModel)$/.test(b) || /(Schema|Base|In|Request|Body)$/.test(b));
}

/** `request.query_params["token"]`, `request.cookies.get("access_token")`. */
function checkRequestReads(ctx: RuleContext<MessageId>, fn: FunctionInfo): void {
  for (const node of descendantsInScope(fn.body, ['subscript', 'call'])) {
    let container: Node | null | undefined;
    let key: Node | undefined;
    if (node.type === 'subscript') {
      container = node.childForFieldName('value');
      key = node.childForFieldName('subscript') ?? undefined;
    } else {
      const f = node.childForFieldName('function');
      if (f?.type !== 'attribute' || f.childForFieldName('attribute')?.text !== 'get') continue;
      container = f.childForFieldName('object');
      key = callArguments(node).positional[0];
    }
    if (container?.type !== 'attribute') continue;
    const source = container.childForFieldName('attribute')?.text;
    if (source !== 'query_params' && source !== 'cookies') continue;
    const name = stringValue(key);
    const holder = assignedName(node);
    const isToken = (name !== undefined && AUTH_TOKEN_NAMES.test(name)) || (holder !== undefined && reachesDecode(ctx, fn, holder)) || feedsDecode(ctx, fn, node);
    if (!isToken) continue;
    ctx.report({ node, messageId: source === 'cookies' ? 'cookie' : 'query', data: { name: node.text } });
  }
}

function assignedName(node: Node): string | undefined {
  const parent = node.parent;
  if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === node.id) {
    const left = parent.childForFieldName('left');
    return left?.type === 'identifier' ? left.text : undefined;
  }
  return undefined;
}

/** The expression itself is the token argument of a JWT call. */
function feedsDecode(ctx: RuleContext<MessageId>, fn: FunctionInfo, node: Node): boolean {
  if (jwtCallArgsIn(ctx.model, fn.body).some((a) => a.token?.id === node.id)) return true;
  const call = node.parent?.type === 'argument_list' ? node.parent.parent : undefined;
  const callee = call?.type === 'call' ? ctx.model.callee(call) : undefined;
  return !!callee && helperDecodes(ctx, callee);
}

/**
 * True when `name` reaches a JWT decode in `fn`: as the decode's token (directly or through a local), or as an
 * argument of a helper (in this module or another workspace module) that decodes one of its parameters.
 */
function reachesDecode(ctx: RuleContext<MessageId>, fn: FunctionInfo, name: string): boolean {
  const { model } = ctx;
  const mentions = (expr: Node | undefined): boolean => {
    if (!expr) return false;
    const value = valueOf(model, expr);
    const base = (n: Node | undefined) => n && (n.text === name || n.text.startsWith(`${name}.`) || n.text.startsWith(`${name}[`));
    return !!(base(expr) || base(value));
  };
  for (const a of jwtCallArgsIn(model, fn.body)) {
    if (a.jwt.kind !== 'encode' && mentions(a.token)) return true;
  }
  for (const { call, callee } of model.callsIn(fn.body)) {
    const args = callArguments(call);
    if (![...args.positional, ...args.keywords.values()].some((arg) => mentions(arg))) continue;
    if (callee && helperDecodes(ctx, callee)) return true;
  }
  return false;
}

/** A workspace function that verifies a JWT (the usual `decode_token(token)` helper). */
function helperDecodes(ctx: RuleContext<MessageId>, callee: string): boolean {
  return functionDecodesJwt(ctx.workspace, callee);
}

/** `APIKeyQuery(name="token")` / `APIKeyCookie(name="access_token")` holding a JWT. */
function checkApiKeySchemes(ctx: RuleContext<MessageId>): void {
  const { model } = ctx;
  if (!/APIKey(Query|Cookie)/.test(model.text)) return;
  for (const call of model.root.descendantsOfType('call')) {
    if (!call) continue;
    const callee = model.callee(call) ?? '';
    const m = /^fastapi\.security(\.api_key)?\.(APIKeyQuery|APIKeyCookie)$/.exec(callee);
    if (!m) continue;
    const keyName = stringValue(callArguments(call).keywords.get('name') ?? callArguments(call).positional[0]);
    const holder = assignedName(call);
    const used = holder !== undefined && model.functions.some((fn) => fn.params.some((p) => p.marker?.dependency?.text === holder && reachesDecode(ctx, fn, p.name)));
    if (!(keyName !== undefined && AUTH_TOKEN_NAMES.test(keyName.replace(/-/g, '_'))) && !used) continue;
    ctx.report({
      node: call,
      messageId: 'apiKey',
      data: { ctor: m[2], location: m[2] === 'APIKeyQuery' ? `query parameter \`${keyName ?? '?'}\`` : `cookie \`${keyName ?? '?'}\`` },
    });
  }
}

/** `authorization.split(" ")[1]` / `scheme, token = auth.split()` with no `Bearer` check in the function. */
function checkHandParsed(ctx: RuleContext<MessageId>, fn: FunctionInfo): void {
  const { model } = ctx;
  const splits = descendantsInScope(fn.body, 'call').filter((call) => {
    const f = call.childForFieldName('function');
    if (f?.type !== 'attribute') return false;
    const method = f.childForFieldName('attribute')?.text;
    if (method !== 'split' && method !== 'partition' && method !== 'rsplit') return false;
    const sep = stringValue(callArguments(call).positional[0]);
    if (sep !== undefined && /bearer/i.test(sep)) return false;
    return isAuthorizationHeader(model, fn, f.childForFieldName('object'));
  });
  if (splits.length === 0 || checksBearerScheme(fn.body)) return;
  for (const call of splits) {
    const parent = call.parent;
    const takesToken =
      (parent?.type === 'subscript' && /^-?1$/.test(parent.childForFieldName('subscript')?.text ?? '')) ||
      (parent?.type === 'assignment' && (parent.childForFieldName('left')?.type === 'pattern_list' || parent.childForFieldName('left')?.type === 'tuple_pattern'));
    if (!takesToken) continue;
    const node = parent!.type === 'subscript' ? parent! : call;
    ctx.report({ node, messageId: 'handParsed', data: { expr: node.text.length > 60 ? `${node.text.slice(0, 57)}...` : node.text } });
  }
}

function isAuthorizationHeader(model: ModuleModel, fn: FunctionInfo, expr: Node | null | undefined): boolean {
  if (!expr) return false;
  const value = valueOf(model, expr) ?? expr;
  for (const n of [expr, value]) {
    if (/authorization|auth_?header/i.test(n.text)) return true;
  }
  const param = expr.type === 'identifier' ? fn.params.find((p) => p.name === expr.text) : undefined;
  return param?.marker?.kind === 'Header' && /auth/i.test(param.name);
}

/** A comparison or `startswith` against "Bearer", or FastAPI's `get_authorization_scheme_param`. */
function checksBearerScheme(body: Node): boolean {
  for (const n of descendantsInScope(body, ['comparison_operator', 'call'])) {
    // Any scheme comparison counts: a Basic-auth parser compares against "basic", not "bearer".
    if (n.type === 'comparison_operator' && /bearer|basic|digest/i.test(n.text)) return true;
    if (n.type === 'call') {
      const f = n.childForFieldName('function');
      const name = f?.type === 'attribute' ? f.childForFieldName('attribute')?.text : f?.text;
      if ((name === 'startswith' || name === 'match' || name === 'fullmatch') && /bearer|basic|digest/i.test(n.text)) return true;
      if (name === 'get_authorization_scheme_param') return true;
    }
  }
  return false;
}
