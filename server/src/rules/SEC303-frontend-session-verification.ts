import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { ModuleModel } from '../python/module-model';
import { callArguments, children, enclosingFunction, stringValue } from '../python/syntax';

type MessageId = 'call';

export const SEC303 = defineRule<MessageId>({
  code: 'SEC303',
  name: 'frontend-session-verification',
  severity: 'warning',
  fix: 'none',
  checklist: [9],
  prescan: (file) => mayCallSessionEndpoint(file.text, file.moduleName),
  messages: {
    call: '`{call}` asks the auth server to verify the user (`{endpoint}`) instead of verifying the JWT locally',
  },
  docs: `## What it does
Finds the backend calling the Better Auth server to learn who the user is: an \`httpx\`, \`requests\` or \`aiohttp\`
request (module functions, \`Client\`/\`AsyncClient\`/\`Session\`/\`ClientSession\` instances, sync or async) to a
session endpoint such as \`/api/auth/get-session\`, whether the URL is a literal, an f-string, a concatenation with
a base URL or a variable holding one. Fetching the JWKS (\`/api/auth/jwks\`) is how local verification starts and is
not reported.

## Why is this bad?
Every request then depends on a second service being up and fast, the session cookie has to be forwarded from the
browser to the API (so the API accepts cookies and becomes exposed to CSRF), and a misconfigured base URL or a
spoofed response decides who the user is. A JWT verified locally with the shared secret or the JWKS needs none of
that.

## Example
\`\`\`python
import os

import httpx
from fastapi import HTTPException, Request

AUTH_URL = os.environ["BETTER_AUTH_URL"]


async def get_current_user(request: Request) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{AUTH_URL}/api/auth/get-session", headers={"cookie": request.headers.get("cookie", "")})
    if response.status_code != 200 or not response.json():
        raise HTTPException(status_code=401, detail="Not authenticated")
    return response.json()["user"]
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

bearer = HTTPBearer()


def get_current_user(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> dict:
    try:
        return jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
\`\`\`

## Fix safety
No automatic fix: the frontend must send a JWT (Better Auth's JWT plugin, \`authClient.token()\`) in the
\`Authorization\` header first. Then verify it locally with PyJWT and the shared secret or \`PyJWKClient\` on
\`/api/auth/jwks\`.

## References
- [Better Auth: JWT plugin (verifying tokens)](https://www.better-auth.com/docs/plugins/jwt)
- [Better Auth: Session management](https://www.better-auth.com/docs/concepts/session-management)
- [PyJWT: Retrieve RSA/EC signing keys from a JWKS endpoint](https://pyjwt.readthedocs.io/en/stable/usage.html#retrieve-rsa-signing-keys-from-a-jwks-endpoint)
`,
  check(ctx) {
    const { model } = ctx;
    for (const call of model.root.descendantsOfType('call')) {
      if (!call || !isHttpRequest(model, call)) continue;
      const url = urlArgument(call);
      if (!url) continue;
      const endpoint = sessionEndpoint(urlText(model, url, call, 0));
      if (!endpoint) continue;
      const fn = call.childForFieldName('function');
      ctx.report({ node: call, messageId: 'call', data: { call: fn?.text ?? 'request', endpoint } });
    }
  },
});

/**
 * `isHttpRequest` needs a callee or client class that resolves to `httpx.`/`requests.`/`aiohttp.`, through this
 * file's imports (`import httpx`, `import os, requests`, `from aiohttp import ClientSession`) or written out...
 */
const HTTP_LIBRARY = /\b(httpx|requests|aiohttp)[\s\\]*\.|\bimport\b(?:[^\n;]|\\\r?\n)*\b(httpx|requests|aiohttp)\b|\bfrom[\s\\]+(httpx|requests|aiohttp)\b/;
/** ...or, inside those packages' own modules, through relative imports (`from .sessions import Session`). */
const HTTP_LIBRARY_MODULE = /^(httpx|requests|aiohttp)(\.|$)/;

/**
 * A necessary condition for a finding: an HTTP library, and the pieces of a session endpoint. The URL is built in
 * this file only (literals, f-string parts, concatenations, names assigned here), from pieces that may be split at
 * `/` or `{...}` (`f"{BASE}/api/{AUTH}/session"`, `"/get-" + kind`): `ENDPOINT` then needs `session`/`sessions`/
 * `token` and one of `get-`, `list-`, `auth` in the text. A word cut in two by a concatenation is not looked for.
 */
function mayCallSessionEndpoint(text: string, moduleName: string): boolean {
  return (HTTP_LIBRARY.test(text) || HTTP_LIBRARY_MODULE.test(moduleName)) && /session|token/.test(text) && /get-|list-|auth/.test(text);
}

