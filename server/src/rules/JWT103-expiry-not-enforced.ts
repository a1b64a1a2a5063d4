import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ModuleModel } from '../python/module-model';
import type { Fix, TextEdit } from '../core/types';
import { decodeOptions, dictOptions, jwtCallArgsIn, removeElementEdit, scopeOf, valueOf, type JwtCallArgs } from '../python/jwt-decode';
import { mayUseJwtLibrary } from '../python/jwt-decode';
import { ensureImport } from '../python/edits';
import { callArguments, children, descendantsInScope, dottedName, enclosingFunction, enclosingStatement, indentOf, literalValue, rangeOf } from '../python/syntax';
import { pinnedMajor } from '../workspace/pinned-versions';

type MessageId = 'verifyExpOption' | 'verifyExpKeyword' | 'verifyExpNoop' | 'leeway' | 'authlibUnvalidated' | 'encodeNoExp';

const ONE_DAY = 86400;

export const JWT103 = defineRule<MessageId>({
  code: 'JWT103',
  name: 'expiry-not-enforced',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [3],
  // check() returns at once unless the text may use a JWT library (mayUseJwtLibrary).
  prescan: /jwt|jose/i,
  messages: {
    verifyExpOption: '`{call}` turns off `verify_exp`{where}, so expired tokens are accepted',
    verifyExpKeyword: '`{call}(..., verify_exp=False)` accepts expired tokens ({version})',
    verifyExpNoop: '`verify_exp=False` in `{call}` is ignored by PyJWT {version}; remove it (use `options` if you meant it)',
    leeway: '`{call}` allows a leeway of {amount}, so expired tokens stay valid that long',
    authlibUnvalidated: '`{call}` returns authlib claims that are never `.validate()`d, so `exp` is not checked',
    encodeNoExp: '`{call}` issues a token whose payload `{payload}` has no `exp` claim, so it never expires',
  },
  docs: `## What it does
Finds tokens whose expiry is not enforced: \`verify_exp\` turned off in a decode's \`options\` (inline or through a
variable), PyJWT 1.x's \`verify_exp=False\` keyword (a no-op in PyJWT 2, reported there as a suggestion), a
\`leeway\` over one day, authlib claims that are never \`.validate()\`d (authlib's \`decode\` checks only the
signature), and tokens issued with \`encode\` whose payload never gets an \`exp\` claim. The payload is followed
through its variable (\`to_encode.update({"exp": expire})\` and \`payload["exp"] = ...\` count); payloads built
from values the analysis cannot see (\`data.copy()\`, \`{**claims}\`) are not reported.

## Why is this bad?
A token without an enforced expiry is valid forever: one leaked token (logs, browser storage, a proxy) is a
permanent login for whoever holds it, and logging out or changing a password does not end it.

## Example
\`\`\`python
import os

import jwt

SECRET_KEY = os.environ["BETTER_AUTH_SECRET"]


def create_access_token(user_id: str) -> str:
    return jwt.encode({"sub": user_id}, SECRET_KEY, algorithm="HS256")
\`\`\`

## Use instead
\`\`\`python
import os
from datetime import datetime, timedelta, timezone

import jwt

SECRET_KEY = os.environ["BETTER_AUTH_SECRET"]


def create_access_token(user_id: str) -> str:
    expire = datetime.now(timezone.utc) + timedelta(minutes=30)
    return jwt.encode({"sub": user_id, "exp": expire}, SECRET_KEY, algorithm="HS256")
\`\`\`

## Fix safety
Removing a \`verify_exp\` override is safe: the library's default, checking \`exp\`, is what the code should do.
Adding \`"exp"\` to an issued payload is unsafe: tokens now expire (after \`ACCESS_TOKEN_EXPIRE_MINUTES\` when the
module defines it, else 30 minutes), and clients without a refresh flow must sign in again.
Adding \`claims.validate()\` after an authlib decode is unsafe: it raises \`JoseError\` for expired tokens, which
must be answered with 401 where the decode is caught. Large leeways get no fix: choose the clock skew you accept.

## References
- [PyJWT: Expiration Time Claim (exp)](https://pyjwt.readthedocs.io/en/stable/usage.html#expiration-time-claim-exp)
- [Authlib: JWT claims validation](https://docs.authlib.org/en/latest/jose/jwt.html#jwt-payload-claims-validation)
- [RFC 7519 §4.1.4: "exp" (Expiration Time) Claim](https://www.rfc-editor.org/rfc/rfc7519#section-4.1.4)
- [CWE-613: Insufficient Session Expiration](https://cwe.mitre.org/data/definitions/613.html)
`,
  check(ctx) {
    const { model } = ctx;
    if (!mayUseJwtLibrary(model.text)) return;
    for (const a of jwtCallArgsIn(model, model.root, ['decode', 'encode'])) {
      try {
        if (a.jwt.kind === 'encode') checkEncode(ctx, a);
        else checkDecode(ctx, a);
      } catch {
        // Odd code must never stop the other calls from being checked.
      }
    }
    checkValidateLeeway(ctx);
  },
});

