import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import type { Fix, TextEdit } from '../core/types';
import { callArguments, children, descendantsInScope, dictEntries, rangeOf, walk } from '../python/syntax';
import { classifyJwtCall, mayUseJwtLibrary } from '../python/jwt-libs';
import { ensureImport } from '../python/edits';
import { errorResponseAt, exceptClausesIn, isBroadCatch, isJwtException, type ErrorResponse } from '../python/auth-errors';
import { exprKey, failureBranch, testedIn } from '../python/auth-conditions';
import { claimReadAt } from '../python/token-claims';
import { addKeywordEdit } from '../python/token-edits';
import { calledFunction, claimNamesIn, claimReturningFunctions, decodeIndex, functionKey } from '../workspace/token-index';
import { isMiddleware, isRouteHandler } from '../workspace/auth-routes';
import { pinnedBelow } from '../workspace/pinned-versions';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

type MessageId = 'authnStatus' | 'authnOk' | 'securityScheme' | 'authzStatus' | 'noHeader';

export const JWT108 = defineRule<MessageId>({
  code: 'JWT108',
  name: 'wrong-auth-status',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [4],
  messages: {
    authnStatus: 'Authentication failure ({reason}) is answered with {status} instead of 401',
    authnOk: 'Authentication failure ({reason}) is answered with a 200 response instead of 401',
    securityScheme: '`{call}` answers a missing or malformed credential with 403 on the pinned FastAPI `{spec}` (401 only from 0.122)',
    authzStatus: 'Authorization failure (`{condition}`) is answered with 401 instead of 403: the user is known but not allowed',
    noHeader: '401 response `{call}` has no `WWW-Authenticate: Bearer` header',
  },
  docs: `## What it does
Finds authentication failures answered with the wrong status: a missing, malformed, expired or badly signed token,
or a token without a subject, answered with 403, 400, 500 or a 200 error body (in \`except\` blocks around a decode,
in \`if not token\` / \`if payload is None\` / \`if user_id is None\` branches of a function that verifies tokens, in
\`HTTPBearer\` subclasses and middleware). On FastAPI versions before 0.122 (as pinned by the workspace),
\`HTTPBearer()\`, \`APIKeyHeader()\` and the other security classes with \`auto_error=True\` answered a missing token
with 403. The other direction too: an authorization failure (a known user denied another user's object, or a role
check) answered with 401. A 401 without a \`WWW-Authenticate: Bearer\` header is reported as a suggestion.

## Why is this bad?
401 means "who are you?": clients respond by refreshing the token or sending the user to sign in. 403 means "I know
who you are, and no": clients show an error and stop. Mixing them breaks token refresh in the frontend (a Better Auth
client never refreshes on 403), hides expired sessions as permission errors, and makes monitoring count attacks as
authorization bugs. RFC 9110 requires a 401 to carry a \`WWW-Authenticate\` challenge.

## Example
\`\`\`python
import os

import jwt
from fastapi import HTTPException


def get_current_user_id(token: str) -> str:
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(status_code=403, detail="Invalid token")
    return payload["sub"]
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import HTTPException, status


def get_current_user_id(token: str) -> str:
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return payload["sub"]
\`\`\`

## Fix safety
Unsafe for status changes: the fix sets \`status.HTTP_401_UNAUTHORIZED\` (adding the \`WWW-Authenticate\` header) or
\`status.HTTP_403_FORBIDDEN\`, and clients that relied on the old status see a different one. Safe for the missing
header, which only adds a response header. Security classes on old FastAPI versions get no fix: upgrade FastAPI to
0.122 or later, or pass \`auto_error=False\` and raise the 401 yourself.

## References
- [RFC 9110, section 15.5.2: 401 Unauthorized](https://www.rfc-editor.org/rfc/rfc9110#name-401-unauthorized)
- [RFC 6750, section 3: The WWW-Authenticate Response Header Field](https://www.rfc-editor.org/rfc/rfc6750#section-3)
- [FastAPI: Use Old 403 Authentication Error Status Codes](https://fastapi.tiangolo.com/how-to/authentication-error-status-code/)
`,
  prescan: (file, ws) => mayReportIn(file, ws),
  check(ctx) {
    const { model, workspace, file } = ctx;
    const reported = new Set<string>();
    const decoders = decodingFunctions(workspace);
    for (const fn of model.functions) {
      const verification = verificationIn(workspace, file.path, model, fn, decoders);
      const answersClient = isRouteHandler(workspace, model, fn) || isMiddleware(workspace, model, fn);
      if (verification.verifies) {
        for (const site of authFailureSites(workspace, file.path, model, fn, verification)) {
          for (const answer of answersIn(model, site.block, answersClient, workspace, file.path)) checkAuthnAnswer(ctx, reported, answer, site.reason);
        }
      }
      checkAuthorizationBranches(ctx, reported, fn, verification.authVars);
    }
    checkMissingHeaders(ctx, reported);
    checkSecuritySchemes(ctx);
  },
});

