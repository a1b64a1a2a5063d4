import * as path from 'path';
import type { Node } from 'web-tree-sitter';
import { defineRule } from './rule';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { descendantsInScope, literalValue } from '../python/syntax';
import { decodeOptions } from '../python/jwt-decode';
import { claimReadsIn, KIND_CLAIMS } from '../python/token-claims';
import {
  calledFunction,
  callSites,
  claimReturningFunctions,
  decodeIndex,
  functionKey,
  issueIndex,
  kindFromName,
  type DecodeRecord,
  type IssueRecord,
} from '../workspace/token-index';
import type { Workspace } from '../workspace/workspace';

type MessageId = 'unchecked' | 'noKindClaim';

export const JWT113 = defineRule<MessageId>({
  code: 'JWT113',
  name: 'token-type-confusion',
  severity: 'warning',
  fix: 'none',
  checklist: [6],
  messages: {
    unchecked: '`{fn}` accepts any token signed with `{key}` without checking its `{claim}` claim, though that key also signs {kinds} tokens ({issuers})',
    noKindClaim: '`{fn}` accepts any token signed with `{key}`, though that key also signs {kinds} tokens ({issuers}) with no claim telling them apart: add a `type` claim when issuing and check it here',
  },
  docs: `## What it does
Finds apps that issue more than one kind of token with the same key (access and refresh tokens, email verification,
password reset, magic links: told apart by a \`type\`/\`token_type\`/\`scope\` claim, or by separate
\`create_access_token\`/\`create_refresh_token\`/\`create_reset_token\` functions), and a decode with that key whose
caller never checks which kind it got. When the decode sits in a helper that returns the claims
(\`decode_token(token)\`), each caller is checked instead: the refresh endpoint that checks \`type == "refresh"\` is
fine, the auth dependency that does not is reported. Issuers, keys and decodes are matched across files.

## Why is this bad?
A refresh token usually lives for weeks and a password-reset link lands in an inbox; if the API's auth dependency
accepts them as access tokens, anyone holding one gets full API access, and revoking or shortening access tokens
achieves nothing. The reverse (an access token accepted by the refresh endpoint) turns every leaked short-lived token
into a long-lived session.

## Example
\`\`\`python
import os
from datetime import datetime, timedelta, timezone

import jwt

SECRET_KEY = os.environ["BETTER_AUTH_SECRET"]


def create_access_token(user_id: str) -> str:
    exp = datetime.now(timezone.utc) + timedelta(minutes=15)
    return jwt.encode({"sub": user_id, "type": "access", "exp": exp}, SECRET_KEY, algorithm="HS256")


def create_refresh_token(user_id: str) -> str:
    exp = datetime.now(timezone.utc) + timedelta(days=30)
    return jwt.encode({"sub": user_id, "type": "refresh", "exp": exp}, SECRET_KEY, algorithm="HS256")


def get_current_user_id(token: str) -> str:
    payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
    return payload["sub"]
\`\`\`

## Use instead
\`\`\`python
import os
from datetime import datetime, timedelta, timezone

import jwt
from fastapi import HTTPException

SECRET_KEY = os.environ["BETTER_AUTH_SECRET"]


def create_access_token(user_id: str) -> str:
    exp = datetime.now(timezone.utc) + timedelta(minutes=15)
    return jwt.encode({"sub": user_id, "type": "access", "exp": exp}, SECRET_KEY, algorithm="HS256")


def create_refresh_token(user_id: str) -> str:
    exp = datetime.now(timezone.utc) + timedelta(days=30)
    return jwt.encode({"sub": user_id, "type": "refresh", "exp": exp}, SECRET_KEY, algorithm="HS256")


def get_current_user_id(token: str) -> str:
    payload = jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
    if payload.get("type") != "access":
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return payload["sub"]
\`\`\`

## Fix safety
No fix: which kind a decode expects is a design decision. Check the kind claim right after decoding (or give each
kind its own key or audience).

## References
- [RFC 8725: JSON Web Token Best Current Practices, section 3.11 (Use Explicit Typing)](https://www.rfc-editor.org/rfc/rfc8725#section-3.11)
- [RFC 8725, section 2.8: Cross-JWT Confusion](https://www.rfc-editor.org/rfc/rfc8725#section-2.8)
- [OWASP: JSON Web Token Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/JSON_Web_Token_for_Java_Cheat_Sheet.html)
`,
  // Every report follows from workspace-wide facts (`reports`): a file can hold one only if `reports` puts one there.
  prescan: (file, ws) => reports(ws).some((r) => r.file === file.path),
  check(ctx) {
    for (const r of reports(ctx.workspace)) {
      if (r.file !== ctx.file.path) continue;
      const { decode, group } = r;
      const expected = normalizeKind(kindFromName(r.fnName) ?? 'access');
      const others = [...group.kinds.keys()].filter((k) => k !== expected);
      const kinds = (others.length ? others : [...group.kinds.keys()]).map((k) => `\`${k}\``);
      const issuers = [...new Set((others.length ? others : [...group.kinds.keys()]).flatMap((k) => group.kinds.get(k)!.map((i) => `${i.issuer} in ${path.basename(i.file)}`)))];
      ctx.report({
        node: r.node,
        messageId: group.claim ? 'unchecked' : 'noKindClaim',
        data: {
          fn: r.fnName,
          key: decode.args.key?.text.replace(/\s+/g, '') ?? 'the key',
          claim: group.claim ?? 'type',
          kinds: joinWords(kinds),
          issuers: issuers.join(', '),
        },
      });
    }
  },
});

