import * as path from 'path';
import { defineRule } from './rule';
import type { FunctionInfo } from '../python/module-model';
import { descendantsInScope, dottedName } from '../python/syntax';
import { decodeOptions } from '../python/jwt-decode';
import { calledFunction, claimReturningFunctions, decodeIndex, functionKey, type DecodeRecord } from '../workspace/token-index';
import { isMiddleware, isRouteHandler } from '../workspace/auth-routes';
import { routesInFile, routesOfHandler } from '../workspace/app-graph';
import { preferredAuthDependency } from '../workspace/auth';
import { claimReturningNames, mentionsAnyName } from '../workspace/jwt-helper-names';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';
import { projectRootOf } from '../workspace/projects';

type MessageId = 'inRoute' | 'helperInRoute' | 'duplicate';

export const JWT110 = defineRule<MessageId>({
  code: 'JWT110',
  name: 'decode-outside-dependency',
  severity: 'suggestion',
  fix: 'none',
  checklist: [5],
  messages: {
    inRoute: '`{call}` verifies the bearer token inside route `{route}` instead of in a dependency{reuse}',
    helperInRoute: '`{call}` is called inside route `{route}` to verify the bearer token; declare it as a dependency{reuse}',
    duplicate: '`{call}` in `{fn}` repeats the token verification of `{other}` ({where}); keep one dependency and reuse it',
  },
  docs: `## What it does
Finds JWT verification written where it does not belong: a JWT library decode inside a route handler's body, a
token-verifying helper called by hand inside a route body, and the same verification (a decode with the same key)
written in more than one function of a project (the services of a monorepo, each with its own \`requirements*.txt\`
or \`pyproject.toml\`, are separate projects). Decodes for a specific purpose (refresh, password reset, email verification,
invitations, magic links, webhooks) are not reported. The message names the workspace's auth dependency to reuse
when there is one.

## Why is this bad?
Verification copied into each route drifts: one copy pins algorithms, another forgets \`exp\` or the audience, and a
new route forgets to call it at all. A FastAPI dependency (\`Depends(get_current_user)\`) is declared in the
signature, shows up in OpenAPI, is applied by routers with \`dependencies=[...]\`, and can be audited in one place.

## Example
\`\`\`python
import os

import jwt
from fastapi import FastAPI, Header

app = FastAPI()


@app.get("/items")
def list_items(authorization: str = Header()):
    payload = jwt.decode(authorization.removeprefix("Bearer "), os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    return {"owner": payload["sub"]}
\`\`\`

## Use instead
\`\`\`python
import os
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

app = FastAPI()
bearer = HTTPBearer()


def get_current_user_id(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
    try:
        payload = jwt.decode(credentials.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="Invalid token", headers={"WWW-Authenticate": "Bearer"})
    return payload["sub"]


@app.get("/items")
def list_items(user_id: Annotated[str, Depends(get_current_user_id)]):
    return {"owner": user_id}
\`\`\`

## Fix safety
No fix: moving verification into a dependency changes signatures and error handling; the message names the
dependency to reuse.

## References
- [FastAPI: Dependencies](https://fastapi.tiangolo.com/tutorial/dependencies/)
- [FastAPI: Get Current User](https://fastapi.tiangolo.com/tutorial/security/get-current-user/)
- [OWASP ASVS V4.1: General Access Control Design (centralised enforcement)](https://owasp.org/www-project-application-security-verification-standard/)
`,
  prescan: (file, ws) => mayReportIn(file, ws),
  check(ctx) {
    const { workspace, model, file } = ctx;
    const decodes = decodeIndex(workspace).filter((d) => isVerifying(d));
    const preferred = safePreferred(workspace, file.path);
    const verifiers = claimReturningFunctions(workspace);
    for (const fn of model.functions) {
      const routes = routesOfHandler(workspace, file.path, fn.node);
      if (!routes.length && !isRouteHandler(workspace, model, fn)) continue;
      const routePaths = routes.map((r) => r.path);
      const reuse = preferred && preferred.qualified !== `${model.moduleName}.${fn.qualname}` ? `: reuse \`${preferred.name}\`` : '';
      for (const d of decodes) {
        if (d.file !== file.path || d.fn?.node.id !== fn.node.id || purposeSpecific(d, fn, routePaths)) continue;
        ctx.report({ node: d.args.jwt.call, messageId: 'inRoute', data: { call: callName(d), route: fn.name, reuse } });
      }
      for (const call of descendantsInScope(fn.body, 'call')) {
        const target = calledFunction(workspace, file.path, model, call);
        if (!target || !verifiers.has(functionKey(target))) continue;
        if (PURPOSE.test(target.fn.name) || PURPOSE.test(fn.name) || routePaths.some((p) => PURPOSE.test(p)) || PURPOSE.test(call.text)) continue;
        ctx.report({ node: call, messageId: 'helperInRoute', data: { call: `${dottedName(call.childForFieldName('function')) ?? target.fn.name}(...)`, route: fn.name, reuse } });
      }
    }
    for (const { record, canonical } of duplicates(workspace)) {
      if (record.file !== file.path) continue;
      ctx.report({
        node: record.args.jwt.call,
        messageId: 'duplicate',
        data: {
          call: callName(record),
          fn: record.fn?.name ?? '<module>',
          other: canonical.fn?.name ?? '<module>',
          where: `${path.basename(canonical.file)}:${canonical.args.jwt.call.startPosition.row + 1}`,
        },
      });
    }
  },
});