// ---- where the rule can report (checked before parsing) -------------------------------------------

/**
 * - Authentication failures are looked for only in functions that verify: a JWT call of this file (the library's
 *   text gate) or a call to a decoding function, which names it or an alias it is imported under.
 * - A missing `WWW-Authenticate` header and an authorization branch answered here need an error response built
 *   in this file: `errorResponseAt` knows `HTTPException` (also unresolved) and FastAPI/Starlette responses and
 *   websocket exceptions, whose names resolve to `fastapi`/`starlette` only where this file can import them.
 * - An authorization branch may raise a helper's exception instead (`helperException`): some function returns
 *   an `HTTPException` it builds, and the branch tests a privilege attribute or an owner column here.
 * - A 403-answering security class on an old pinned FastAPI: the class is named here and resolves to
 *   `fastapi.security`.
 */
function mayReportIn(file: WorkspaceFile, ws: Workspace): boolean {
  const text = file.text;
  // Cheapest first: on code that is not a FastAPI app each test below is one pass over the text or a memo.
  if (mayUseJwtLibrary(text) || /HTTPException/.test(text)) return true;
  if (mayImportFastapi(file)) {
    if (/Response|WebSocketException/.test(text)) return true;
    if (SCHEME_403_TEXT.test(text) && pinnedBelow(ws.pinnedVersion('fastapi'), [0, 122]) === true) return true;
  }
  if ((PRIVILEGE_ATTRS.test(text) || ownerTest(ws.settingsFor(file.path).ownerColumns).test(text)) && someHelperReturnsHttpException(ws)) return true;
  // A call to a decoding function (or to one of its callers) spells its name or an alias it is imported under.
  return decodingNames(ws)?.test(text) ?? false;
}

const FASTAPI_TEXT = /fastapi|starlette/;
/** A relative import inside the `fastapi`/`starlette` packages resolves to them without naming them. */
const FASTAPI_MODULE = /^(fastapi|starlette)(\.|$)/;
const SCHEME_403_TEXT = /HTTPBearer|HTTPDigest|APIKeyHeader|APIKeyQuery|APIKeyCookie|OpenIdConnect/;

/** A name resolved in this file can start with `fastapi`/`starlette`. */
function mayImportFastapi(file: WorkspaceFile): boolean {
  return FASTAPI_TEXT.test(file.text) || FASTAPI_MODULE.test(file.moduleName);
}

/**
 * Some function of the workspace returns an `HTTPException` (what `helperException` looks for in the function a
 * raise calls; here any `return` counts). Parses only files that say `HTTPException`, which
 * this prescan lets through anyway (their own errors may be reported).
 */
function someHelperReturnsHttpException(ws: Workspace): boolean {
  return ws.memo('JWT108:http-exception-helpers', () =>
    ws.filesMentioning(/HTTPException/).some((f) => {
      try {
        const model = ws.model(f.path);
        return !!model && model.root.descendantsOfType('return_statement').some((ret) => {
          const value = ret ? children(ret)[0] : undefined;
          return value?.type === 'call' && errorResponseAt(model, value)?.kind === 'http-exception';
        });
      } catch {
        // Nothing is known of a file that cannot be modelled: it may hold such a helper.
        return true;
      }
    }),
  );
}

// ---- which functions verify tokens ---------------------------------------------------------------

/** Functions that verify tokens: they decode, or call (up to three levels) a workspace function that does. */
function decodingFunctions(ws: Workspace): Set<string> {
  return decoderGraph(ws).functions;
}

