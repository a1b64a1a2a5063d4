import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import { dottedName, rangeOf } from '../python/syntax';
import { isSecretName } from '../python/token-claims';
import { removeEntryEdit } from '../python/token-edits';
import { issueIndex } from '../workspace/token-index';
import { allFields, classOfExpression } from '../workspace/auth-models';
import type { Workspace } from '../workspace/workspace';

type MessageId = 'claim' | 'value' | 'object';

export const SEC306 = defineRule<MessageId>({
  code: 'SEC306',
  name: 'sensitive-claim',
  severity: 'warning',
  fix: 'sometimes',
  checklist: [10],
  prescan: (file, ws) => filesWithPayloadFindings(ws).has(file.path),
  messages: {
    claim: 'Token issued by `{issuer}` carries the `{claim}` claim, readable by anyone who holds the token',
    value: 'Token issued by `{issuer}` puts `{value}` into its `{claim}` claim, readable by anyone who holds the token',
    object: '`{expression}` puts every field of `{cls}` into the token issued by `{issuer}`, including `{fields}`',
  },
  docs: `## What it does
Finds tokens issued (\`jwt.encode\` of PyJWT, python-jose or authlib) with a password, a password hash, an API key or
another secret in their payload: a literal claim such as \`"password"\` or \`"hashed_password"\`, a value read from a
secret-like attribute (\`user.hashed_password\`, \`settings.SECRET_KEY\`), or a whole user object dumped into the
payload (\`user.model_dump()\`, \`user.dict()\`, \`jsonable_encoder(user)\`) whose class has such a field. Payloads are
followed through the issuing function (\`to_encode = data.copy()\`, \`to_encode.update(...)\`) and into its callers
(\`create_access_token(data={...})\`), across files.

## Why is this bad?
A JWT is signed, not encrypted: its payload is base64url-encoded JSON that anyone holding the token can read
(browser storage, logs, proxies, error trackers). A password hash in a token can be cracked offline; a secret in a
token is simply disclosed.

## Example
\`\`\`python
import os
from datetime import datetime, timedelta, timezone

import jwt


def create_access_token(user) -> str:
    payload = {
        "sub": str(user.id),
        "hashed_password": user.hashed_password,
        "exp": datetime.now(timezone.utc) + timedelta(minutes=15),
    }
    return jwt.encode(payload, os.environ["BETTER_AUTH_SECRET"], algorithm="HS256")
\`\`\`

## Use instead
\`\`\`python
import os
from datetime import datetime, timedelta, timezone

import jwt


def create_access_token(user) -> str:
    payload = {
        "sub": str(user.id),
        "exp": datetime.now(timezone.utc) + timedelta(minutes=15),
    }
    return jwt.encode(payload, os.environ["BETTER_AUTH_SECRET"], algorithm="HS256")
\`\`\`

## Fix safety
Unsafe: the fix deletes the claim from the payload literal (or the \`payload["k"] = v\` line). Code that reads the claim
back from decoded tokens must then look the value up server-side instead. Whole-object dumps get no fix: the
payload has to be rebuilt from the fields that are meant to be public.

## References
- [RFC 7519: JSON Web Token, section 12 (Privacy Considerations)](https://www.rfc-editor.org/rfc/rfc7519#section-12)
- [OWASP: JSON Web Token Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html)
- [CWE-312: Cleartext Storage of Sensitive Information](https://cwe.mitre.org/data/definitions/312.html)
`,
  check(ctx) {
    const { workspace, file } = ctx;
    for (const record of issueIndex(workspace)) {
      for (const { file: where, entry } of record.entries) {
        if (where !== file.path) continue;
        const secretKey = isSecretName(entry.claim);
        const secretValue = !secretKey ? secretReadIn(entry.value) : undefined;
        if (!secretKey && !secretValue) continue;
        const fix = entry.removable
          ? { title: `Remove the \`${entry.claim}\` claim`, safety: 'unsafe' as const, edits: [removeEntryEdit(file.text, entry.removable)] }
          : undefined;
        ctx.report({
          range: rangeOf(entry.removable ?? entry.key),
          messageId: secretKey ? 'claim' : 'value',
          data: { issuer: record.issuer, claim: entry.claim, value: secretValue ?? '' },
          fix,
        });
      }
      for (const dump of record.objects) {
        if (dump.file !== file.path) continue;
        const cls = classOfExpression(workspace, dump.file, dump.model, dump.fn, dump.object);
        if (!cls) continue;
        const kept = keptFields(dump.expression);
        const secrets = [...allFields(workspace, cls).keys()].filter((f) => isSecretName(f) && kept(f));
        if (!secrets.length) continue;
        ctx.report({
          node: dump.expression,
          messageId: 'object',
          data: { expression: dump.expression.text.replace(/\s+/g, ' '), cls: cls.cls.name, issuer: record.issuer, fields: secrets.join('`, `') },
        });
      }
    }
  },
});

/**
 * The files `check` can report in: those holding a payload entry with a secret-like claim name or value, or a whole
 * object dumped into a payload (whose class `check` then inspects). The issue index parses only files that say
 * `jwt`/`jose`, and callers of issuers that take a payload parameter.
 */
function filesWithPayloadFindings(ws: Workspace): ReadonlySet<string> {
  // Wrapped: an empty Set returned by a memo reads as a lazily filled cache (memo-deps.ts).
  return ws.memo('SEC306:files', () => {
    const files = new Set<string>();
    for (const record of issueIndex(ws)) {
      for (const { file, entry } of record.entries) if (isSecretName(entry.claim) || secretReadIn(entry.value)) files.add(file);
      for (const dump of record.objects) files.add(dump.file);
    }
    return { files };
  }).files;
}

/** A secret-like name read into a claim value (`user.hashed_password`, `SECRET_KEY`), as written. */
function secretReadIn(value: Node): string | undefined {
  const name = dottedName(value);
  if (!name) return undefined;
  const last = name.slice(name.lastIndexOf('.') + 1);
  return isSecretName(last) ? name : undefined;
}

/** Whether a dump keeps a field: `user.model_dump(exclude={"hashed_password"})`, `include={"id", "email"}`. */
function keptFields(expression: Node): (field: string) => boolean {
  const args = expression.childForFieldName('arguments');
  let include: Set<string> | undefined;
  const exclude = new Set<string>();
  for (const kw of args?.namedChildren ?? []) {
    if (kw?.type !== 'keyword_argument') continue;
    const name = kw.childForFieldName('name')?.text;
    const strings = (kw.childForFieldName('value')?.descendantsOfType('string_content') ?? []).map((s) => s?.text ?? '');
    if (name === 'exclude') strings.forEach((s) => exclude.add(s));
    if (name === 'include') include = new Set(strings);
  }
  return (field) => !exclude.has(field) && (!include || include.has(field));
}
