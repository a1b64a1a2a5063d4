import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { statusCodeOf } from '../python/module-model';
import { callArguments, children, descendantsInScope, dottedName, enclosingStatement, walk } from '../python/syntax';
import { claimReadsIn, IDENTITY_CLAIMS, NON_IDENTITY_CLAIMS, type ClaimRead } from '../python/token-claims';
import { ensureImport } from '../python/edits';
import { testedInScope } from '../python/auth-conditions';
import { indentUnit, insertAfterStatementEdit } from '../python/token-edits';
import { functionNamed, claimNamesIn, claimReturningFunctions, functionKey } from '../workspace/token-index';
import { classifyJwtCall, JWT_LIBRARY_TEXT } from '../python/jwt-libs';
import { claimReturningNames, mentionsAnyName } from '../workspace/jwt-helper-names';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

type MessageId = 'unchecked' | 'uncheckedInline' | 'nonIdentity';

export const JWT111 = defineRule<MessageId>({
  code: 'JWT111',
  name: 'unchecked-subject',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [6],
  prescan: mayReadClaims,
  messages: {
    unchecked: '`{variable}` takes the user id from `{read}`, which is `None` when the claim is missing, and is used without a check',
    uncheckedInline: '`{read}` is used as the user id without checking that the claim is present',
    nonIdentity: '`{read}` identifies the user by the `{claim}` claim, which is not a stable unique id; use `sub`',
  },
  docs: `## What it does
Finds user ids taken from decoded token claims without a presence check: \`user_id = payload.get("sub")\` followed by
a query or a return with no \`if not user_id: raise ...\` in between, or \`payload.get("sub")\` passed straight into a
lookup. Also finds identity taken from a claim that is not an identifier: a user looked up or returned by
\`payload["email"]\` or \`payload["name"]\`. Claims are followed from the decode into helpers that return them
(\`payload = verify_token(token)\`), across files.

## Why is this bad?
A token that verifies but has no \`sub\` (issued by another service with the same key, or a different token type)
yields \`None\`; \`session.get(User, None)\` or \`select(Item).where(Item.user_id == None)\` then behave in surprising
ways, and a \`None\` identity can end up shared by every such request. Emails and display names change, can be
reused after an account is deleted, and are often not verified: using them as the identity lets one account take
over another's data.

## Example
\`\`\`python
import os

import jwt
from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


def get_current_user_id(token: str = Depends(oauth2_scheme)) -> str:
    payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    user_id = payload.get("sub")
    return user_id
\`\`\`

## Use instead
\`\`\`python
import os

import jwt
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="token")


def get_current_user_id(token: str = Depends(oauth2_scheme)) -> str:
    payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    user_id = payload.get("sub")
    if not user_id:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return user_id
\`\`\`

## Fix safety
Safe: the fix inserts \`if not <id>: raise HTTPException(status_code=401, ...)\` right after the assignment (reusing a
401 exception the function already defines, such as \`credentials_exception\`), adding the import when needed. Only
tokens without the claim are affected, and those now get a 401 instead of reaching the data layer. Identity taken
from \`email\`/\`name\` gets no fix: switching to \`sub\` changes which column the user is looked up by.

## References
- [RFC 7519, section 4.1.2: "sub" (Subject) Claim](https://www.rfc-editor.org/rfc/rfc7519#section-4.1.2)
- [OpenID Connect Core, section 5.7: Claim Stability and Uniqueness](https://openid.net/specs/openid-connect-core-1_0.html#ClaimStability)
- [FastAPI: OAuth2 with Password (and hashing), Bearer with JWT tokens](https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/)
`,
  check(ctx) {
    const { model, workspace, file } = ctx;
    for (const fn of model.functions) {
      const objects = claimObjects(workspace, file.path, model, fn);
      const reads = claimReadsIn(fn.body).filter((r) => objects.has(r.object.text) || isDecodeCall(model, r.object));
      if (!reads.length) continue;
      const checked = testedInScope(fn.body);
      const holders = new Set<number>();
      for (const read of reads) {
        if (IDENTITY_CLAIMS.has(read.claim) && read.via === 'get') checkSubject(ctx, fn, read, checked, holders);
        else if (NON_IDENTITY_CLAIMS.has(read.claim)) checkNonIdentity(ctx, fn, read);
      }
    }
  },
});

/**
 * A necessary condition for a finding in `file`: every claim read `check` looks at is on a decode's result (a JWT
 * call, so the text says `jwt`/`jose`) or on the result of a claim-returning workspace function, called or injected
 * with `Depends` here and so named in this file (see jwt-helper-names.ts).
 */