function callName(a: JwtCallArgs): string {
  return dottedName(a.jwt.call.childForFieldName('function')) ?? a.jwt.callee;
}

function checkDecode(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  const options = decodeOptions(model, a);
  // An unverified decode is JWT101's finding; its expiry is moot.
  if (options.entries.get('verify_signature')?.literal === false) return;
  if (a.jwt.library === 'authlib') {
    checkAuthlib(ctx, a);
    return;
  }
  const verifyExp = options.entries.get('verify_exp');
  if (verifyExp && verifyExp.literal === false) {
    ctx.report({
      node: a.jwt.call,
      messageId: 'verifyExpOption',
      data: { call: callName(a), where: verifyExp.inline ? '' : ` (through \`${a.options?.text}\`)` },
      fix: verifyExp.removable ? { title: 'Stop disabling `verify_exp`', safety: 'safe', edits: [removeElementEdit(model.text, verifyExp.removable)] } : undefined,
    });
  }
  if (a.jwt.library === 'pyjwt') {
    const value = a.args.keywords.get('verify_exp');
    const keyword = a.args.keywordNodes.get('verify_exp');
    if (value && keyword && literalValue(valueOf(model, value)) === false) {
      const pin = ctx.workspace.pinnedVersion('pyjwt');
      const major = pinnedMajor(pin);
      const fix: Fix = { title: 'Remove `verify_exp=False`', safety: 'safe', edits: [removeElementEdit(model.text, keyword)] };
      if (major !== undefined && major >= 2) {
        ctx.report({ node: keyword, messageId: 'verifyExpNoop', severity: 'suggestion', data: { call: callName(a), version: pin!.spec }, fix });
      } else {
        const version = pin ? `PyJWT ${pin.spec}` : 'PyJWT is not pinned; assuming 1.x, where the keyword is honoured';
        ctx.report({ node: a.jwt.call, messageId: 'verifyExpKeyword', data: { call: callName(a), version }, fix });
      }
    }
  }
  // PyJWT: `leeway=` keyword; python-jose: `options={"leeway": ...}`.
  const leeway = a.jwt.library === 'pyjwt' ? a.args.keywords.get('leeway') : options.entries.get('leeway')?.value;
  const seconds = leeway ? durationSeconds(model, leeway) : undefined;
  if (seconds !== undefined && seconds > ONE_DAY) {
    ctx.report({ node: a.jwt.call, messageId: 'leeway', data: { call: callName(a), amount: describeSeconds(seconds) } });
  }
}

/** authlib's decode verifies only the signature; `claims.validate()` checks `exp`/`nbf`/`iat`. */
function checkAuthlib(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  const call = a.jwt.call;
  // `jwt.decode(...).validate()`
  const parent = call.parent;
  if (parent?.type === 'attribute' && parent.childForFieldName('attribute')?.text === 'validate') return;
  const stmt = enclosingStatement(call);
  const assignment = children(stmt)[0];
  const target = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : undefined;
  const scope = scopeOf(model, call);
  if (target?.type === 'identifier') {
    if (validatedIn(scope, target.text) || handedToValidator(model, scope, target.text)) return;
    if (returnedAndValidatedByCaller(ctx, scope, target.text, call)) return;
    const indent = indentOf(model.text, stmt);
    const at = { line: stmt.endPosition.row, character: stmt.endPosition.column };
    ctx.report({
      node: call,
      messageId: 'authlibUnvalidated',
      data: { call: callName(a) },
      fix: {
        title: `Call \`${target.text}.validate()\` after decoding (unsafe: it raises on expired tokens)`,
        safety: 'unsafe',
        edits: [{ range: { start: at, end: at }, newText: `\n${indent}${target.text}.validate()` }],
      },
    });
    return;
  }
  if (stmt.type === 'return_statement' && returnedAndValidatedByCaller(ctx, scope, undefined, call)) return;
  ctx.report({ node: call, messageId: 'authlibUnvalidated', data: { call: callName(a) } });
}

