import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { FunctionInfo, ModuleModel, ParamInfo } from '../python/module-model';
import type { Fix, TextEdit } from '../core/types';
import { ensureImport } from '../python/edits';
import { allJwtCalls, JWT_LIBRARY_TEXT, jwtCallsIn } from '../python/jwt-libs';
import { valueOf } from '../python/jwt-decode';
import { blockRaises, catchesJwtErrors, caughtExceptions, exceptionName, guardedByRaise } from '../python/jwt-guards';
import { callArguments, children, descendantsInScope, dottedName, enclosingFunction, indentOf, literalValue, rangeOf } from '../python/syntax';
import { callSitesOf, functionDecodesJwt, type CallSite } from '../workspace/jwt-helpers';
import { decodingFunctionNames, mentionsAnyName } from '../workspace/jwt-helper-names';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

type MessageId = 'returnsNone' | 'returnsDefault' | 'passes' | 'continues' | 'autoError';

const SCHEMES = /^fastapi\.security(\.[a-z_0-9]+)?\.(HTTPBearer|OAuth2PasswordBearer|OAuth2AuthorizationCodeBearer|OAuth2|OpenIdConnect|APIKeyHeader|APIKeyCookie|APIKeyQuery|HTTPBasic|HTTPDigest)$/;

export const JWT107 = defineRule<MessageId>({
  code: 'JWT107',
  name: 'auth-error-swallowed',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [4],
  messages: {
    returnsNone: '`{handler}` around `{decode}` returns `None`, so an invalid token does not end the request{callers}',
    returnsDefault: '`{handler}` around `{decode}` returns `{value}` instead of rejecting the invalid token',
    passes: '`{handler}` around `{decode}` silences the verification failure with `pass`',
    continues: '`{handler}` around `{decode}` lets the request continue after the verification failure',
    autoError: '`{param}` comes from `{scheme}(auto_error=False)` and `{function}` never answers its `None` with a 401',
  },
  docs: `## What it does
Finds token-verification failures that do not end the request: an \`except\` around a JWT decode (or around a
workspace helper that decodes) that returns \`None\` or a default user, \`pass\`es, or logs and carries on; and
\`HTTPBearer(auto_error=False)\` / \`OAuth2PasswordBearer(auto_error=False)\` credentials whose \`None\` is not
turned into a 401 before the dependency goes on.

Not a finding: a handler that raises (any status: JWT108 judges the status), returns a response (the request
ends), or falls through to an \`if payload is None: raise ...\` guard; a helper that returns \`None\` when every
caller in the workspace checks the result and raises.

## Why is this bad?
When verification fails quietly, the request goes on as anonymous, as a default user, or with half-parsed
claims. Routes that assume an authenticated caller then serve or change data for someone who presented a
forged or expired token.

## Example
\`\`\`python
import os

import jwt
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


def get_current_user(token: str = Depends(oauth2_scheme)):
    try:
        return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


def get_current_user(token: str = Depends(oauth2_scheme)):
    try:
        return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError as e:
        raise HTTPException(status_code=401, detail="Invalid or expired token", headers={"WWW-Authenticate": "Bearer"}) from e
\`\`\`

## Fix safety
Unsafe: the fix replaces the fallback with \`raise HTTPException(status_code=401, detail="Invalid or expired
token", headers={"WWW-Authenticate": "Bearer"})\` (chained \`from e\` where the exception is named), adding the import;
for \`auto_error=False\` it inserts \`if <credentials> is None: raise ...\` at the top of the dependency. Endpoints
that meant to serve anonymous callers through this dependency now answer 401. No fix is offered inside HTTP
middleware (an \`HTTPException\` raised there becomes a 500) or in modules that do not use FastAPI.

## References
- [FastAPI: OAuth2 with Password (and hashing), Bearer with JWT tokens](https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/)
- [FastAPI: HTTPBearer (auto_error)](https://fastapi.tiangolo.com/reference/security/#fastapi.security.HTTPBearer)
- [OWASP: Error Handling Cheat Sheet (fail securely)](https://cheatsheetseries.owasp.org/cheatsheets/Error_Handling_Cheat_Sheet.html)
- [CWE-636: Not Failing Securely](https://cwe.mitre.org/data/definitions/636.html)
`,
  prescan: (file, ws) => mayReportIn(file, ws),
  check(ctx) {
    const { model } = ctx;
    for (const tryStmt of model.root.descendantsOfType('try_statement')) {
      if (!tryStmt) continue;
      try {
        checkTry(ctx, tryStmt);
      } catch {
        // Odd code must never stop the other handlers from being checked.
      }
    }
    for (const fn of model.functions) {
      try {
        checkAutoError(ctx, fn);
      } catch {
        // As above.
      }
    }
  },
});

