import * as path from 'path';
import { defineRule, type RuleContext } from './rule';
import type { TextEdit } from '../core/types';
import { children, dottedName } from '../python/syntax';
import { decodeOptions, jwtCallArgsIn, type JwtCallArgs } from '../python/jwt-decode';
import { ensureImport } from '../python/edits';
import { addKeywordEdit, removeEntryEdit } from '../python/token-edits';
import { issueIndex, keyIdentity, type IssueRecord } from '../workspace/token-index';

type MessageId = 'disabled' | 'notChecked';

/** The claim each option guards, and the decode keyword that supplies the expected value. */
const OPTIONS: Record<string, { claim: string; keyword?: 'audience' | 'issuer' }> = {
  verify_aud: { claim: 'aud', keyword: 'audience' },
  verify_iss: { claim: 'iss', keyword: 'issuer' },
  verify_iat: { claim: 'iat' },
  verify_nbf: { claim: 'nbf' },
};

/** Better Auth's issuer and audience default to its base URL, which deployments keep in this variable. */
const BASE_URL_ENV = 'BETTER_AUTH_URL';

export const JWT112 = defineRule<MessageId>({
  code: 'JWT112',
  name: 'claim-verification-disabled',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [2],
  // Only a file with a JWT library decode can report (classifyJwtCall gates on this text).
  prescan: /jwt|jose/,
  messages: {
    disabled: '`"{option}": False` turns off the `{claim}` check of `{call}`',
    notChecked: 'Tokens issued by `{issuer}` ({where}) carry an `{claim}` claim that `{call}` never checks',
  },
  docs: `## What it does
Finds decodes that switch off a registered-claim check: \`verify_aud\`, \`verify_iss\`, \`verify_iat\` or \`verify_nbf\`
set to \`False\` in the \`options\` of PyJWT or python-jose (inline, through a variable, or set later with
\`opts["verify_aud"] = False\`). Also finds tokens issued in the workspace with an \`iss\` (or, for authlib, an \`aud\`)
claim that the decode with the same key never checks (no \`issuer=\` / \`audience=\`).

## Why is this bad?
The audience and issuer say which service a token was minted for and by whom. Without those checks a token issued
for another application that shares the key or the identity provider (a staging frontend, another Better Auth
client, a different microservice) is accepted as a token for this API. \`nbf\` and \`iat\` checks reject tokens used
before they are valid or minted in the future by a skewed or compromised issuer.

## Example
\`\`\`python
import os

import jwt


def verify(token: str) -> dict:
    return jwt.decode(
        token,
        os.environ["BETTER_AUTH_SECRET"],
        algorithms=["HS256"],
        options={"verify_aud": False},
    )
\`\`\`

## Use instead
\`\`\`python
import os

import jwt


def verify(token: str) -> dict:
    return jwt.decode(
        token,
        os.environ["BETTER_AUTH_SECRET"],
        algorithms=["HS256"],
        audience=os.environ["BETTER_AUTH_URL"],
    )
\`\`\`

## Fix safety
Unsafe: the fix removes the disabling option and, for \`aud\`/\`iss\`, passes \`audience=\`/\`issuer=\` (the value the
workspace's own encode uses, else \`os.environ["BETTER_AUTH_URL"]\`: Better Auth sets both claims to its base URL).
Tokens that do not carry the expected value are then rejected, and the environment variable must be set.
Removing a \`verify_iat\`/\`verify_nbf\` switch only rejects malformed or not-yet-valid tokens.

## References
- [RFC 7519, section 4.1: Registered Claim Names](https://www.rfc-editor.org/rfc/rfc7519#section-4.1)
- [PyJWT: Usage (audience, issuer)](https://pyjwt.readthedocs.io/en/stable/usage.html)
- [Better Auth: JWT plugin](https://www.better-auth.com/docs/plugins/jwt)
`,
  check(ctx) {
    const { model, workspace } = ctx;
    const decodes = jwtCallArgsIn(model, model.root, ['decode']);
    if (!decodes.length) return;
    const issues = issueIndex(workspace);
    for (const args of decodes) {
      const options = decodeOptions(model, args);
      const callText = dottedName(args.jwt.call.childForFieldName('function')) ?? args.jwt.callee;
      const disabledClaims = new Set<string>();
      if (args.jwt.library !== 'authlib') {
        for (const [option, meaning] of Object.entries(OPTIONS)) {
          const entry = options.entries.get(option);
          if (!entry || (entry.literal !== false && entry.literal !== 0)) continue;
          disabledClaims.add(meaning.claim);
          ctx.report({
            node: entry.removable && entry.removable.type !== 'expression_statement' ? entry.removable : entry.value,
            messageId: 'disabled',
            data: { option, claim: meaning.claim, call: callText },
            fix: disabledFix(ctx, args, options, option, meaning.keyword, issues),
          });
        }
      }
      checkIssuedClaims(ctx, args, callText, disabledClaims, issues);
    }
  },
});