/** The names a call to a decoding function can spell (their own and the aliases they are imported under). */
function decodingNames(ws: Workspace): RegExp | undefined {
  return decoderGraph(ws).names;
}

function decoderGraph(ws: Workspace): { functions: Set<string>; names?: RegExp } {
  return ws.memo('JWT108:decoders', () => {
    const decoders = new Set<string>();
    for (const d of decodeIndex(ws)) if (d.fn) decoders.add(functionKey({ file: d.file, fn: d.fn }));
    // Callers are added only next to a decoder: with none, the call graph is moot.
    if (decoders.size === 0) return { functions: decoders };
    // A call names the function it calls, or an alias it is imported under somewhere on the way (`from .security
    // import verify as check`, re-exported, then `check(...)`: `calledFunction` follows such chains), so only files
    // naming a function of the result or such an alias can add a caller: the graph is built from those files,
    // growing with the names and aliases found, until a round finds no new one. The edges left out never reach the
    // result, so it is the whole workspace graph's.
    const names = new Set([...decoders].map(nameOfKey));
    for (;;) {
      const mentioning = ws.filesMentioning(namesPattern(names));
      const calls = mentioning.flatMap((f) => callEdges(ws, f.path));
      const out = propagateCallers(decoders, calls);
      const before = names.size;
      for (const key of out) names.add(nameOfKey(key));
      for (const f of mentioning) for (const alias of importAliases(f.text, names)) names.add(alias);
      if (names.size === before) return { functions: out, names: namesPattern(names) };
    }
  });
}

/** Python identifier characters, for whole-word tests that `\b` (ASCII only) would get wrong on `vérifier`. */
const ID_CHAR = String.raw`[\p{L}\p{N}\p{M}_]`;

/** Any of `names` as a whole word (sorted: the pattern is a memo key of `filesMentioning`). */
function namesPattern(names: Set<string>): RegExp {
  return new RegExp(`(?<!${ID_CHAR})(?:${[...names].sort().map(escapeRegExp).join('|')})(?!${ID_CHAR})`, 'u');
}