/**
 * Where the rule can report: a verifying decode of this file (reported in a route or as a duplicate), or a route
 * handler of this file calling a claim-returning helper, which the call names (by its name or an import alias of
 * it). A handler is a route by the app graph (`add_api_route` may register it from another file) or by a route
 * decorator, which starts a line of its own.
 */
function mayReportIn(file: WorkspaceFile, ws: Workspace): boolean {
  if (decodeIndex(ws).some((d) => d.file === file.path && isVerifying(d))) return true;
  if (!mentionsAnyName(ws, file, claimReturningNames(ws))) return false;
  return DECORATOR_LINE.test(file.text) || routesInFile(ws, file.path).length > 0;
}

const DECORATOR_LINE = /^[ \t\f\ufeff]*@/m;

/** Tokens that are the subject of the request rather than its credential. */
const PURPOSE = /refresh|reset|verif(y|ication)_?(email|account)|email_?verif|confirm|invit|magic|activat|unsubscribe|webhook|callback|download|share|signed_?url/i;

function purposeSpecific(d: DecodeRecord, fn: FunctionInfo | undefined, routePaths: string[]): boolean {
  if (d.kindClaimsRead.size) return true;
  if (fn && PURPOSE.test(fn.name)) return true;
  if (routePaths.some((p) => PURPOSE.test(p))) return true;
  const token = d.args.token;
  return !!token && PURPOSE.test(token.text);
}

/** A decode that verifies the signature (peeks with `verify_signature: False` are JWT101's business). */
function isVerifying(d: DecodeRecord): boolean {
  const options = decodeOptions(d.model, d.args);
  const v = options.entries.get('verify_signature')?.literal;
  return v !== false && v !== 0 && !d.args.args.keywords.has('verify');
}

function callName(d: DecodeRecord): string {
  return dottedName(d.args.jwt.call.childForFieldName('function')) ?? d.args.jwt.callee;
}

function safePreferred(ws: Workspace, file: string): { name: string; qualified: string } | undefined {
  try {
    return preferredAuthDependency(ws, file);
  } catch {
    // The auth model is another module's work; a failure there must not hide this rule's findings.
    return undefined;
  }
}

/**
 * Verification written more than once: functions of one project (not routes, not middleware, not purpose-specific)
 * that decode with the same key. The first by file and line is kept as the one to reuse; each other one is reported.
 */
function duplicates(ws: Workspace): { record: DecodeRecord; canonical: DecodeRecord }[] {
  return ws.memo('JWT110:duplicates', () => {
    const groups = new Map<string, DecodeRecord[]>();
    for (const d of decodeIndex(ws)) {
      if (!d.fn || d.isRoute || !isVerifying(d) || purposeSpecific(d, d.fn, []) || isTestPath(path.relative(ws.root, d.file))) continue;
      if (isMiddleware(ws, d.model, d.fn)) continue;
      // Only within a project: a monorepo's services cannot share one dependency.
      const key = `${projectRootOf(ws, d.file)}\0${d.key ?? `expr:${d.args.key?.text ?? '?'}`}`;
      const list = groups.get(key) ?? [];
      // One entry per function (a function may decode twice, e.g. with two keys in a loop).
      if (!list.some((x) => x.file === d.file && x.fn === d.fn)) list.push(d);
      groups.set(key, list);
    }
    const out: { record: DecodeRecord; canonical: DecodeRecord }[] = [];
    for (const list of groups.values()) {
      if (list.length < 2) continue;
      list.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.args.jwt.call.startIndex - b.args.jwt.call.startIndex));
      const canonical = list.find((d) => /current_user|get_user|require_user/.test(d.fn!.name)) ?? list[0];
      for (const d of list) if (d !== canonical) out.push({ record: d, canonical });
    }
    return out;
  });
}

function isTestPath(file: string): boolean {
  const parts = file.split(/[\\/]/);
  const base = parts[parts.length - 1];
  return parts.slice(0, -1).some((p) => p === 'tests' || p === 'test') || /^test_.*\.py$|_test\.py$|^conftest\.py$/.test(base);
}