function mayReadClaims(file: WorkspaceFile, ws: Workspace): boolean {
  return JWT_LIBRARY_TEXT.test(file.text) || mentionsAnyName(ws, file, claimReturningNames(ws));
}

function isDecodeCall(model: ModuleModel, node: Node): boolean {
  const call = node.type === 'await' ? children(node)[0] : node;
  return call?.type === 'call' && classifyJwtCall(model, call)?.kind === 'decode';
}

/** Names in `fn` holding decoded claims: decode results, results of claim-returning helpers, and such dependencies. */
function claimObjects(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo): Set<string> {
  const names = claimNamesIn(model, fn, ws, file);
  const verifiers = claimReturningFunctions(ws);
  for (const p of fn.params) {
    const dep = p.marker?.dependency;
    if (!dep || (p.marker?.kind !== 'Depends' && p.marker?.kind !== 'Security')) continue;
    const target = dep.type === 'call' ? undefined : functionNamed(ws, file, model, dep);
    if (target && verifiers.has(functionKey(target))) names.add(p.name);
  }
  return names;
}

function checkSubject(ctx: RuleContext<MessageId>, fn: FunctionInfo, read: ClaimRead, checked: Set<string>, holders: Set<number>): void {
  const text = read.node.text.replace(/\s+/g, '');
  if (checked.has(text)) return;
  const holder = assignedName(read.node);
  // `get_optional_user_id() -> str | None`: a missing subject is the anonymous answer the function promises.
  const optional = returnsOptional(fn);
  if (!holder) {
    if (isInsideTest(read.node) || !isUsedAsValue(read.node)) return;
    if (optional && read.node.parent?.type === 'return_statement') return;
    if (lookupResultChecked(read.node, checked)) return;
    ctx.report({ node: read.node, messageId: 'uncheckedInline', data: { read: read.node.text } });
    return;
  }
  if (checked.has(holder.name)) return;
  const uses = descendantsInScope(fn.body, 'identifier').filter((id) => id.text === holder.name && id.startIndex > holder.statement.endIndex);
  if (!uses.length) return;
  if (optional && uses.every((u) => u.parent?.type === 'return_statement')) return;
  // `sub = payload.get("sub") or payload.get("id")`: one finding for the assignment.
  if (holders.has(holder.statement.id)) return;
  holders.add(holder.statement.id);
  ctx.report({
    node: read.node,
    messageId: 'unchecked',
    data: { variable: holder.name, read: read.node.text },
    fix: guardFix(ctx, fn, holder.name, holder.statement),
  });
}

/**
 * `user = await session.get(User, payload.get("sub"))` followed by `if user is None: raise`: a missing subject loads
 * nothing and the load's own check answers it. Only a direct argument of the call that is assigned counts; a
 * filter such as `Item.user_id == payload.get("sub")` still matches rows whose owner is NULL.
 */
function lookupResultChecked(read: Node, checked: Set<string>): boolean {
  const args = read.parent;
  if (args?.type !== 'argument_list' && args?.type !== 'keyword_argument') return false;
  let call = args.type === 'keyword_argument' ? args.parent?.parent : args.parent;
  if (call?.type !== 'call') return false;
  let value: Node = call;
  if (value.parent?.type === 'await') value = value.parent;
  const holder = assignedName(value);
  return !!holder && checked.has(holder.name);
}