/** The names `text` imports one of `names` as (`name as alias`, also split over lines or with a comment between). */
function importAliases(text: string, names: Set<string>): string[] {
  const re = new RegExp(`(?<!${ID_CHAR})(?:${[...names].map(escapeRegExp).join('|')})(?:\\s|\\\\|#[^\\r\\n]*(?=[\\r\\n]))+as(?:\\s|\\\\)+(${ID_CHAR}+)`, 'gu');
  return [...text.matchAll(re)].map((m) => m[1]);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `file#Class.method` -> `method`: the name a call spells. */
function nameOfKey(key: string): string {
  const qualname = key.slice(key.lastIndexOf('#') + 1);
  return qualname.slice(qualname.lastIndexOf('.') + 1);
}

/** The calls of one file's functions to workspace functions, as (caller, callee) keys; one memo per file. */
function callEdges(ws: Workspace, file: string): [string, string][] {
  return ws.memo(`JWT108:calls:${file}`, () => {
    const model = ws.model(file);
    const calls: [string, string][] = [];
    if (!model) return calls;
    for (const fn of model.functions) {
      for (const call of descendantsInScope(fn.body, 'call')) {
        const target = calledFunction(ws, file, model, call);
        if (target) calls.push([functionKey({ file, fn }), functionKey(target)]);
      }
    }
    return calls;
  });
}

/** The decoders and their callers up to three levels (in edge order, as the analysis has always counted them). */
function propagateCallers(decoders: Set<string>, calls: [string, string][]): Set<string> {
  const out = new Set(decoders);
  for (let round = 0; round < 3; round++) {
    let grew = false;
    for (const [caller, callee] of calls) {
      if (!out.has(caller) && out.has(callee)) {
        out.add(caller);
        grew = true;
      }
    }
    if (!grew) break;
  }
  return out;
}

interface Verification {
  verifies: boolean;
  /** Calls in the function that verify a token (decodes and calls to functions that decode), by text. */
  verifyingCalls: Node[];
  /** Names holding the token, its claims, or values derived from the claims. */
  authVars: Set<string>;
}

const TOKEN_PARAM = /^(token|access_token|jwt|jwt_token|bearer|credentials|creds|authorization|auth_header|auth|api_key|x_api_key)$/i;

function verificationIn(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo, decoders: Set<string>): Verification {
  const verifyingCalls: Node[] = [];
  const authVars = new Set<string>();
  for (const call of descendantsInScope(fn.body, 'call')) {
    const jwt = classifyJwtCall(model, call);
    if (jwt && (jwt.kind === 'decode' || jwt.kind === 'unverified-claims' || jwt.kind === 'signing-key')) {
      verifyingCalls.push(call);
      continue;
    }
    // Resolving a call may parse the module it comes from: only worth it when some function decodes.
    const target = decoders.size ? calledFunction(ws, file, model, call) : undefined;
    if (target && target.fn !== fn && decoders.has(functionKey(target))) verifyingCalls.push(call);
  }
  for (const p of fn.params) if (TOKEN_PARAM.test(p.name)) authVars.add(p.name);
  for (const name of model.localAssignments(fn.body).keys()) if (TOKEN_PARAM.test(name)) authVars.add(name);
  // Calls count as claims only through a claim-returning function; with none, resolving them would only parse.
  for (const name of claimNamesIn(model, fn, claimReturningFunctions(ws).size ? ws : undefined, file)) authVars.add(name);
  // Names assigned from the token, the claims, a verifying call, or from those (in source order, to a fixpoint).
  const assignments = [...model.localAssignments(fn.body)];
  for (let changed = true, rounds = 0; changed && rounds < 5; rounds++) {
    changed = false;
    for (const [name, values] of assignments) {
      if (authVars.has(name)) continue;
      const derived = values.some((v) => derivesIdentity(name, v, verifyingCalls, authVars));
      if (derived) {
        authVars.add(name);
        changed = true;
      }
    }
  }
  return { verifies: verifyingCalls.length > 0, verifyingCalls, authVars };
}

/**
 * Whether `name = value` carries the credential or the identity it proves: a verifying call's result, a claim read,
 * the token reshaped (`credentials.credentials`, `auth.split(" ")[1]`, the `Authorization` header), or the user
 * looked up from them (`user = get_user(db, username)`). Other values merely computed from the user (the user's
 * items) are not: their absence is not an authentication failure.
 */
/** `user`, `current_user`, `db_user`, `user_id`, `account`: a name for the identity, not for data about it. */
const IDENTITY_NAME = /^(current_|db_|auth_|the_|authenticated_)?(user|account|member|principal|identity|subject|sub|uid|owner)(_?(id|obj|record|row|model|db|data|info))?$/i;

function derivesIdentity(name: string, value: Node, verifyingCalls: Node[], authVars: Set<string>): boolean {
  if (verifyingCalls.some((c) => value.startIndex <= c.startIndex && c.endIndex <= value.endIndex)) return true;
  if (/["']authorization["']/i.test(value.text)) return true;
  let root: Node | null = value.type === 'await' ? children(value)[0] ?? null : value;
  const read = root ? claimReadAt(root) : undefined;
  if (read && mentionsAny(read.object, authVars)) return true;
  // Walk down `a.b(...)[1].c` to its innermost object: a token variable reshaped.
  while (root && (root.type === 'attribute' || root.type === 'subscript' || root.type === 'call')) {
    root = root.type === 'call' ? root.childForFieldName('function') : root.type === 'attribute' ? root.childForFieldName('object') : root.childForFieldName('value');
  }
  if (root?.type === 'identifier' && authVars.has(root.text)) return true;
  return IDENTITY_NAME.test(name) && mentionsAny(value, authVars);
}

function mentionsAny(node: Node, names: Set<string>): boolean {
  let found = false;
  walk(node, (n) => {
    if (found) return false;
    if (n.type === 'identifier' && names.has(n.text)) {
      // `token_data.username` mentions `token_data`; a keyword name `token=` does not mention `token`.
      const parent = n.parent;
      if (!(parent?.type === 'keyword_argument' && parent.childForFieldName('name')?.id === n.id) && !(parent?.type === 'attribute' && parent.childForFieldName('attribute')?.id === n.id)) found = true;
    }
  });
  return found;
}

// ---- authentication failures --------------------------------------------------------------------

interface FailureSite {
  block: Node;
  reason: string;
}

function authFailureSites(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo, v: Verification): FailureSite[] {
  const sites: FailureSite[] = [];
  for (const clause of exceptClausesIn(model, fn.body)) {
    if (!clause.body) continue;
    const guardsVerification = !!clause.tryBody && v.verifyingCalls.some((c) => c.startIndex >= clause.tryBody!.startIndex && c.endIndex <= clause.tryBody!.endIndex);
    const jwtError = clause.typeNames.find(isJwtException);
    const lookupError = clause.typeNames.some((t) => /^(KeyError|ValueError|TypeError|LookupError)$/.test(t));
    if (jwtError || (guardsVerification && (isBroadCatch(clause) || lookupError))) {
      const what = jwtError ?? (clause.types.length ? clause.types.map((t) => t.text).join(', ') : 'any error');
      sites.push({ block: clause.body, reason: `\`${what}\` from token verification` });
    }
  }
  for (const ifStmt of descendantsInScope(fn.body, 'if_statement')) {
    const cond = ifStmt.childForFieldName('condition');
    const branch = failureBranch(ifStmt);
    if (!cond || !branch) continue;
    const reason = authTestReason(ws, file, model, cond, v);
    if (reason) sites.push({ block: branch, reason });
  }
  return sites;
}

const PRIVILEGE_ATTRS = /\.(is_admin|is_superuser|is_staff|role|roles|scopes|permissions|is_owner|can_\w+)\b/;

/** Why a condition is an authentication test: what it checks, for the message. Undefined when it is not one. */
function authTestReason(ws: Workspace, file: string, model: ModuleModel, cond: Node, v: Verification): string | undefined {
  // A role or ownership test mixed in makes the branch an authorization decision too; leave it alone.
  if (PRIVILEGE_ATTRS.test(cond.text)) return undefined;
  if (/\.scheme\b|startswith\(\s*["'](Bearer|bearer)/.test(cond.text) && mentionsAny(cond, v.authVars)) return 'not a Bearer credential';
  for (const key of testedIn(cond)) {
    if (v.authVars.has(key)) return `\`${key}\` is missing`;
  }
  // `if not verify_jwt(token)`, `if "sub" not in payload`, `if payload.get("sub") is None`.
  let reason: string | undefined;
  walk(cond, (n) => {
    if (reason) return false;
    if (n.type === 'call') {
      const jwt = classifyJwtCall(model, n);
      const target = jwt || !decodingFunctions(ws).size ? undefined : calledFunction(ws, file, model, n);
      if (jwt?.kind === 'decode' || (target && decodingFunctions(ws).has(functionKey(target)))) reason = `\`${exprKey(n.childForFieldName('function') ?? n)}(...)\` failed`;
      const read = claimReadAt(n);
      if (read && v.authVars.has(exprKey(read.object))) reason = `claim \`${read.claim}\` is missing`;
    }
    if (n.type === 'comparison_operator' && /\bnot\s+in\b/.test(n.text)) {
      const [left, right] = children(n);
      if (left?.type === 'string' && right && v.authVars.has(exprKey(right))) reason = `claim ${left.text} is missing`;
    }
  });
  return reason;
}

interface Answer {
  /** The node the finding is reported on (the raise or return). */
  at: Node;
  response?: ErrorResponse;
  /** For `raise credentials_exception`: the name raised. */
  via?: string;
  /** A plain `return {...}` from a route or middleware: a 200 with an error body. */
  ok?: boolean;
  /** The exception comes from a helper (`raise unauthorized("...")`): its status is fixed there, not here. */
  viaHelper?: string;
}

/** Raises and error returns directly in a failure branch (not in nested functions). */
function answersIn(model: ModuleModel, block: Node, answersClient: boolean, ws?: Workspace, file?: string): Answer[] {
  const out: Answer[] = [];
  for (const stmt of descendantsInScope(block, ['raise_statement', 'return_statement'])) {
    const value = children(stmt)[0];
    if (!value) continue;
    if (stmt.type === 'raise_statement') {
      if (value.type === 'call') {
        const response = errorResponseAt(model, value);
        if (response) out.push({ at: stmt, response });
        else if (ws && file && someHelperReturnsHttpException(ws)) {
          // (The memo first: without such a helper anywhere, resolving the call would only parse its module.)
          const helper = helperException(ws, file, model, value);
          if (helper) out.push({ at: stmt, response: helper, viaHelper: dottedNameOf(value) });
        }
      } else if (value.type === 'identifier') {
        const response = namedException(model, value);
        if (response) out.push({ at: stmt, response, via: value.text });
      }
      continue;
    }
    if (value.type === 'call') {
      const response = errorResponseAt(model, value);
      if (response?.kind === 'response') out.push({ at: stmt, response });
    } else if (answersClient && value.type === 'dictionary' && dictEntries(value) && [...dictEntries(value)!.keys()].some((k) => /^(error|detail|message)$/.test(k))) {
      out.push({ at: stmt, ok: true });
    }
  }
  return out;
}

/** `def unauthorized(detail): return HTTPException(status_code=..., ...)`: the exception a helper builds. */
function helperException(ws: Workspace, file: string, model: ModuleModel, call: Node): ErrorResponse | undefined {
  const target = calledFunction(ws, file, model, call);
  if (!target) return undefined;
  for (const ret of descendantsInScope(target.fn.body, 'return_statement')) {
    const value = children(ret)[0];
    const response = value?.type === 'call' ? errorResponseAt(target.model, value) : undefined;
    if (response?.kind === 'http-exception') return response;
  }
  return undefined;
}

function dottedNameOf(call: Node): string {
  return (call.childForFieldName('function')?.text ?? 'helper').replace(/\s+/g, '');
}

/** `credentials_exception = HTTPException(...)` in the function or at module level, for `raise credentials_exception`. */
function namedException(model: ModuleModel, name: Node): ErrorResponse | undefined {
  const fnNode = name.parent ? enclosingFn(name) : undefined;
  const local = fnNode ? model.localAssignments(fnNode.childForFieldName('body')!).get(name.text) : undefined;
  const value = local?.[local.length - 1] ?? model.lastAssignment(name.text)?.value;
  return value?.type === 'call' ? errorResponseAt(model, value) : undefined;
}

function enclosingFn(node: Node): Node | undefined {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'function_definition') return p;
  return undefined;
}

function checkAuthnAnswer(ctx: RuleContext<MessageId>, reported: Set<string>, answer: Answer, reason: string): void {
  const key = `${answer.at.startIndex}`;
  if (reported.has(key)) return;
  if (answer.ok) {
    reported.add(key);
    ctx.report({ node: answer.at, messageId: 'authnOk', data: { reason } });
    return;
  }
  const response = answer.response!;
  if (response.kind === 'websocket-exception') return;
  if (response.status === undefined || response.status === 401) return;
  reported.add(key);
  ctx.report({
    node: answer.at,
    messageId: 'authnStatus',
    data: { reason, status: response.status },
    fix: answer.viaHelper ? undefined : statusFix(ctx, response, 401),
  });
}

// ---- authorization failures answered with 401 ----------------------------------------------------

function checkAuthorizationBranches(ctx: RuleContext<MessageId>, reported: Set<string>, fn: FunctionInfo, authVars: Set<string>): void {
  const ownership = ownerTest(ctx.settings.ownerColumns);
  for (const ifStmt of descendantsInScope(fn.body, 'if_statement')) {
    const cond = ifStmt.childForFieldName('condition');
    const block = ifStmt.childForFieldName('consequence');
    if (!cond || !block) continue;
    const isOwnership = ownership.test(cond.text);
    const isRole = PRIVILEGE_ATTRS.test(cond.text) && /\bnot\b|!=|\bnot\s+in\b/.test(cond.text);
    if (!isOwnership && !isRole) continue;
    // `if not user or user.role != "admin"`: the missing-user half is an authentication failure; ambiguous.
    if ([...testedIn(cond)].some((k) => authVars.has(k))) continue;
    for (const answer of answersIn(ctx.model, block, false, ctx.workspace, ctx.file.path)) {
      const response = answer.response;
      if (!response || response.status !== 401) continue;
      const key = `${answer.at.startIndex}`;
      if (reported.has(key)) continue;
      reported.add(key);
      ctx.report({
        node: answer.at,
        messageId: 'authzStatus',
        data: { condition: cond.text.replace(/\s+/g, ' ') },
        fix: answer.viaHelper ? undefined : statusFix(ctx, response, 403),
      });
    }
  }
}

/** `x.owner_id != user.id` / `user.id != x.owner_id` for the configured owner columns. */
function ownerTest(owners: readonly string[]): RegExp {
  const names = owners.map((o) => o.replace(/\W/g, '')).join('|');
  return new RegExp(`\\.(${names})\\s*!=|!=\\s*[\\w.]+\\.(${names})\\b`);
}

// ---- 401 without WWW-Authenticate -----------------------------------------------------------------

function checkMissingHeaders(ctx: RuleContext<MessageId>, reported: Set<string>): void {
  const { model, file } = ctx;
  for (const call of model.root.descendantsOfType('call')) {
    if (!call) continue;
    const response = errorResponseAt(model, call);
    if (!response || response.status !== 401 || response.kind === 'websocket-exception') continue;
    if (callArguments(call).splats.length) continue;
    if (response.headers) {
      const entries = dictEntries(response.headers);
      if (!entries || [...entries.keys()].some((k) => k.toLowerCase() === 'www-authenticate')) continue;
    }
    // A status fix on the same raise adds the header already.
    const stmt = call.parent?.type === 'raise_statement' ? call.parent : undefined;
    if (stmt && reported.has(`${stmt.startIndex}`)) continue;
    const edit = response.headers ? undefined : addKeywordEdit(file.text, call, 'headers', '{"WWW-Authenticate": "Bearer"}');
    ctx.report({
      node: call,
      messageId: 'noHeader',
      severity: 'suggestion',
      data: { call: summarize(call) },
      fix: edit ? { title: 'Add the `WWW-Authenticate: Bearer` header', safety: 'safe', edits: [edit] } : undefined,
    });
  }
}

// ---- security classes on FastAPI < 0.122 ----------------------------------------------------------

const SCHEMES_403 = /^fastapi\.security(\.(http|api_key|open_id_connect_url))?\.(HTTPBearer|HTTPDigest|APIKeyHeader|APIKeyQuery|APIKeyCookie|OpenIdConnect)$/;

function checkSecuritySchemes(ctx: RuleContext<MessageId>): void {
  const { model, workspace } = ctx;
  const pin = workspace.pinnedVersion('fastapi');
  // Nothing pinned: assume a current FastAPI (>= 0.122), which answers 401.
  if (pinnedBelow(pin, [0, 122]) !== true) return;
  for (const call of model.root.descendantsOfType('call')) {
    if (!call) continue;
    const callee = model.callee(call);
    if (!callee || !SCHEMES_403.test(callee)) continue;
    const autoError = callArguments(call).keywords.get('auto_error');
    if (autoError && autoError.type !== 'true') continue;
    ctx.report({ node: call, messageId: 'securityScheme', data: { call: summarize(call), spec: `${pin!.name}${pin!.spec}` } });
  }
}

// ---- fixes ---------------------------------------------------------------------------------------

/** Sets the response's status to 401 (with the Bearer challenge) or 403, where the status is in this file. */
function statusFix(ctx: RuleContext<MessageId>, response: ErrorResponse, status: 401 | 403): Fix | undefined {
  const { model, file } = ctx;
  if (response.kind === 'websocket-exception') return undefined;
  const imp = ensureImport(model, 'fastapi', 'status');
  const value = `${imp.local}.${status === 401 ? 'HTTP_401_UNAUTHORIZED' : 'HTTP_403_FORBIDDEN'}`;
  const edits: TextEdit[] = [];
  if (imp.edit) edits.push(imp.edit);
  const header = status === 401 && !response.headers;
  if (response.statusNode) {
    edits.push({ range: rangeOf(response.statusNode), newText: value });
    if (header) {
      const edit = addKeywordEdit(file.text, response.call, 'headers', '{"WWW-Authenticate": "Bearer"}');
      if (edit) edits.push(edit);
    }
  } else {
    const edit = addKeywordEdit(file.text, response.call, 'status_code', header ? `${value}, headers={"WWW-Authenticate": "Bearer"}` : value);
    if (!edit) return undefined;
    edits.push(edit);
  }
  return {
    title: status === 401 ? 'Answer with 401 Unauthorized (unsafe: clients see a different status)' : 'Answer with 403 Forbidden (unsafe: clients see a different status)',
    safety: 'unsafe',
    edits,
  };
}

function summarize(call: Node): string {
  const text = call.text.replace(/\s+/g, ' ');
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
