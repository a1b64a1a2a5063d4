import * as path from 'path';
import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ModuleModel } from '../python/module-model';
import type { Fix } from '../core/types';
import { ensureImport } from '../python/edits';
import { dottedName, enclosingStatement, isBytesLiteral, isFString, isStringLike, rangeOf, stringValue } from '../python/syntax';
import { isSampleSecret, isSecretLikeName, isWeakSampleSecret, isSettingsClass, jwtKeyUses, textMayHoldSampleSecret, textMayHoldStrongSampleSecret } from '../workspace/jwt-values';

type MessageId = 'keyLiteral' | 'keyInline' | 'sample';

export const JWT104 = defineRule<MessageId>({
  code: 'JWT104',
  name: 'hardcoded-secret',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2, 10],
  messages: {
    keyLiteral: '`{name}` is a hard-coded key that `{call}` {verb} tokens with{where}',
    keyInline: '`{call}` {verb} tokens with a key written in the code',
    sample: '`{name}` is set to the well-known sample secret `{value}`',
  },
  docs: `## What it does
Finds JWT keys written in the source: a string or bytes literal passed to a JWT library's \`decode\`/\`encode\`,
or a name whose value is one (a module constant, a class attribute, imported from another module of the
workspace). Also finds well-known sample keys (the FastAPI tutorial's key, \`"secret"\`, \`"changeme"\`,
\`"your-secret-key"\` ...) assigned to any secret-like name, used or not.

Public keys (PEM \`PUBLIC KEY\` / \`CERTIFICATE\` blocks) are not secrets and are not reported. A pydantic
\`BaseSettings\` field with a literal default is JWT105's finding (the environment overrides it), and so is an
environment read with a literal fallback.

## Why is this bad?
Anyone who can read the code (every developer, CI logs, a leaked repository, a published container image) can
sign tokens for any user. A sample key copied from documentation is known to everyone.

## Example
\`\`\`python
import jwt

SECRET_KEY = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7"


def verify(token: str) -> dict:
    return jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
\`\`\`

## Use instead
\`\`\`python
import os

import jwt

SECRET_KEY = os.environ["BETTER_AUTH_SECRET"]


def verify(token: str) -> dict:
    return jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
\`\`\`

## Fix safety
Unsafe: the fix replaces the literal with \`os.environ["BETTER_AUTH_SECRET"]\` (the configured \`secret-env-var\`)
and adds \`import os\`; a sample secret that is not a JWT key is read from a variable named after it
(\`secret_key="changeme"\` becomes \`os.environ["SECRET_KEY"]\`). The application then fails to start until the variable is set, and tokens signed with the
old literal no longer verify. Rotate the leaked key: it stays in the repository's history.

## References
- [OWASP: Secrets Management Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html)
- [FastAPI: OAuth2 with Password, Bearer with JWT tokens](https://fastapi.tiangolo.com/tutorial/security/oauth2-jwt/)
- [Better Auth: environment variables (BETTER_AUTH_SECRET)](https://www.better-auth.com/docs/installation)
- [CWE-798: Use of Hard-coded Credentials](https://cwe.mitre.org/data/definitions/798.html)
`,
  // A key literal is reported where it is written, which may be a config module that never says `jwt` (the use
  // is found from the decode/encode); a sample secret needs a sample literal and a secret-like name in the file.
  prescan: (file, ws) => mayHoldSample(file.text) || jwtKeyUses(ws).some((u) => u.origin.kind === 'literal' && u.origin.file === file.path),
  check(ctx) {
    const reported = new Set<number>();
    reportKeyLiterals(ctx, reported);
    reportSamples(ctx, reported);
  },
});

function reportKeyLiterals(ctx: RuleContext<MessageId>, reported: Set<number>): void {
  for (const use of jwtKeyUses(ctx.workspace)) {
    const origin = use.origin;
    if (origin.kind !== 'literal' || origin.file !== ctx.file.path) continue;
    if (origin.value === '' || isPublicKey(origin.value) || reported.has(origin.node.id)) continue;
    reported.add(origin.node.id);
    const call = dottedName(use.call.jwt.call.childForFieldName('function')) ?? use.call.jwt.callee;
    const line = use.call.jwt.call.startPosition.row + 1;
    const where = use.file.path === ctx.file.path ? ` at line ${line}` : ` in ${path.relative(ctx.workspace.root, use.file.path).split(path.sep).join('/')}:${line}`;
    ctx.report({
      node: origin.node,
      messageId: origin.via ? 'keyLiteral' : 'keyInline',
      data: { name: origin.via ?? '', call, verb: use.call.jwt.kind === 'encode' ? 'signs' : 'verifies', where },
      fix: environmentFix(ctx, origin.node, ctx.settings.secretEnvVar),
    });
  }
}

/**
 * `reportSamples` needs a sample literal (its own early return, on the text as written) and a name that
 * `isSecretLikeName` accepts, written in this file (an identifier, attribute, keyword, parameter or string key):
 * it says `secret`, ends in `<jwt|signing|private|hmac|auth|token|encryption>key`, starts with `jwtkey`, or is `key`,
 * which counts only when assigned a sample that is not an ordinary word. Names are lower-cased first, hence `/iu`
 * (the Kelvin sign lower-cases to `k`). Python joins adjacent string literals (`d["jwt_" "secret"]`,
 * `key = "change" "me"`), so names and values are also looked for with such seams removed.
 */
function mayHoldSample(text: string): boolean {
  if (!textMayHoldSampleSecret(text)) return false;
  if (namesSample(text)) return true;
  return STRING_SEAM.test(text) && namesSample(text.replace(STRING_SEAM_G, ''));
}

