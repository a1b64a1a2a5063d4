import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ModuleModel } from '../python/module-model';
import type { Fix, TextEdit } from '../core/types';
import { decodeAlgorithms, decodeOptions, jwtCallArgsIn, removeElementEdit, scopeOf, valueOf, type JwtCallArgs } from '../python/jwt-decode';
import { mayUseJwtLibrary } from '../python/jwt-decode';
import { classifyJwtCall } from '../python/jwt-libs';
import { ensureImport } from '../python/edits';
import { guardedByRaise } from '../python/jwt-guards';
import { callArguments, children, descendantsInScope, dottedName, literalValue, rangeOf, stringValue } from '../python/syntax';
import { pinnedMajor } from '../workspace/pinned-versions';
import { expectedAlgorithms, isAsymmetricAlgorithm, isHmacAlgorithm } from '../workspace/jwt-algorithms';

type MessageId = 'missing' | 'missingRaises' | 'authlibModule' | 'none' | 'fromToken' | 'mixed';

export const JWT102 = defineRule<MessageId>({
  code: 'JWT102',
  name: 'algorithms-not-pinned',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2],
  // check() returns at once unless the text may use a JWT library (mayUseJwtLibrary).
  prescan: /jwt|jose/i,
  messages: {
    missing: '`{call}` passes no `algorithms=`, so {library} accepts whatever algorithm the token header names{version}',
    missingRaises: '`{call}` passes no `algorithms=`: PyJWT {version} raises `DecodeError` on every token, and pinning it is the fix',
    authlibModule: '`{call}` uses authlib\'s module-level `jwt`, which accepts every algorithm; use `JsonWebToken([{expected}])`',
    none: '`{call}` allows the `none` algorithm, so an unsigned token is accepted',
    fromToken: '`{call}` takes its algorithm from the token itself (`{source}`), so the attacker chooses how it is verified',
    mixed: '`{call}` allows both HMAC ({hmac}) and asymmetric ({asym}) algorithms for one key, enabling algorithm confusion',
  },
  docs: `## What it does
Finds JWT decodes whose accepted algorithms are not fixed by the server: no \`algorithms=\` (python-jose, PyJWT 1.x;
PyJWT 2.x raises at run time unless the key is a \`PyJWK\`), authlib's module-level \`jwt\` (accepts every algorithm),
\`"none"\` in the list, algorithms read from the token's own header (\`get_unverified_header(token)["alg"]\`) unless
checked against an allow-list first, and lists that mix HMAC (\`HS*\`) with asymmetric algorithms for one key.

Not a finding: PyJWT 2.x \`decode(token, signing_key)\` where \`signing_key\` is the \`PyJWK\` returned by
\`PyJWKClient.get_signing_key_from_jwt\`: its algorithm is implied by the key.

## Why is this bad?
A token names its own algorithm. If the server lets it choose, an attacker can pick \`none\` (no signature), or
sign with HMAC using your RSA/EdDSA *public* key as the secret (algorithm confusion). Pinning the one algorithm
your issuer uses closes both doors.

## Example
\`\`\`python
import os

from jose import jwt


def verify(token: str) -> dict:
    return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"])
\`\`\`

## Use instead
\`\`\`python
import os

from jose import jwt


def verify(token: str) -> dict:
    return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
\`\`\`

## Fix safety
The fix adds \`algorithms=[...]\` with the configured \`expected-algorithms\`, else the algorithm the workspace's own
\`encode\` calls use (safe: the app already signs with it), else an inference (a JWKS key: \`"EdDSA"\`, as Better
Auth's JWT plugin publishes; a shared secret: \`"HS256"\`), which is unsafe: check it matches your issuer.
Dropping \`"none"\` is safe. authlib's module-level \`jwt\` is replaced by \`JsonWebToken([...])\` (same safety as
above). Mixed families and header-derived algorithms get no fix or an unsafe one: decide which algorithm the
issuer uses.

## References
- [PyJWT: Usage (algorithms are required)](https://pyjwt.readthedocs.io/en/stable/usage.html)
- [Auth0: Critical vulnerabilities in JSON Web Token libraries](https://auth0.com/blog/critical-vulnerabilities-in-json-web-token-libraries/)
- [Authlib: JSON Web Token (algorithms)](https://docs.authlib.org/en/latest/jose/jwt.html)
- [CWE-327: Use of a Broken or Risky Cryptographic Algorithm](https://cwe.mitre.org/data/definitions/327.html)
`,
  check(ctx) {
    const { model } = ctx;
    if (!mayUseJwtLibrary(model.text)) return;
    for (const a of jwtCallArgsIn(model, model.root, ['decode'])) {
      try {
        checkDecode(ctx, a);
      } catch {
        // Odd code must never stop the other decodes from being checked.
      }
    }
  },
});

function callName(a: JwtCallArgs): string {
  return dottedName(a.jwt.call.childForFieldName('function')) ?? a.jwt.callee;
}

