import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ModuleModel } from '../python/module-model';
import { jwtCallArgsIn, decodeOptions, expressionKey, removeElementEdit, scopeOf, valueOf, type JwtCallArgs } from '../python/jwt-decode';
import { mayUseJwtLibrary } from '../python/jwt-decode';
import { callArguments, descendantsInScope, dottedName, enclosingFunction, literalValue, stringValue } from '../python/syntax';
import { pinnedMajor } from '../workspace/pinned-versions';
import { functionDecodesJwt } from '../workspace/jwt-helpers';

type MessageId = 'options' | 'verify' | 'verifyNoop' | 'unverifiedClaims';

export const JWT101 = defineRule<MessageId>({
  code: 'JWT101',
  name: 'unverified-signature',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2],
  // check() returns at once unless the text may use a JWT library (mayUseJwtLibrary).
  prescan: /jwt|jose/i,
  messages: {
    options: '`{call}` decodes the token with `verify_signature` off{where}, so a forged token is accepted',
    verify: '`{call}(..., verify=False)` skips signature verification ({version})',
    verifyNoop: '`verify=False` in `{call}` is ignored by PyJWT {version}; remove it so the call reads as what it does',
    unverifiedClaims: '`{call}` reads claims without verifying the signature and nothing in `{function}` verifies the token afterwards',
  },
  docs: `## What it does
Finds JWTs decoded without checking their signature: \`options={"verify_signature": False}\` (inline or through a
variable), PyJWT 1.x's \`verify=False\`, and python-jose's \`get_unverified_claims\`, when the claims read that way are
not followed by a verified decode of the same token in the same function.

With PyJWT 2 the \`verify=\` keyword is ignored; it is reported as a suggestion so the dead argument is removed.
When the workspace pins no PyJWT version, \`verify=False\` is assumed to run on PyJWT 1.x (the message says so).

Not a finding: "peek then verify" (an unverified read, e.g. to pick a tenant or key, followed by a keyed decode
of the same token in the same function), and reading only header fields such as \`kid\` with
\`get_unverified_header\`.

## Why is this bad?
A JWT's signature is the only thing that ties its claims to your secret. Without it, anyone can write
\`{"sub": "<any user id>"}\`, base64-encode it and be that user.

## Example
\`\`\`python
import jwt


def current_user_id(token: str) -> str:
    payload = jwt.decode(token, options={"verify_signature": False})
    return payload["sub"]
\`\`\`

## Use instead
\`\`\`python
import os

import jwt


def current_user_id(token: str) -> str:
    payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    return payload["sub"]
\`\`\`

## Fix safety
Unsafe: the fix removes the disabling option (or PyJWT 1.x's \`verify=False\`), so tokens are verified with the key
the call already passes. If that key is not the one the issuer signs with, every request is rejected; check it
first. Decodes that pass no key get no fix: choose the key (\`BETTER_AUTH_SECRET\` or a JWKS) by hand.
Removing \`verify=False\` under PyJWT 2 is safe: the argument has no effect there.

## References
- [PyJWT: Usage (reading the claims without validation)](https://pyjwt.readthedocs.io/en/stable/usage.html#reading-the-claimset-without-validation)
- [PyJWT 2.0 changelog: \`verify\` removed](https://pyjwt.readthedocs.io/en/stable/changelog.html#v2-0-0)
- [OWASP: JSON Web Token Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html)
- [CWE-347: Improper Verification of Cryptographic Signature](https://cwe.mitre.org/data/definitions/347.html)
`,
  check(ctx) {
    const { model } = ctx;
    if (!mayUseJwtLibrary(model.text)) return;
    const calls = jwtCallArgsIn(model, model.root, ['decode', 'unverified-claims']);
    for (const a of calls) {
      if (a.jwt.kind === 'unverified-claims') {
        if (!verifiedLater(ctx, a, calls) && usedAsIdentity(model, a.jwt.call)) {
          const fn = enclosingFunction(a.jwt.call);
          ctx.report({
            node: a.jwt.call,
            messageId: 'unverifiedClaims',
            data: { call: callName(a), function: fn?.childForFieldName('name')?.text ?? 'the module' },
          });
        }
        continue;
      }
      checkOptions(ctx, a, calls);
      checkVerifyKeyword(ctx, a, calls);
    }
  },
});

function callName(a: JwtCallArgs): string {
  return dottedName(a.jwt.call.childForFieldName('function')) ?? a.jwt.callee;
}

function checkOptions(ctx: RuleContext<MessageId>, a: JwtCallArgs, calls: JwtCallArgs[]): void {
  const { model } = ctx;
  const options = decodeOptions(model, a);
  const entry = options.entries.get('verify_signature');
  if (!entry || entry.literal !== false) return;
  if (verifiedLater(ctx, a, calls) || !usedAsIdentity(model, a.jwt.call)) return;
  const where = entry.inline ? '' : ` (through \`${a.options?.text ?? 'options'}\`)`;
  ctx.report({
    node: a.jwt.call,
    messageId: 'options',
    data: { call: callName(a), where },
    fix:
      entry.removable && a.key && !isEmptyKey(model, a.key)
        ? { title: "Stop disabling `verify_signature` (unsafe: check the key first)", safety: 'unsafe', edits: [removeElementEdit(model.text, entry.removable)] }
        : undefined,
  });
}