// ---- where the rule can report (checked before parsing) ---------------------------------------

/**
 * An `except` around a decode needs `try`/`except` in this file, a token-reading JWT call somewhere in the
 * workspace (in this `try` body, or in the helper it calls, which this file names: `functionDecodesJwt` ends at
 * one) and a module that
 * imports FastAPI/Starlette (this one, or a caller's). An `auto_error=False` scheme is built by a call that says
 * `auto_error` in a module importing FastAPI (this file or the one the dependency is imported from).
 */
function mayReportIn(file: WorkspaceFile, ws: Workspace): boolean {
  if (TRY_TEXT.test(file.text) && EXCEPT_TEXT.test(file.text) && workspaceMayUseFastapi(ws) && workspaceReadsTokens(ws) && mayCallDecoder(file, ws)) return true;
  // A lenient scheme is built here, or imported (one hop) under the name it is assigned to in its module.
  if (!ws.filesMentioning(/auto_error/).some(mayImportFastapi)) return false;
  return /auto_error/.test(file.text) || mentionsAnyName(ws, file, lenientSchemeNames(ws));
}

/** Names assigned a call that says `auto_error` (`bearer = HTTPBearer(auto_error=False)`), in any module. */
function lenientSchemeNames(ws: Workspace): ReadonlySet<string> {
  return ws.memo('JWT107:lenient-scheme-names', () => {
    const names = new Set<string>();
    for (const f of ws.filesMentioning(/auto_error/)) {
      try {
        const model = ws.model(f.path);
        if (!model) continue;
        for (const [name, list] of model.assignments) if (list.some((a) => /auto_error/.test(a.value.text))) names.add(name);
      } catch {
        // A module that cannot be modelled builds no scheme the check could read either.
      }
    }
    return { names };
  }).names;
}

/**
 * The `try` body's decode is a JWT call of this file (the library's text gate) or a call to a function that
 * decodes (`functionDecodesJwt`), which spells its name or an alias it is imported under.
 */
function mayCallDecoder(file: WorkspaceFile, ws: Workspace): boolean {
  return JWT_LIBRARY_TEXT.test(file.text) || mentionsAnyName(ws, file, decodingFunctionNames(ws));
}

const TRY_TEXT = /\btry\b/;
const EXCEPT_TEXT = /\bexcept\b/;
const FASTAPI_TEXT = /fastapi|starlette/;
/** A relative import inside the `fastapi`/`starlette` packages resolves to them without naming them. */
const FASTAPI_MODULE = /^(fastapi|starlette)(\.|$)/;
const TOKEN_READING_KINDS = new Set(['decode', 'unverified-claims', 'signing-key']);

/** `usesFastapi` can hold for the file: an import target starts with `fastapi`/`starlette`. */
function mayImportFastapi(file: WorkspaceFile): boolean {
  return FASTAPI_TEXT.test(file.text) || FASTAPI_MODULE.test(file.moduleName);
}

function workspaceMayUseFastapi(ws: Workspace): boolean {
  return ws.memo('JWT107:may-use-fastapi', () => ws.filesMentioning(FASTAPI_TEXT).length > 0 || ws.allFiles().some((f) => FASTAPI_MODULE.test(f.moduleName)));
}

/**
 * Some file calls a JWT library to decode, peek at claims or fetch a signing key. Parses only the files that say
 * `jwt`/`jose` (the classifier's own gate); a file that cannot be modelled counts, as nothing is known of it.
 */
function workspaceReadsTokens(ws: Workspace): boolean {
  return ws.memo('JWT107:reads-tokens', () =>
    ws.filesMentioning(JWT_LIBRARY_TEXT).some((f) => {
      try {
        const model = ws.model(f.path);
        return !!model && allJwtCalls(model).some((c) => TOKEN_READING_KINDS.has(c.kind));
      } catch {
        return true;
      }
    }),
  );
}

// ---- try/except around a decode ---------------------------------------------------------------

/** The JWT decode (or decoding helper call) in the `try` body, as the text to name in messages. */
function decodeIn(ctx: RuleContext<MessageId>, body: Node): string | undefined {
  const { model } = ctx;
  const direct = jwtCallsIn(model, body).find((c) => c.kind === 'decode' || c.kind === 'signing-key');
  if (direct) return dottedName(direct.call.childForFieldName('function')) ?? direct.callee;
  for (const { call, callee } of model.callsIn(body)) {
    if (callee && functionDecodesJwt(ctx.workspace, callee)) return dottedName(call.childForFieldName('function')) ?? callee;
  }
  return undefined;
}