function checkDecode(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  // An unverified decode needs no algorithms; JWT101 reports it.
  const options = decodeOptions(model, a);
  if (options.entries.get('verify_signature')?.literal === false) return;
  if (a.jwt.library === 'pyjwt' && literalValue(valueOf(model, a.args.keywords.get('verify'))) === false) return;

  if (a.jwt.library === 'authlib') {
    if (a.jwt.callee.startsWith('authlib.jose.jwt.')) reportAuthlibModule(ctx, a);
    else if (a.jwt.callee.includes('JsonWebToken()')) checkAuthlibInstance(ctx, a);
    return;
  }
  // `algorithms=None` is the library default: the same as leaving it out.
  if (!a.algorithms || valueOf(model, a.algorithms)?.type === 'none') {
    if (a.hasSplat) return;
    if (a.jwt.library === 'pyjwt' && isPyJwk(model, a.key)) return;
    reportMissing(ctx, a);
    return;
  }
  const info = decodeAlgorithms(model, a);
  checkList(ctx, a, info.source, info.values ?? [], info.unknown);
}

function reportMissing(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  const expected = expectedAlgorithms(ctx.workspace, ctx.settings, ctx.file.path, a.key);
  const list = expected.algorithms.map((x) => `"${x}"`).join(', ');
  const last = children(a.jwt.call.childForFieldName('arguments')!).filter((c) => c.type !== 'comment').pop();
  const fix: Fix | undefined = last
    ? {
        title: `Pin \`algorithms=[${list}]\`${expected.source === 'configured' || expected.source === 'encode' ? '' : ' (unsafe: inferred, check your issuer)'}`,
        safety: expected.source === 'configured' || expected.source === 'encode' ? 'safe' : 'unsafe',
        // An explicit `algorithms=None` (or jose's positional `None`) is replaced in place, never duplicated.
        edits: [
          a.algorithms
            ? { range: rangeOf(a.algorithms), newText: `[${list}]` }
            : appendArgument(model.text, a.jwt.call, last, `algorithms=[${list}]`),
        ],
      }
    : undefined;
  if (a.jwt.library === 'pyjwt') {
    const pin = ctx.workspace.pinnedVersion('pyjwt');
    const major = pinnedMajor(pin);
    if (major !== undefined && major >= 2) {
      ctx.report({ node: a.jwt.call, messageId: 'missingRaises', data: { call: callName(a), version: pin!.spec }, fix });
      return;
    }
    const version = pin ? ` (PyJWT ${pin.spec})` : ' (PyJWT is not pinned; assuming 1.x, where this is accepted silently)';
    ctx.report({ node: a.jwt.call, messageId: 'missing', data: { call: callName(a), library: 'PyJWT', version }, fix });
    return;
  }
  ctx.report({ node: a.jwt.call, messageId: 'missing', data: { call: callName(a), library: 'python-jose', version: '' }, fix });
}

function reportAuthlibModule(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  const expected = expectedAlgorithms(ctx.workspace, ctx.settings, ctx.file.path, a.key);
  const list = expected.algorithms.map((x) => `"${x}"`).join(', ');
  const fn = a.jwt.call.childForFieldName('function');
  const object = fn?.type === 'attribute' ? fn.childForFieldName('object') : undefined;
  let fix: Fix | undefined;
  if (object) {
    const imp = ensureImport(model, 'authlib.jose', 'JsonWebToken');
    const edits: TextEdit[] = [{ range: rangeOf(object), newText: `${imp.local}([${list}])` }];
    if (imp.edit) edits.unshift(imp.edit);
    const safe = expected.source === 'configured' || expected.source === 'encode';
    fix = { title: `Decode with \`JsonWebToken([${list}])\`${safe ? '' : ' (unsafe: inferred, check your issuer)'}`, safety: safe ? 'safe' : 'unsafe', edits };
  }
  ctx.report({ node: a.jwt.call, messageId: 'authlibModule', data: { call: callName(a), expected: list }, fix });
}

/** `JsonWebToken(["HS256", "none"])`: the algorithms live in the constructor. */
function checkAuthlibInstance(ctx: RuleContext<MessageId>, a: JwtCallArgs): void {
  const { model } = ctx;
  const fn = a.jwt.call.childForFieldName('function');
  let object = fn?.type === 'attribute' ? fn.childForFieldName('object') : undefined;
  object = object ? valueOf(model, object) : undefined;
  if (object?.type === 'identifier') object = model.lastAssignment(object.text)?.value;
  if (object?.type !== 'call') return;
  const listNode = callArguments(object).keywords.get('algorithms') ?? callArguments(object).positional[0];
  const source = valueOf(model, listNode);
  if (!source) return;
  const elements = source.type === 'list' || source.type === 'tuple' ? children(source) : [source];
  const values: string[] = [];
  const unknown: Node[] = [];
  for (const el of elements) {
    const v = literalValue(valueOf(model, el));
    if (typeof v === 'string') values.push(v);
    else unknown.push(el);
  }
  checkList(ctx, a, source, values, unknown);
}