function checkVerifyKeyword(ctx: RuleContext<MessageId>, a: JwtCallArgs, calls: JwtCallArgs[]): void {
  const { model } = ctx;
  if (a.jwt.library !== 'pyjwt') return;
  const verify = a.args.keywords.get('verify');
  const keyword = a.args.keywordNodes.get('verify');
  if (!verify || !keyword || literalValue(valueOf(model, verify)) !== false) return;
  // One finding per call: the options override already says the signature is not checked.
  if (decodeOptions(model, a).entries.get('verify_signature')?.literal === false) return;
  const pin = ctx.workspace.pinnedVersion('pyjwt');
  const major = pinnedMajor(pin);
  const remove = removeElementEdit(model.text, keyword);
  if (major !== undefined && major >= 2) {
    ctx.report({
      node: keyword,
      messageId: 'verifyNoop',
      severity: 'suggestion',
      data: { call: callName(a), version: `${pin!.spec} (${shortFile(pin!.file)})` },
      fix: { title: 'Remove `verify=False`', safety: 'safe', edits: [remove] },
    });
    return;
  }
  if (verifiedLater(ctx, a, calls)) return;
  const version = pin ? `PyJWT ${pin.spec} is pinned in ${shortFile(pin.file)}` : 'PyJWT is not pinned; assuming 1.x, where it disables verification';
  ctx.report({
    node: a.jwt.call,
    messageId: 'verify',
    data: { call: callName(a), version },
    fix: a.key && !isEmptyKey(model, a.key) ? { title: 'Remove `verify=False` (unsafe: check the key first)', safety: 'unsafe', edits: [remove] } : undefined,
  });
}

function shortFile(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

function isEmptyKey(model: ModuleModel, key: Node): boolean {
  const v = literalValue(valueOf(model, key));
  return v === '' || v === null;
}

/**
 * "Peek then verify": the same token is decoded later in the same function with signature verification on
 * (or a JWKS signing key is fetched for it, which only a keyed decode can use).
 */
function verifiedLater(ctx: RuleContext<MessageId>, a: JwtCallArgs, calls: JwtCallArgs[]): boolean {
  const { model } = ctx;
  const scope = scopeOf(model, a.jwt.call);
  const tokenKeys = tokenIdentities(model, a.token);
  if (tokenKeys.size === 0) return false;
  // `return verify_token(token, tenant_key)`: a workspace helper that decodes the same token.
  const helper = model.callsIn(scope).some(({ call, callee }) => {
    if (call.startIndex <= a.jwt.call.startIndex || !callee) return false;
    const first = callArguments(call).positional[0] ?? callArguments(call).keywords.get('token');
    if (![...tokenIdentities(model, first)].some((k) => tokenKeys.has(k))) return false;
    return functionDecodesJwt(ctx.workspace, callee);
  });
  if (helper) return true;
  return calls.some((other) => {
    if (other === a || other.jwt.kind !== 'decode' || other.jwt.call.startIndex <= a.jwt.call.startIndex) return false;
    if (scopeOf(model, other.jwt.call).id !== scope.id) return false;
    if (!other.key || isEmptyKey(model, other.key)) return false;
    const opts = decodeOptions(model, other);
    if (opts.entries.get('verify_signature')?.literal === false) return false;
    if (literalValue(other.args.keywords.get('verify')) === false) return false;
    const otherKeys = tokenIdentities(model, other.token);
    return [...otherKeys].some((k) => tokenKeys.has(k));
  });
}

/** The token expression as written and after following a local name (`token = creds.credentials`). */
function tokenIdentities(model: ModuleModel, token: Node | undefined): Set<string> {
  const out = new Set<string>();
  const raw = expressionKey(token);
  if (raw) out.add(raw);
  const followed = expressionKey(valueOf(model, token));
  if (followed) out.add(followed);
  return out;
}

/** Claims that route or schedule (which issuer, which key, when it expires) without saying who the caller is. */
const NON_IDENTITY_CLAIMS = new Set(['iss', 'aud', 'kid', 'alg', 'typ', 'exp', 'iat', 'nbf', 'jku', 'x5u', 'x5t', 'jti']);

/**
 * False when the unverified claims are only read for non-identity fields (`claims["exp"]` to decide on a
 * refresh, `claims["iss"]` to pick a tenant) or not used at all; true otherwise (returned, passed on, `sub` read).
 */
function usedAsIdentity(model: ModuleModel, call: Node): boolean {
  const readsNonIdentity = (use: Node): boolean => {
    const parent = use.parent;
    if (parent?.type === 'subscript' && parent.childForFieldName('value')?.id === use.id) {
      const key = stringValue(parent.childForFieldName('subscript'));
      return key !== undefined && NON_IDENTITY_CLAIMS.has(key);
    }
    if (parent?.type === 'attribute' && parent.childForFieldName('object')?.id === use.id && parent.childForFieldName('attribute')?.text === 'get') {
      const getCall = parent.parent;
      const key = getCall?.type === 'call' ? stringValue(callArguments(getCall).positional[0]) : undefined;
      return key !== undefined && NON_IDENTITY_CLAIMS.has(key);
    }
    return false;
  };
  const holder = call.parent?.type === 'await' ? call.parent : call;
  if (readsNonIdentity(holder)) return false;
  const assignment = holder.parent;
  const target = assignment?.type === 'assignment' && assignment.childForFieldName('right')?.id === holder.id ? assignment.childForFieldName('left') : undefined;
  if (target?.type !== 'identifier') return true;
  const scope = scopeOf(model, call);
  const uses = descendantsInScope(scope, 'identifier').filter((n) => n.text === target.text && n.startIndex > assignment!.endIndex);
  return uses.some((u) => !readsNonIdentity(u));
}