function namesSample(text: string): boolean {
  return SECRET_NAME_TEXT.test(text) || (KEY_NAME_TEXT.test(text) && textMayHoldStrongSampleSecret(text));
}

const SECRET_NAME_TEXT = /secret|(jwt|signing|private|hmac|auth|token|encryption)_?key/iu;
const KEY_NAME_TEXT = /\bkey\b/iu;
/**
 * A closing quote, what may separate implicitly joined literals (blanks, newlines, a backslash continuation, one
 * comment), and the next opening quote with its prefix. Each repetition starts with a different character class
 * (a comment runs to its newline), so a failing match backtracks linearly, not over every split of `#####`.
 */
const STRING_SEAM_SOURCE = `["'](?:[ \\t\\f\\r\\n\\\\]|#[^\\n]*\\n)*[rRbBuUfF]{0,2}["']`;
const STRING_SEAM = new RegExp(STRING_SEAM_SOURCE);
const STRING_SEAM_G = new RegExp(STRING_SEAM_SOURCE, 'g');

/** Any assignment, class attribute, keyword argument or parameter default giving a secret-like name a sample value. */
function reportSamples(ctx: RuleContext<MessageId>, reported: Set<number>): void {
  const { model } = ctx;
  if (!textMayHoldSampleSecret(model.text)) return;
  for (const n of model.root.descendantsOfType(['assignment', 'keyword_argument', 'default_parameter', 'typed_default_parameter', 'pair'])) {
    if (n) checkSample(ctx, n, reported);
  }
}

function checkSample(ctx: RuleContext<MessageId>, n: Node, reported: Set<number>): void {
  const { model } = ctx;
  let name: string | undefined;
  let value: Node | null | undefined;
  if (n.type === 'assignment') {
    const left = n.childForFieldName('left');
    name = left?.type === 'identifier' ? left.text : left?.type === 'attribute' ? left.childForFieldName('attribute')?.text : left?.type === 'subscript' ? stringValue(left.childForFieldName('subscript')) : undefined;
    value = n.childForFieldName('right');
  } else if (n.type === 'keyword_argument') {
    name = n.childForFieldName('name')?.text;
    value = n.childForFieldName('value');
  } else if (n.type === 'default_parameter' || n.type === 'typed_default_parameter') {
    name = n.childForFieldName('name')?.text;
    value = n.childForFieldName('value');
  } else if (n.type === 'pair') {
    name = stringValue(n.childForFieldName('key'));
    value = n.childForFieldName('value');
  }
  if (!name || !value || !isStringLike(value) || isFString(value) || reported.has(value.id)) return;
  const literal = stringValue(value);
  if (literal === undefined || !isSecretLikeName(name) || !isSampleSecret(literal)) return;
  // A bare `key` is a dictionary, cache or widget key far more often than a secret (`dialog.go(key="test")`): it
  // counts only when assigned a value that is unmistakably a placeholder secret, never as a keyword argument.
  if (name.toLowerCase() === 'key' && (n.type !== 'assignment' || isWeakSampleSecret(literal))) return;
  if (inSettingsClass(ctx, model, n) || inDocumentationExample(n)) return;
  reported.add(value.id);
  ctx.report({
    node: value,
    messageId: 'sample',
    data: { name, value: literal.length > 24 ? `${literal.slice(0, 12)}...` : literal },
    // Not (known to be) a JWT key: the variable is named after the setting it holds.
    fix: environmentFix(ctx, value, /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name.toUpperCase() : ctx.settings.secretEnvVar),
  });
}

/** A field of a pydantic `BaseSettings` class: its literal is a fallback default, which JWT105 reports. */
function inSettingsClass(ctx: RuleContext<MessageId>, model: ModuleModel, node: Node): boolean {
  const stmt = enclosingStatement(node);
  const body = stmt.parent;
  const cls = body?.parent?.type === 'class_definition' ? body.parent : undefined;
  if (!cls) return false;
  const info = model.classes.find((c) => c.node.id === cls.id);
  return !!info && isSettingsClass(ctx.workspace, model, info);
}

/** Values inside `examples=[...]`, `example=...` or `json_schema_extra={...}` document an API; they configure nothing. */
function inDocumentationExample(node: Node): boolean {
  for (let p = node.parent; p; p = p.parent) {
    if (p.type === 'keyword_argument' && /^(examples?|json_schema_extra|openapi_examples)$/.test(p.childForFieldName('name')?.text ?? '')) return true;
    if (p.type === 'pair' && /^(examples?|json_schema_extra)$/.test(stringValue(p.childForFieldName('key')) ?? '')) return true;
    if (p.type === 'assignment' && /^(examples?|json_schema_extra|model_config)$/.test(p.childForFieldName('left')?.text ?? '')) return true;
    if (p.type === 'function_definition' || p.type === 'class_definition') return false;
  }
  return false;
}

function isPublicKey(value: string): boolean {
  return /-----BEGIN (RSA |EC )?PUBLIC KEY-----|-----BEGIN CERTIFICATE-----/.test(value);
}

function environmentFix(ctx: RuleContext<MessageId>, literal: Node, variable: string): Fix {
  const os = ensureImport(ctx.model, 'os');
  const read = `${os.local}.environ["${variable}"]${isBytesLiteral(literal) ? '.encode()' : ''}`;
  return {
    title: `Read the key from \`os.environ["${variable}"]\` (unsafe: the variable must be set)`,
    safety: 'unsafe',
    edits: [...(os.edit ? [os.edit] : []), { range: rangeOf(literal), newText: read }],
  };
}