function checkTry(ctx: RuleContext<MessageId>, tryStmt: Node): void {
  const { model } = ctx;
  const body = tryStmt.childForFieldName('body');
  if (!body) return;
  const decode = decodeIn(ctx, body);
  if (!decode) return;
  const fnNode = enclosingFunction(tryStmt);
  const fn = fnNode ? model.functionAt(fnNode) : undefined;
  // Outside a web module (a CLI, a worker), a swallowed failure ends no request; such code is judged only when
  // web code of the workspace calls it.
  if (!usesFastapi(model) && !(fn?.topLevel && callSitesOf(ctx.workspace, ctx.file, fn.name).some((s) => usesFastapi(s.model)))) return;
  for (const clause of children(tryStmt).filter((c) => c.type === 'except_clause')) {
    if (!catchesJwtErrors(model, clause)) continue;
    const block = children(clause).find((c) => c.type === 'block');
    if (!block || blockRaises(block)) continue;
    const caught = caughtExceptions(clause);
    const handler = caught.length === 0 ? 'except' : caught.length === 1 ? `except ${caught[0].text}` : `except (${caught.map((c) => c.text).join(', ')})`;
    const statements = children(block);
    const last = statements[statements.length - 1];
    if (!last) continue;
    const data = { handler, decode };
    if (last.type === 'return_statement') {
      const value = children(last)[0];
      if (value && endsRequest(model, value)) continue;
      if (!value || value.type === 'none' || literalValue(valueOf(model, value)) === null) {
        const callers = fn ? uncheckedCallers(ctx, fn) : { checked: false, where: '' };
        if (callers.checked) continue;
        ctx.report({ node: last, messageId: 'returnsNone', data: { ...data, callers: callers.where }, fix: raiseFix(ctx, clause, last, fn) });
      } else {
        // A computed result (`return await refresh_session(...)`) may well end the request: only defaults count.
        if (!isDefaultValue(model, value)) continue;
        // `return False` from an `is_valid_token` check is fine when every caller tests it and raises.
        const falsy = literalValue(valueOf(model, value));
        if ((falsy === false || falsy === '' || falsy === 0) && fn && uncheckedCallers(ctx, fn).checked) continue;
        ctx.report({ node: last, messageId: 'returnsDefault', data: { ...data, value: short(value.text) }, fix: raiseFix(ctx, clause, last, fn) });
      }
      continue;
    }
    if (statements.every((s) => s.type === 'pass_statement' || s.type === 'continue_statement' || isEllipsis(s))) {
      ctx.report({ node: last, messageId: 'passes', data, fix: raiseFix(ctx, clause, last, fn) });
      continue;
    }
    if (last.type === 'continue_statement' || last.type === 'break_statement') {
      ctx.report({ node: last, messageId: 'continues', data, fix: undefined });
      continue;
    }
    // Falls through: accepted when a later guard rejects the unset result (`if payload is None: raise`).
    const scope = fn?.body ?? model.root;
    const names = assignedNames(body).concat(assignedNames(block));
    if (names.some((n) => guardedByRaise(scope, n, tryStmt))) continue;
    ctx.report({ node: clause, messageId: 'continues', data, fix: appendRaiseFix(ctx, clause, last, fn) });
  }
}

function isEllipsis(stmt: Node): boolean {
  return stmt.type === 'expression_statement' && children(stmt)[0]?.type === 'ellipsis';
}