const MODULE_FUNCTIONS = /^(httpx|requests)\.(get|post|put|patch|request|head|options)$/;
const CLIENT_CLASSES = new Set([
  'httpx.Client',
  'httpx.AsyncClient',
  'requests.Session',
  'requests.session',
  'requests.sessions.Session',
  'aiohttp.ClientSession',
]);
const CLIENT_METHODS = new Set(['get', 'post', 'put', 'patch', 'request', 'head', 'options', 'send', 'stream']);

/** `httpx.get(...)`, `requests.post(...)`, or a request method on an HTTP client instance. */
function isHttpRequest(model: ModuleModel, call: Node): boolean {
  const fn = call.childForFieldName('function');
  if (!fn) return false;
  const callee = model.callee(call) ?? '';
  if (MODULE_FUNCTIONS.test(callee)) return true;
  if (fn.type !== 'attribute') return false;
  const method = fn.childForFieldName('attribute')?.text ?? '';
  if (!CLIENT_METHODS.has(method)) return false;
  const receiver = fn.childForFieldName('object');
  if (!receiver) return false;
  // `httpx.AsyncClient().get(...)` or a module-level `client = httpx.Client(...)`.
  const instance = model.resolveInstance(receiver);
  if (instance && CLIENT_CLASSES.has(instance.replace(/\(\)$/, ''))) return true;
  if (receiver.type === 'identifier') return clientBinding(model, receiver.text, call);
  return false;
}

/** `client` bound in the enclosing function by `with httpx.AsyncClient() as client` or `client = httpx.Client()`. */
function clientBinding(model: ModuleModel, name: string, at: Node): boolean {
  const fnNode = enclosingFunction(at);
  const scope = fnNode?.childForFieldName('body');
  if (!fnNode || !scope) return false;
  // `client: httpx.AsyncClient = Depends(http_client)`: a parameter typed as a client.
  const param = model.functionAt(fnNode)?.params.find((p) => p.name === name);
  if (param?.annotation) {
    const type = param.annotation.type === 'type' ? children(param.annotation)[0] : param.annotation;
    if (type && CLIENT_CLASSES.has(model.resolve(type) ?? '')) return true;
  }
  for (const v of model.localAssignments(scope).get(name) ?? []) {
    if (v.type === 'call' && CLIENT_CLASSES.has(model.callee(v) ?? '')) return true;
  }
  for (const item of scope.descendantsOfType('with_item')) {
    const value = item?.childForFieldName('value');
    if (value?.type !== 'as_pattern') continue;
    const ctor = children(value)[0];
    const target = value.childForFieldName('alias');
    const bound = target ? children(target)[0] ?? target : undefined;
    if (ctor?.type === 'call' && bound?.text === name && CLIENT_CLASSES.has(model.callee(ctor) ?? '')) return true;
  }
  return false;
}

function urlArgument(call: Node): Node | undefined {
  const args = callArguments(call);
  const fn = call.childForFieldName('function');
  const method = fn?.type === 'attribute' ? fn.childForFieldName('attribute')?.text : fn?.text.split('.').pop();
  // `client.request("GET", url)` takes the method first.
  if (method === 'request' || method === 'stream') return args.keywords.get('url') ?? args.positional[1];
  return args.keywords.get('url') ?? args.positional[0];
}

/**
 * The constant text of a URL expression: literals, f-string parts, concatenations, `urljoin`, and names holding
 * any of those (one assignment level per hop, a few hops at most). Values that are not known are left out.
 */
function urlText(model: ModuleModel, node: Node, at: Node, depth: number): string {
  if (depth > 4) return '';
  switch (node.type) {
    case 'string':
      return children(node)
        .map((c) => (c.type === 'string_content' ? c.text : c.type === 'interpolation' ? urlText(model, c.childForFieldName('expression') ?? c, at, depth + 1) : ''))
        .join('');
    case 'concatenated_string':
    case 'binary_operator':
    case 'parenthesized_expression':
      return children(node).map((c) => urlText(model, c, at, depth + 1)).join('');
    case 'call': {
      const callee = model.callee(node) ?? '';
      if (callee === 'urllib.parse.urljoin' || /(^|\.)urljoin$/.test(callee)) return callArguments(node).positional.map((a) => urlText(model, a, at, depth + 1)).join('');
      return '';
    }
    case 'identifier': {
      const fnNode = enclosingFunction(at);
      const scope = fnNode?.childForFieldName('body');
      const local = scope ? model.localAssignments(scope).get(node.text) : undefined;
      const value = local?.length ? local[local.length - 1] : model.lastAssignment(node.text)?.value;
      return value && value.id !== node.id ? urlText(model, value, value, depth + 1) : '';
    }
    default:
      return stringValue(node) ?? '';
  }
}

const ENDPOINT = /\/(?:api\/auth\/)?(get-session|list-sessions)\b|\/api\/auth\/(session|token)\b/;

function sessionEndpoint(url: string): string | undefined {
  const m = ENDPOINT.exec(url);
  return m ? m[0] : undefined;
}