/** `validate_claims(claims)` / `self._check(claims)`: a helper named for validation takes the claims. */
function handedToValidator(model: ModuleModel, scope: Node, name: string): boolean {
  return model.callsIn(scope).some(({ call }) => {
    const fn = dottedName(call.childForFieldName('function')) ?? '';
    if (!/valid|verify|check/i.test(fn.split('.').pop() ?? '')) return false;
    const args = callArguments(call);
    return [...args.positional, ...args.keywords.values()].some((a) => a.text === name);
  });
}

function validatedIn(scope: Node, name: string): boolean {
  return descendantsInScope(scope, 'call').some((c) => {
    const fn = c.childForFieldName('function');
    return fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'validate' && fn.childForFieldName('object')?.text === name;
  });
}

/**
 * A helper that returns the claims (`return claims` / `return jwt.decode(...)`) leaves validation to its callers:
 * accepted when some workspace file calls the helper and `.validate()`s what it returns.
 */
function returnedAndValidatedByCaller(ctx: RuleContext<MessageId>, scope: Node, name: string | undefined, call: Node): boolean {
  const fn = enclosingFunction(call);
  const fnName = fn?.childForFieldName('name')?.text;
  if (!fn || !fnName) return false;
  if (name && !descendantsInScope(scope, 'return_statement').some((r) => children(r)[0]?.text === name)) return false;
  const callPattern = new RegExp(`(\\w+)\\s*=\\s*(await\\s+)?[\\w.]*\\b${fnName}\\(`, 'g');
  // Both tests below need `fnName(` in the text: only such files are read (verdicts cached by content).
  for (const file of ctx.workspace.filesMentioning(new RegExp(`\\b${fnName}\\(`))) {
    for (const m of file.text.matchAll(callPattern)) {
      if (new RegExp(`\\b${m[1]}\\.validate\\(`).test(file.text)) return true;
    }
    if (new RegExp(`\\b${fnName}\\([^\\n]*\\)\\.validate\\(`).test(file.text)) return true;
  }
  return false;
}

/** `claims.validate(leeway=...)` with more than a day. */
function checkValidateLeeway(ctx: RuleContext<MessageId>): void {
  const { model } = ctx;
  for (const call of model.root.descendantsOfType('call')) {
    if (!call) continue;
    const fn = call.childForFieldName('function');
    if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'validate') continue;
    const leeway = callArguments(call).keywords.get('leeway');
    if (!leeway) continue;
    // Only claims that come from an authlib decode.
    const object = valueOf(model, fn.childForFieldName('object') ?? undefined);
    const inner = object?.type === 'call' ? object : undefined;
    if (!inner || !/\.decode$/.test(dottedName(inner.childForFieldName('function')) ?? '')) continue;
    const seconds = durationSeconds(model, leeway);
    if (seconds !== undefined && seconds > ONE_DAY) {
      ctx.report({ node: call, messageId: 'leeway', data: { call: fn.text, amount: describeSeconds(seconds) } });
    }
  }
}

/** Seconds in a literal number or `timedelta(days=.., hours=.., minutes=.., seconds=.., weeks=..)`. */
function durationSeconds(model: ModuleModel, node: Node): number | undefined {
  const value = valueOf(model, node);
  if (!value) return undefined;
  const literal = literalValue(value);
  if (typeof literal === 'number') return literal;
  if (value.type === 'binary_operator') {
    const left = durationSeconds(model, value.childForFieldName('left')!);
    const right = durationSeconds(model, value.childForFieldName('right')!);
    const op = value.childForFieldName('operator')?.text;
    if (left === undefined || right === undefined) return undefined;
    if (op === '*') return left * right;
    if (op === '+') return left + right;
    return undefined;
  }
  if (value.type === 'call' && /(^|\.)timedelta$/.test(model.callee(value) ?? '')) {
    const args = callArguments(value);
    const units: Record<string, number> = { weeks: 604800, days: 86400, hours: 3600, minutes: 60, seconds: 1, milliseconds: 0.001 };
    let total = 0;
    const positional = ['days', 'seconds', 'microseconds', 'milliseconds', 'minutes', 'hours', 'weeks'];
    const pairs: [string, Node][] = [...args.keywords.entries(), ...args.positional.map((p, i) => [positional[i], p] as [string, Node])];
    for (const [unit, v] of pairs) {
      const n = literalValue(valueOf(model, v));
      if (typeof n !== 'number') return undefined;
      total += n * (units[unit] ?? 0);
    }
    return total;
  }
  return undefined;
}