function disabledFix(
  ctx: RuleContext<MessageId>,
  args: JwtCallArgs,
  options: ReturnType<typeof decodeOptions>,
  option: string,
  keyword: 'audience' | 'issuer' | undefined,
  issues: IssueRecord[],
) {
  const { file } = ctx;
  const entry = options.entries.get(option)!;
  if (!entry.removable) return undefined;
  const edits: TextEdit[] = [];
  // Dropping the only entry of an inline `options={...}` drops the whole argument.
  const source = options.source;
  const onlyInlineEntry = entry.inline && source?.type === 'dictionary' && children(source).length === 1 && source.parent?.type === 'keyword_argument';
  edits.push(removeEntryEdit(file.text, onlyInlineEntry ? source!.parent! : entry.removable));
  if (keyword && !args.args.keywords.has(keyword) && !args.hasSplat) {
    const value = expectedValue(ctx, keyword === 'audience' ? 'aud' : 'iss', issues, edits);
    const add = addKeywordEdit(file.text, args.jwt.call, keyword, value);
    if (!add) return undefined;
    edits.push(add);
  }
  return {
    title: keyword ? `Check \`${keyword}\` instead of disabling \`${option}\` (unsafe: rejects tokens without it)` : `Remove \`${option}: False\``,
    safety: keyword ? ('unsafe' as const) : ('safe' as const),
    edits,
  };
}

/**
 * The value a decode should expect for `claim`: what this file's own encode puts there when it is a name or
 * literal visible here, else `os.environ["BETTER_AUTH_URL"]` (adding `import os`).
 */
function expectedValue(ctx: RuleContext<MessageId>, claim: string, issues: IssueRecord[], edits: TextEdit[]): string {
  for (const record of issues) {
    for (const { file, entry } of record.entries) {
      if (file !== ctx.file.path || entry.claim !== claim) continue;
      const v = entry.value;
      const name = dottedName(v);
      const visible = v.type === 'string' || (name && (ctx.model.imports.has(name.split('.')[0]) || ctx.model.lastAssignment(name.split('.')[0])));
      if (visible && !v.text.includes('\n') && !(v.type === 'string' && /^[fF]/.test(v.text))) return v.text;
    }
  }
  const imp = ensureImport(ctx.model, 'os');
  if (imp.edit) edits.push(imp.edit);
  return `${imp.local}.environ["${BASE_URL_ENV}"]`;
}

function checkIssuedClaims(ctx: RuleContext<MessageId>, args: JwtCallArgs, callText: string, disabled: Set<string>, issues: IssueRecord[]): void {
  const { workspace, model } = ctx;
  if (args.hasSplat) return;
  const key = keyIdentity(workspace, model, args.key);
  const keys = new Set(issues.map((r) => r.key));
  const options = decodeOptions(model, args);
  for (const claim of args.jwt.library === 'authlib' ? ['iss', 'aud'] : ['iss']) {
    if (disabled.has(claim)) continue;
    const keyword = claim === 'iss' ? 'issuer' : 'audience';
    if (args.jwt.library === 'authlib' ? options.entries.has(claim) || options.opaque : args.args.keywords.has(keyword)) continue;
    const record = issues.find((r) => r.entries.some((e) => e.entry.claim === claim) && (r.key === key || ((r.key === undefined || key === undefined) && keys.size === 1)));
    if (!record) continue;
    const entry = record.entries.find((e) => e.entry.claim === claim)!;
    const where = `${path.basename(entry.file)}:${entry.entry.key.startPosition.row + 1}`;
    const edits: TextEdit[] = [];
    let fix;
    if (args.jwt.library !== 'authlib') {
      const value = expectedValue(ctx, claim, issues, edits);
      const add = addKeywordEdit(ctx.file.text, args.jwt.call, keyword, value);
      if (add) fix = { title: `Pass \`${keyword}=\` to check \`${claim}\` (unsafe: rejects tokens without it)`, safety: 'unsafe' as const, edits: [...edits, add] };
    }
    ctx.report({ node: args.jwt.call, messageId: 'notChecked', data: { issuer: record.issuer, where, claim, call: callText }, fix });
  }
}