function checkList(ctx: RuleContext<MessageId>, a: JwtCallArgs, source: Node | undefined, values: string[], unknown: Node[]): void {
  const { model } = ctx;
  // Algorithms taken from the token header.
  for (const el of [...unknown, ...(source && unknown.length === 0 && values.length === 0 ? [source] : [])]) {
    const origin = headerAlgorithm(model, el);
    if (origin && !allowListed(model, el, a.jwt.call)) {
      const expected = expectedAlgorithms(ctx.workspace, ctx.settings, ctx.file.path, a.key);
      const list = expected.algorithms.map((x) => `"${x}"`).join(', ');
      const target = a.algorithms ?? el;
      ctx.report({
        node: a.jwt.call,
        messageId: 'fromToken',
        data: { call: callName(a), source: origin.text },
        fix: a.algorithms ? { title: `Pin \`algorithms=[${list}]\` (unsafe: check your issuer)`, safety: 'unsafe', edits: [{ range: rangeOf(target), newText: `[${list}]` }] } : undefined,
      });
      return;
    }
  }
  if (!source) return;
  const none = values.findIndex((v) => v.toLowerCase() === 'none');
  if (none !== -1) {
    const elements = source.type === 'list' || source.type === 'tuple' ? children(source) : [];
    const noneNode = elements.find((e) => typeof stringValue(e) === 'string' && stringValue(e)!.toLowerCase() === 'none');
    const fix: Fix | undefined =
      noneNode && elements.length > 1 ? { title: 'Remove `"none"` from the accepted algorithms', safety: 'safe', edits: [removeElementEdit(model.text, noneNode)] } : undefined;
    ctx.report({ node: a.jwt.call, messageId: 'none', data: { call: callName(a) }, fix });
    return;
  }
  const hmac = values.filter(isHmacAlgorithm);
  const asym = values.filter(isAsymmetricAlgorithm);
  if (hmac.length && asym.length) {
    ctx.report({ node: a.jwt.call, messageId: 'mixed', data: { call: callName(a), hmac: hmac.join(', '), asym: asym.join(', ') } });
  }
}

/** `get_unverified_header(token)["alg"]`, directly or through names (`header = ...; alg = header["alg"]`). */
function headerAlgorithm(model: ModuleModel, node: Node, depth = 0): Node | undefined {
  if (depth > 5) return undefined;
  const value = valueOf(model, node);
  if (!value) return undefined;
  if (value.type === 'list' || value.type === 'tuple') {
    for (const c of children(value)) {
      const hit = headerAlgorithm(model, c, depth + 1);
      if (hit) return hit;
    }
    return undefined;
  }
  let container: Node | null | undefined;
  let key: string | undefined;
  if (value.type === 'subscript') {
    container = value.childForFieldName('value');
    key = stringValue(value.childForFieldName('subscript'));
  } else if (value.type === 'call') {
    const fn = value.childForFieldName('function');
    if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'get') {
      container = fn.childForFieldName('object');
      key = stringValue(callArguments(value).positional[0]);
    }
  }
  if (!container || key !== 'alg') return undefined;
  const header = valueOf(model, container);
  if (header?.type === 'call' && classifyJwtCall(model, header)?.kind === 'unverified-header') return value;
  return undefined;
}

/** `if alg not in ALLOWED: raise` (or `assert alg in ...`) before the decode. */
function allowListed(model: ModuleModel, el: Node, call: Node): boolean {
  const scope = scopeOf(model, call);
  const names = new Set<string>();
  if (el.type === 'identifier') names.add(el.text);
  for (const c of children(el)) if (c.type === 'identifier') names.add(c.text);
  for (const name of names) {
    if (guardedByRaise(scope, name)) {
      const comparisons = descendantsInScope(scope, 'comparison_operator').filter((cmp) => cmp.startIndex < call.startIndex && cmp.text.includes(name));
      if (comparisons.length) return true;
    }
  }
  return false;
}

/**
 * A `PyJWK` key (from `PyJWKClient.get_signing_key_from_jwt` / `PyJWK(...)`), whose algorithm PyJWT 2 takes from the
 * key itself. `signing_key.key` is the raw key and needs `algorithms=`.
 */
function isPyJwk(model: ModuleModel, key: Node | undefined): boolean {
  const value = valueOf(model, key);
  if (value?.type !== 'call') return false;
  const callee = model.resolveInstance(value.childForFieldName('function')) ?? '';
  return /\.get_signing_key(_from_jwt)?$/.test(callee) || /^jwt\.(api_jwk\.)?PyJWK(\.from_json|\.from_dict)?$/.test(callee);
}

/** Adds a keyword argument after the last one, one per line when the call is written one argument per line. */
function appendArgument(text: string, call: Node, last: Node, argument: string): TextEdit {
  const comma = last.nextSibling?.type === ',' ? last.nextSibling : undefined;
  const open = call.childForFieldName('arguments');
  if (comma && open && last.startPosition.row > open.startPosition.row) {
    const lineStart = text.lastIndexOf('\n', last.startIndex - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart))![0];
    const at = rangeOf(comma).end;
    return { range: { start: at, end: at }, newText: `\n${indent}${argument},` };
  }
  const at = rangeOf(last).end;
  return { range: { start: at, end: at }, newText: `, ${argument}` };
}