function describeSeconds(seconds: number): string {
  if (seconds % ONE_DAY === 0) return `${seconds / ONE_DAY} days`;
  if (seconds % 3600 === 0) return `${seconds / 3600} hours`;
  return `${seconds} seconds`;
}

function checkEncode(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  if (!a.payload || a.hasSplat) return;
  const payload = dictOptions(model, a.payload, a.jwt.call);
  if (!payload.source || payload.opaque) return;
  if (payload.source.type !== 'dictionary' && payload.source.type !== 'call') return;
  if (payload.entries.has('exp')) return;
  ctx.report({
    node: a.jwt.call,
    messageId: 'encodeNoExp',
    data: { call: callName(a), payload: shorten(a.payload.text) },
    fix: addExpFix(model, payload.source),
  });
}

function shorten(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 40 ? `${flat.slice(0, 37)}...` : flat;
}

/** Adds `"exp": datetime.now(timezone.utc) + timedelta(minutes=N)` to the payload dict, importing what it needs. */
function addExpFix(model: ModuleModel, source: Node): Fix | undefined {
  const imports = ensureNames(model, 'datetime', ['datetime', 'timezone', 'timedelta']);
  if (!imports) return undefined;
  const [dt, tz, td] = imports.locals;
  const minutes = expiryConstant(model) ?? '30';
  const value = `${dt}.now(${tz}.utc) + ${td}(minutes=${minutes})`;
  let edit: TextEdit;
  if (source.type === 'dictionary') {
    const items = children(source);
    const last = items[items.length - 1];
    if (last) {
      const at = rangeOf(last).end;
      edit = { range: { start: at, end: at }, newText: `, "exp": ${value}` };
    } else {
      edit = { range: rangeOf(source), newText: `{"exp": ${value}}` };
    }
  } else {
    const args = children(source.childForFieldName('arguments')!);
    const last = args[args.length - 1];
    if (!last) return undefined;
    const at = rangeOf(last).end;
    edit = { range: { start: at, end: at }, newText: `, exp=${value}` };
  }
  return {
    title: `Add an \`exp\` claim (unsafe: tokens now expire after ${minutes === '30' ? '30 minutes' : `\`${minutes}\` minutes`})`,
    safety: 'unsafe',
    edits: [...imports.edits, edit],
  };
}

/** `ACCESS_TOKEN_EXPIRE_MINUTES` (or a similar module constant / import) when the module has one. */
function expiryConstant(model: ModuleModel): string | undefined {
  const names = [...model.assignments.keys(), ...model.imports.keys()];
  return names.find((n) => /^[A-Z_]*EXPIRE[A-Z_]*MINUTES$/.test(n));
}

/** Makes several names of one module importable with a single edit (no overlapping inserts). */
function ensureNames(model: ModuleModel, module: string, names: string[]): { locals: string[]; edits: TextEdit[] } | undefined {
  const locals: string[] = [];
  const missing: string[] = [];
  let firstEdit: TextEdit | undefined;
  for (const name of names) {
    const r = ensureImport(model, module, name);
    locals.push(r.local);
    if (r.edit) {
      missing.push(name);
      firstEdit ??= r.edit;
    }
  }
  if (!firstEdit) return { locals, edits: [] };
  // ensureImport either extends `from module import a` (`, name`) or inserts a new import line.
  const newText = firstEdit.newText.startsWith(', ') ? `, ${missing.join(', ')}` : `from ${module} import ${missing.join(', ')}\n`;
  return { locals, edits: [{ range: firstEdit.range, newText }] };
}