function short(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 37)}...` : flat;
}

/** A returned response ends the request: `JSONResponse(status_code=401)`, `RedirectResponse("/login")`. */
function endsRequest(model: ModuleModel, value: Node): boolean {
  const v = value.type === 'await' ? children(value)[0] : value;
  if (v?.type !== 'call') return false;
  const callee = model.callee(v) ?? dottedName(v.childForFieldName('function')) ?? '';
  if (/Response$/.test(callee)) return true;
  // `return await call_next(request)` in middleware continues the request: not an end.
  return false;
}

/**
 * A fallback identity: a literal (`{}`, `False`, `{"sub": "anonymous"}`), a name (`GUEST`, `claims`), a default-user
 * constructor (`AnonymousUser()`), or middleware's `call_next(request)`, which carries on unauthenticated.
 */
function isDefaultValue(model: ModuleModel, value: Node): boolean {
  const v = value.type === 'await' ? children(value)[0] : value;
  if (!v) return false;
  if (literalValue(v) !== undefined || v.type === 'dictionary' || v.type === 'list' || v.type === 'tuple') return true;
  if (v.type === 'identifier' || v.type === 'attribute') return true;
  if (v.type === 'call') {
    const name = dottedName(v.childForFieldName('function')) ?? '';
    return /(anonym|guest|default|public|visitor|user|principal|call_next|^dict$)/i.test(name.split('.').pop() ?? '');
  }
  return false;
}

function assignedNames(scope: Node): string[] {
  const out: string[] = [];
  for (const a of descendantsInScope(scope, 'assignment')) {
    const left = a.childForFieldName('left');
    if (left?.type === 'identifier') out.push(left.text);
  }
  return out;
}

/**
 * A helper that returns `None` on failure is fine when every place that uses it (calls and `Depends` injections,
 * across the workspace) checks the result and raises. No callers at all: the result is unchecked as far as we know.
 */
function uncheckedCallers(ctx: RuleContext<MessageId>, fn: FunctionInfo): { checked: boolean; where: string } {
  if (!fn.topLevel) return { checked: false, where: '' };
  const sites = callSitesOf(ctx.workspace, ctx.file, fn.name);
  if (sites.length === 0) return { checked: false, where: '' };
  const unchecked = sites.filter((s) => !siteChecks(s));
  if (unchecked.length === 0) return { checked: true, where: '' };
  const first = unchecked[0];
  const where = first.caller ? ` (\`${first.caller.name}\` uses the result unchecked)` : first.discarded ? ' (it is used in `dependencies=[...]`, where its result is discarded)' : '';
  return { checked: false, where };
}

function siteChecks(site: CallSite): boolean {
  if (site.discarded) return false;
  const scope = site.caller?.body ?? site.model.root;
  if (site.param) return guardedByRaise(scope, site.param);
  const call = site.node;
  // `return decode(token) is not None` / `bool(decode(token))`: the caller turns failure into a boolean that its own
  // callers test; treated as checked rather than guessing at every use of the boolean.
  const up = call.parent?.type === 'await' ? call.parent.parent : call.parent;
  if (up?.type === 'comparison_operator' && /\bis\s+(not\s+)?None\b|==\s*None|!=\s*None/.test(up.text)) return true;
  if (up?.type === 'argument_list' && up.parent?.type === 'call' && dottedName(up.parent.childForFieldName('function')) === 'bool') return true;
  // `if not verify(token): raise ...` / `if (claims := verify(token)) is None: raise ...`
  for (let p = call.parent; p && p.id !== scope.id; p = p.parent) {
    if (p.type === 'if_statement' || p.type === 'elif_clause') return blockRaises(p.childForFieldName('consequence'));
    if (p.type === 'named_expression') {
      const name = p.childForFieldName('name')?.text;
      return !!name && guardedByRaise(scope, name);
    }
    if (p.type === 'expression_statement' || p.type === 'return_statement' || p.type === 'block') break;
  }
  const parent = call.parent?.type === 'await' ? call.parent.parent : call.parent;
  if (parent?.type === 'assignment' && parent.childForFieldName('left')?.type === 'identifier') {
    return guardedByRaise(scope, parent.childForFieldName('left')!.text, call);
  }
  return false;
}

// ---- fixes ------------------------------------------------------------------------------------

function usesFastapi(model: ModuleModel): boolean {
  return [...model.imports.values()].some((b) => b.target === 'fastapi' || b.target.startsWith('fastapi.') || b.target.startsWith('starlette.'));
}

function canFix(model: ModuleModel, fn: FunctionInfo | undefined): boolean {
  // An HTTPException raised in HTTP middleware is not turned into a 401 by FastAPI.
  const middleware = !!fn && fn.params.some((p) => p.name === 'call_next');
  return usesFastapi(model) && !middleware;
}

function raiseStatement(ctx: RuleContext<MessageId>, clause: Node | undefined, detail = 'Invalid or expired token'): { text: string; edits: TextEdit[] } {
  const { model } = ctx;
  const http = ensureImport(model, 'fastapi', 'HTTPException');
  const statusBinding = model.imports.get('status');
  const status = statusBinding && /^(fastapi|starlette)\.status$/.test(statusBinding.target) ? 'status.HTTP_401_UNAUTHORIZED' : '401';
  const name = clause ? exceptionName(clause) : undefined;
  const text = `raise ${http.local}(status_code=${status}, detail="${detail}", headers={"WWW-Authenticate": "Bearer"})${name ? ` from ${name}` : ''}`;
  return { text, edits: http.edit ? [http.edit] : [] };
}