function returnsOptional(fn: FunctionInfo): boolean {
  const annotation = fn.node.childForFieldName('return_type')?.text ?? '';
  return /\bNone\b|\bOptional\[/.test(annotation);
}

/** `x = <read>` / `x: str = <read>` / `(x := <read>)`: the name and the statement that binds it. */
function assignedName(node: Node): { name: string; statement: Node } | undefined {
  // `sub = payload.get("sub") or payload.get("id")`: the whole fallback chain is what gets assigned.
  let read = node;
  while (read.parent && (read.parent.type === 'boolean_operator' && /\bor\b/.test(read.parent.childForFieldName('operator')?.text ?? read.parent.text) || read.parent.type === 'parenthesized_expression')) read = read.parent;
  const parent = read.parent;
  if (parent?.type === 'assignment' && parent.childForFieldName('right')?.id === read.id) {
    const left = parent.childForFieldName('left');
    if (left?.type === 'identifier') return { name: left.text, statement: enclosingStatement(parent) };
  }
  if (parent?.type === 'named_expression' && parent.childForFieldName('value')?.id === read.id) {
    const name = parent.childForFieldName('name');
    if (name) return { name: name.text, statement: enclosingStatement(parent) };
  }
  return undefined;
}

function isInsideTest(node: Node): boolean {
  for (let p = node.parent; p; p = p.parent) {
    if (p.type === 'block' || p.type === 'function_definition') return false;
    if (p.type === 'if_statement' || p.type === 'elif_clause' || p.type === 'while_statement' || p.type === 'assert_statement') return true;
  }
  return false;
}

/** Whether a bare read flows somewhere (an argument, a return, a comparison in a query), not just evaluated. */
function isUsedAsValue(node: Node): boolean {
  const parent = node.parent;
  return !!parent && parent.type !== 'expression_statement';
}

function guardFix(ctx: RuleContext<MessageId>, fn: FunctionInfo, name: string, statement: Node) {
  const { model, file } = ctx;
  if (statement.parent?.type !== 'block') return undefined;
  const unit = indentUnit(file.text, statement);
  const existing = credentialsException(model, fn);
  const edits = [];
  let raise: string;
  if (existing) {
    raise = `raise ${existing}`;
  } else {
    const imp = ensureImport(model, 'fastapi', 'HTTPException');
    if (imp.edit) edits.push(imp.edit);
    raise = `raise ${imp.local}(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})`;
  }
  const insert = insertAfterStatementEdit(file.text, statement, [`if not ${name}:`, `${unit}${raise}`]);
  if (!insert) return undefined;
  edits.push(insert);
  return { title: `Raise 401 when \`${name}\` is missing`, safety: 'safe' as const, edits };
}

/** A name bound to a 401 `HTTPException(...)` in the function or module (`credentials_exception`). */
function credentialsException(model: ModuleModel, fn: FunctionInfo): string | undefined {
  const candidates: [string, Node][] = [];
  for (const [name, values] of model.localAssignments(fn.body)) for (const v of values) candidates.push([name, v]);
  for (const [name, list] of model.assignments) for (const a of list) candidates.push([name, a.value]);
  for (const [name, value] of candidates) {
    if (value.type !== 'call' || !/HTTPException$/.test(model.callee(value) ?? '')) continue;
    const args = callArguments(value);
    if (statusCodeOf(args.keywords.get('status_code') ?? args.positional[0]) === 401) return name;
  }
  return undefined;
}

const IDENTITY_NAMES = /^(user_?id|uid|sub|subject|owner_?id|current_user_id|account_?id|identity|principal)$/i;
const LOOKUP_FUNCTIONS = /(get|find|load|fetch|lookup)_?(user|account|member|owner)|(user|account)_?by|^authenticate/i;

function checkNonIdentity(ctx: RuleContext<MessageId>, fn: FunctionInfo, read: ClaimRead): void {
  const holder = assignedName(read.node);
  const values = new Set<string>([read.node.text.replace(/\s+/g, '')]);
  if (holder) values.add(holder.name);
  const asIdentity =
    (holder && IDENTITY_NAMES.test(holder.name)) ||
    usedInLookup(fn, values) ||
    returnedFromAuth(fn, values);
  if (!asIdentity) return;
  ctx.report({ node: read.node, messageId: 'nonIdentity', data: { read: read.node.text, claim: read.claim } });
}

/** `User.email == v` in a query, `filter_by(email=v)`, `get_user_by_email(db, v)`. */
function usedInLookup(fn: FunctionInfo, values: Set<string>): boolean {
  let found = false;
  const isValue = (n: Node | null | undefined) => !!n && values.has(n.text.replace(/\s+/g, ''));
  walk(fn.body, (n) => {
    if (found) return false;
    if (n.type === 'comparison_operator' && /==/.test(n.text)) {
      const ops = children(n);
      if (ops.some(isValue) && ops.some((o) => o.type === 'attribute' && /^[A-Z]/.test(o.text))) found = true;
    }
    if (n.type === 'call') {
      const callee = dottedName(n.childForFieldName('function')) ?? '';
      const args = callArguments(n);
      if (/(^|\.)filter_by$/.test(callee) && [...args.keywords.values()].some(isValue)) found = true;
      if (LOOKUP_FUNCTIONS.test(callee.split('.').pop() ?? '') && [...args.positional, ...args.keywords.values()].some(isValue)) found = true;
    }
  });
  return found;
}

function returnedFromAuth(fn: FunctionInfo, values: Set<string>): boolean {
  if (!/user|identity|principal|subject|auth/i.test(fn.name)) return false;
  return descendantsInScope(fn.body, 'return_statement').some((r) => {
    const v = children(r)[0];
    return !!v && values.has(v.text.replace(/\s+/g, ''));
  });
}