/** A place that accepts a token without telling its kind apart: the decode, or the caller of a claims helper. */
interface ConfusionSite {
  file: string;
  node: Node;
  fnName: string;
  decode: DecodeRecord;
  group: KindGroup;
}

/**
 * Every site of the workspace the rule reports, in the order `check` reports them. Memoized per workspace state;
 * with no key signing two kinds of token (no encodes at all in code that never says `jwt`/`jose`) it parses nothing
 * beyond the issue index.
 */
function reports(ws: Workspace): ConfusionSite[] {
  return ws.memo('JWT113:reports', () => {
    const out: ConfusionSite[] = [];
    const groups = kindGroups(ws);
    if (!groups.size) return out;
    const verifiers = claimReturningFunctions(ws);
    const sites = callSites(ws);
    for (const decode of decodeIndex(ws)) {
      const group = decode.key ? groups.get(decode.key) : undefined;
      if (!group || separatedByAudience(decode, group)) continue;
      if (decodeChecksKind(ws, decode)) continue;
      const fnKey = decode.fn ? functionKey({ file: decode.file, fn: decode.fn }) : undefined;
      const callers = fnKey && verifiers.has(fnKey) ? (sites.get(fnKey) ?? []) : [];
      if (callers.length) {
        // A claims helper: whoever receives the claims must check the kind.
        for (const site of callers) {
          if (!site.caller || readsKind(ws, site.file, site.model, site.caller)) continue;
          out.push({ file: site.file, node: site.call, fnName: site.caller.name, decode, group });
        }
        continue;
      }
      out.push({ file: decode.file, node: decode.args.jwt.call, fnName: decode.fn?.name ?? '<module>', decode, group });
    }
    return out;
  });
}

interface KindGroup {
  /** Token kinds issued with the key, with their issuers. */
  kinds: Map<string, IssueRecord[]>;
  /** The claim issuers use to tell kinds apart, if any. */
  claim?: string;
}

/** Keys that sign more than one kind of token. */
function kindGroups(ws: Workspace): Map<string, KindGroup> {
  return ws.memo('JWT113:groups', () => {
    const byKey = new Map<string, KindGroup>();
    for (const record of issueIndex(ws)) {
      if (!record.key) continue;
      const group = byKey.get(record.key) ?? { kinds: new Map<string, IssueRecord[]>() };
      // An issuer that says nothing about its kind issues the app's ordinary (access) tokens.
      const kinds = record.kinds.length ? record.kinds : [{ value: 'access', claim: undefined }];
      for (const kind of kinds) {
        const value = normalizeKind(kind.value);
        group.kinds.set(value, [...(group.kinds.get(value) ?? []), record]);
        group.claim ??= kind.claim;
      }
      byKey.set(record.key, group);
    }
    for (const [key, group] of [...byKey]) if (group.kinds.size < 2) byKey.delete(key);
    return byKey;
  });
}

function normalizeKind(kind: string): string {
  // `password_reset`, `password-reset` and `Password reset token` are one kind.
  return kind.toLowerCase().replace(/[_ ]+/g, '-').replace(/-?token$/, '') || kind;
}

function joinWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Kinds issued with different `aud` values, and a decode that requires one: the audience tells them apart. */
function separatedByAudience(decode: DecodeRecord, group: KindGroup): boolean {
  if (!decode.args.args.keywords.has('audience')) return false;
  const audiences = new Set<string>();
  for (const records of group.kinds.values()) {
    for (const r of records) {
      for (const e of r.entries) if (e.entry.claim === 'aud') audiences.add(String(literalValue(e.entry.value) ?? e.entry.value.text));
    }
  }
  return audiences.size > 1;
}

function decodeChecksKind(ws: Workspace, decode: DecodeRecord): boolean {
  if (decode.kindClaimsRead.size) return true;
  // authlib: `claims_options={"type": {"essential": True, "value": "access"}}`.
  const options = decodeOptions(decode.model, decode.args);
  if (KIND_CLAIMS.some((c) => options.entries.has(c))) return true;
  return !!decode.fn && readsKind(ws, decode.file, decode.model, decode.fn);
}

/** The function reads a kind claim, or calls a workspace helper that does (`ensure_token_type(payload, "access")`). */
function readsKind(ws: Workspace, file: string, model: ModuleModel, fn: FunctionInfo): boolean {
  if (claimReadsIn(fn.body).some((r) => KIND_CLAIMS.includes(r.claim))) return true;
  for (const call of descendantsInScope(fn.body, 'call')) {
    const target = calledFunction(ws, file, model, call);
    if (target && target.fn !== fn && claimReadsIn(target.fn.body).some((r) => KIND_CLAIMS.includes(r.claim))) return true;
  }
  return false;
}