function raiseFix(ctx: RuleContext<MessageId>, clause: Node, statement: Node, fn: FunctionInfo | undefined): Fix | undefined {
  if (!canFix(ctx.model, fn)) return undefined;
  const r = raiseStatement(ctx, clause);
  return {
    title: 'Raise a 401 `HTTPException` instead (unsafe: anonymous callers are rejected)',
    safety: 'unsafe',
    edits: [...r.edits, { range: rangeOf(statement), newText: r.text }],
  };
}

function appendRaiseFix(ctx: RuleContext<MessageId>, clause: Node, last: Node, fn: FunctionInfo | undefined): Fix | undefined {
  if (!canFix(ctx.model, fn)) return undefined;
  const r = raiseStatement(ctx, clause);
  const indent = indentOf(ctx.model.text, last);
  const at = rangeOf(last).end;
  return {
    title: 'Raise a 401 `HTTPException` after handling the error (unsafe: anonymous callers are rejected)',
    safety: 'unsafe',
    edits: [...r.edits, { range: { start: at, end: at }, newText: `\n${indent}${r.text}` }],
  };
}

// ---- auto_error=False -------------------------------------------------------------------------

function checkAutoError(ctx: RuleContext<MessageId>, fn: FunctionInfo): void {
  const { model } = ctx;
  for (const p of fn.params) {
    const dep = p.marker?.dependency;
    if (!dep || (p.marker!.kind !== 'Depends' && p.marker!.kind !== 'Security')) continue;
    const scheme = lenientScheme(ctx, model, dep);
    if (!scheme) continue;
    if (guardedByRaise(fn.body, p.name)) continue;
    // Handing the credentials to a helper that raises on `None` (`verify(credentials)`) is checked there: accept
    // when the function raises at all before it returns something derived from them.
    if (passesToRaisingHelper(ctx, fn, p)) continue;
    ctx.report({
      node: p.node,
      messageId: 'autoError',
      data: { param: p.name, scheme, function: fn.name },
      fix: autoErrorFix(ctx, fn, p),
    });
  }
}

/** The scheme class when `dep` is (or names) a FastAPI security scheme built with `auto_error=False`. */
function lenientScheme(ctx: RuleContext<MessageId>, model: ModuleModel, dep: Node): string | undefined {
  let value: Node | undefined = valueOf(model, dep);
  let owner = model;
  if (value?.type === 'identifier' || value?.type === 'attribute') {
    const binding = model.imports.get(value.text.split('.')[0]);
    if (binding) {
      const located = ctx.workspace.locate(model.resolve(value) ?? '');
      const other = located ? ctx.workspace.model(located.file.path) : undefined;
      const assigned = other && located?.member ? other.lastAssignment(located.member)?.value : undefined;
      if (!other || !assigned) return undefined;
      owner = other;
      value = assigned;
    }
  }
  if (value?.type !== 'call') return undefined;
  const callee = owner.callee(value) ?? '';
  const m = SCHEMES.exec(callee);
  if (!m) return undefined;
  const autoError = callArguments(value).keywords.get('auto_error');
  return autoError && literalValue(valueOf(owner, autoError)) === false ? m[2] : undefined;
}

function passesToRaisingHelper(ctx: RuleContext<MessageId>, fn: FunctionInfo, p: ParamInfo): boolean {
  for (const { call, callee } of ctx.model.callsIn(fn.body)) {
    const args = callArguments(call);
    if (!args.positional.some((a) => a.text === p.name) && ![...args.keywords.values()].some((a) => a.text === p.name)) continue;
    if (!callee) continue;
    const located = ctx.workspace.locate(callee);
    const model = located ? ctx.workspace.model(located.file.path) : undefined;
    const target = model && located?.member ? model.topLevelFunction(located.member) : undefined;
    if (target && target.params[0] && guardedByRaise(target.body, target.params[0].name)) return true;
  }
  return false;
}

function autoErrorFix(ctx: RuleContext<MessageId>, fn: FunctionInfo, p: ParamInfo): Fix | undefined {
  const { model } = ctx;
  if (!canFix(model, fn)) return undefined;
  const statements = children(fn.body);
  let first = statements[0];
  if (first?.type === 'expression_statement' && children(first)[0]?.type === 'string') first = statements[1];
  if (!first || first.startPosition.row === fn.node.startPosition.row) return undefined;
  const r = raiseStatement(ctx, undefined, 'Not authenticated');
  const indent = indentOf(model.text, first);
  const at = rangeOf(first).start;
  return {
    title: `Raise a 401 when \`${p.name}\` is missing (unsafe: anonymous callers are rejected)`,
    safety: 'unsafe',
    edits: [...r.edits, { range: { start: at, end: at }, newText: `if ${p.name} is None:\n${indent}    ${r.text}\n${indent}` }],
  };
}
