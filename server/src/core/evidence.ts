/**
 * The "holds" evidence of the twelve-item audit checklist: for each item, the places in the workspace that show it
 * holds (the auth dependency reading the Bearer header, the keyed decode with pinned algorithms, the owner-scoped
 * queries ...). An empty list means "not applicable": nothing in the workspace to judge. Whether an item *fails* is
 * decided by the findings (core/audit.ts); this module never looks for flaws and never reports findings.
 * Asks the workspace model (routes, auth inference, handler flow, JWT key origins); knows nothing of output formats.
 */
import type { Node } from 'web-tree-sitter';
import type { RelatedLocation } from './types';
import { safeModel, type Workspace } from '../workspace/workspace';
import type { ModuleModel, FunctionInfo } from '../python/module-model';
import { allJwtCalls, jwtCallsIn, type JwtCall } from '../python/jwt-libs';
import { jwtArguments } from '../python/jwt-decode';
import { callArguments, dottedName, literalValue, rangeOf, stringValue } from '../python/syntax';
import { routes } from '../workspace/app-graph';
import { isAuthDependency, preferredAuthDependency, routeAuth } from '../workspace/auth';
import { authCandidates } from '../workspace/auth-candidates';
import { handlerFlow } from '../workspace/handler-flow';
import { jwtKeyUses } from '../workspace/jwt-values';
import { lookupCallable } from '../workspace/symbols';

import type { EvidenceProvider } from './audit';

/** At most this many places per item: the report shows where it holds, not an inventory. */
const MAX_EVIDENCE = 5;

interface Located {
  file: string;
  model: ModuleModel;
}

// ---- shared facts -------------------------------------------------------------------------------

/** Every JWT library call of the workspace with its file. */
function jwtCalls(ws: Workspace): (JwtCall & Located)[] {
  return ws.memo('evidence:jwt-calls', () => {
    const out: (JwtCall & Located)[] = [];
    // allJwtCalls finds nothing in a file that never says `jwt` or `jose`; skipping it saves the parse.
    for (const f of ws.filesMentioning(/jwt|jose/)) {
      const model = safeModel(ws, f.path);
      if (!model) continue;
      for (const c of allJwtCalls(model)) out.push({ ...c, file: f.path, model });
    }
    return out;
  });
}

function decodes(ws: Workspace): (JwtCall & Located)[] {
  return jwtCalls(ws).filter((c) => c.kind === 'decode');
}

/**
 * Top-level functions (and methods) that are auth dependencies, with their files. Route handlers are left out:
 * a handler that depends on the auth dependency "verifies and raises" through it, but it is not where the
 * credential is checked.
 */
function authFunctions(ws: Workspace): (Located & { fn: FunctionInfo; qualified: string })[] {
  return ws.memo('evidence:auth-functions', () => {
    const out: (Located & { fn: FunctionInfo; qualified: string })[] = [];
    const handlers = new Set(routes(ws).map((r) => r.handler.node.id + ':' + r.file));
    // No other file can define one: see auth-candidates.ts.
    for (const { file, model, fn } of authCandidates(ws)) {
      if (!fn.topLevel && !fn.className) continue;
      if (handlers.has(fn.node.id + ':' + file)) continue;
      const qualified = `${model.moduleName}.${fn.qualname}`;
      if (isAuthDependency(ws, qualified)) out.push({ file, model, fn, qualified });
    }
    return out;
  });
}

function authenticatedRoutes(ws: Workspace) {
  return routes(ws).filter((r) => routeAuth(ws, r).authenticated);
}

function at(file: string, node: Node, message: string): RelatedLocation {
  return { file, range: rangeOf(node), message };
}

function limit(list: RelatedLocation[]): RelatedLocation[] {
  const seen = new Set<string>();
  const out: RelatedLocation[] = [];
  for (const e of list) {
    const key = `${e.file}:${e.range.start.line}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(e);
    if (out.length >= MAX_EVIDENCE) break;
  }
  return out;
}

function calleeName(call: JwtCall): string {
  return call.callee.replace(/\(\)/g, '');
}

function enclosingFunctionName(model: ModuleModel, node: Node): string | undefined {
  for (let p = node.parent; p; p = p.parent) {
    if (p.type === 'function_definition') return model.functionAt(p)?.name;
  }
  return undefined;
}

// ---- items --------------------------------------------------------------------------------------

const BEARER_SCHEMES = new Set([
  'fastapi.security.HTTPBearer',
  'fastapi.security.http.HTTPBearer',
  'fastapi.security.OAuth2PasswordBearer',
  'fastapi.security.oauth2.OAuth2PasswordBearer',
  'fastapi.security.OAuth2AuthorizationCodeBearer',
  'fastapi.security.oauth2.OAuth2AuthorizationCodeBearer',
]);

/** 1: the token comes from `Authorization: Bearer` (a FastAPI bearer scheme or a header read). */
function bearerHeader(ws: Workspace): RelatedLocation[] {
  if (decodes(ws).length === 0) return [];
  const out: RelatedLocation[] = [];
  for (const f of ws.filesMentioning(/Bearer|[Hh]eader/).filter(mayReadBearerHeader)) {
    const model = safeModel(ws, f.path);
    if (!model) continue;
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      const callee = model.callee(call) ?? '';
      if (BEARER_SCHEMES.has(callee)) {
        out.push(at(f.path, call, `\`${call.childForFieldName('function')?.text}()\` reads the token from the \`Authorization: Bearer\` header`));
        continue;
      }
      // `request.headers.get("Authorization")`.
      const fn = call.childForFieldName('function');
      if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'get' && /\.headers$/.test(fn.childForFieldName('object')?.text ?? '')) {
        if (stringValue(callArguments(call).positional[0])?.toLowerCase() === 'authorization') {
          out.push(at(f.path, call, 'the token is read from the `Authorization` header'));
        }
      }
    }
    for (const fn of model.functions) {
      for (const p of fn.params) {
        if (p.marker?.kind !== 'Header') continue;
        const alias = stringValue(callArguments(p.marker.call).keywords.get('alias'));
        if ((alias ?? p.name).toLowerCase() === 'authorization') out.push(at(f.path, p.node, `\`${fn.name}\` reads the token from the \`Authorization\` header`));
      }
    }
  }
  return limit(out);
}

/** A bearer scheme names `Bearer`; `.headers.get("Authorization")` both words; a FastAPI `Header()` parameter its import. */
function mayReadBearerHeader(f: { text: string }): boolean {
  const text = f.text;
  return text.includes('Bearer') || (text.includes('headers') && /authorization/i.test(text)) || (text.includes('Header') && /fastapi|starlette/.test(text));
}

/** 2: a decode with a key from the environment (or a JWKS) and pinned algorithms. */
function verifiedSignature(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const use of jwtKeyUses(ws)) {
    if (use.call.jwt.kind !== 'decode') continue;
    const origin = use.origin;
    if (origin.kind !== 'env' && origin.kind !== 'jwk') continue;
    const algorithms = use.call.algorithms ? literalValue(use.call.algorithms) : undefined;
    const pinned = Array.isArray(algorithms) ? algorithms.map(String) : undefined;
    const authlibInstance = use.call.jwt.library === 'authlib' && use.call.jwt.callee.includes('JsonWebToken()');
    if (!pinned && !authlibInstance && origin.kind !== 'jwk') continue;
    const key = origin.kind === 'env' ? `\`${origin.variable ?? 'the secret'}\` from the environment` : 'the JWKS signing key';
    const algs = pinned ? `, algorithms pinned to \`${JSON.stringify(pinned)}\`` : '';
    out.push(at(use.file.path, use.call.jwt.call, `\`${calleeName(use.call.jwt)}\` verifies the signature with ${key}${algs}`));
  }
  return limit(out);
}

/** 3: decodes that check `exp` (the libraries' default unless disabled) and issued tokens that carry it. */
function expiryEnforced(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const c of decodes(ws)) {
    const a = jwtArguments(c);
    const options = a.options ? literalValue(a.options) : undefined;
    const required = options && typeof options === 'object' && !Array.isArray(options) && Array.isArray(options.require) && options.require.includes('exp');
    if (c.library === 'authlib') continue;
    out.push(at(c.file, c.call, `\`${calleeName(c)}\` rejects expired tokens${required ? ' and requires `exp`' : ' (`exp` is verified by default)'}`));
  }
  for (const c of jwtCalls(ws).filter((x) => x.kind === 'encode')) {
    const payload = jwtArguments(c).payload;
    if (payload && payloadSetsExp(c.model, payload, c.call)) out.push(at(c.file, c.call, `\`${calleeName(c)}\` issues tokens with an \`exp\` claim`));
  }
  return limit(out);
}

function payloadSetsExp(model: ModuleModel, payload: Node, call: Node): boolean {
  if (payload.type === 'dictionary') return /["']exp["']\s*:/.test(payload.text);
  if (payload.type !== 'identifier') return false;
  let scope: Node | null = call.parent;
  while (scope && scope.type !== 'function_definition') scope = scope.parent;
  const body = scope?.childForFieldName('body');
  if (!body) return false;
  if (model.dictKeysSet(body, payload.text).has('exp')) return true;
  return (model.localAssignments(body).get(payload.text) ?? []).some((v) => v.type === 'dictionary' && /["']exp["']\s*:/.test(v.text));
}

/** 4: the auth dependency raises 401 on a bad token. */
function unauthorizedOnFailure(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const a of authFunctions(ws)) {
    for (const r of a.model.raisesIn(a.fn.body)) {
      if (r.status === 401) out.push(at(a.file, r.node, `\`${a.fn.name}\` answers a missing or invalid token with 401`));
    }
  }
  return limit(out);
}

/** 5: one auth dependency that the routes share. */
function centralisedAuth(ws: Workspace): RelatedLocation[] {
  const preferred = preferredAuthDependency(ws);
  if (!preferred) return [];
  const target = lookupCallable(ws, preferred.qualified);
  if (!target) return [];
  const count = authenticatedRoutes(ws).length;
  const used = preferred.uses > 0 ? ` (${preferred.uses} route parameter${preferred.uses === 1 ? '' : 's'}; ${count} authenticated route${count === 1 ? '' : 's'})` : '';
  return [at(target.file, target.fn.node.childForFieldName('name') ?? target.fn.node, `\`${target.fn.name}\` is the auth dependency the routes share${used}`)];
}

/** 6: the user id comes from the verified `sub` claim. */
function identityFromClaims(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  const seen = new Set<string>();
  const scopes: (Located & { fn: FunctionInfo })[] = [...authFunctions(ws)];
  for (const c of decodes(ws)) {
    let p: Node | null = c.call.parent;
    while (p && p.type !== 'function_definition') p = p.parent;
    const fn = p ? c.model.functionAt(p) : undefined;
    if (fn) scopes.push({ file: c.file, model: c.model, fn });
  }
  for (const s of scopes) {
    const key = `${s.file}:${s.fn.node.startIndex}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!jwtCallsIn(s.model, s.fn.body).some((c) => c.kind === 'decode') && !authFunctions(ws).some((a) => a.fn === s.fn)) continue;
    for (const n of [...s.fn.body.descendantsOfType('subscript'), ...s.fn.body.descendantsOfType('call')]) {
      if (!n) continue;
      let claim: string | undefined;
      if (n.type === 'subscript') claim = stringValue(n.childForFieldName('subscript'));
      else {
        const fn = n.childForFieldName('function');
        if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'get') claim = stringValue(callArguments(n).positional[0]);
      }
      if (claim === 'sub') out.push(at(s.file, n, `\`${s.fn.name}\` takes the user id from the verified \`sub\` claim`));
    }
  }
  return limit(out);
}

/** 7: queries of owned models in authenticated routes, filtered by the authenticated user. */
function scopedQueries(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const route of authenticatedRoutes(ws)) {
    const flow = handlerFlow(ws, route);
    for (const q of flow.queries) {
      if (!q.ownerBound || q.adminGuarded || !q.ownerFilter) continue;
      out.push(at(q.where.file, q.ownerFilter.node, `\`${route.method} ${route.path}\` filters \`${q.model.name}\` by the authenticated user (\`${q.ownerFilter.node.text}\`)`));
    }
  }
  return limit(out);
}

/** 8: objects loaded by id in authenticated routes are bound to their owner (in the query or by a check). */
function ownershipEnforced(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const route of authenticatedRoutes(ws)) {
    const flow = handlerFlow(ws, route);
    for (const load of flow.loads) {
      if (load.adminGuarded) continue;
      if (load.check) out.push(at(load.where.file, load.check, `\`${route.method} ${route.path}\` checks that the \`${load.model.name}\` belongs to the user`));
      else if (load.ownerBound) out.push(at(load.where.file, load.node, `\`${route.method} ${route.path}\` loads the \`${load.model.name}\` by id and owner together`));
    }
  }
  return limit(out);
}

/** 9: JWTs verified locally (SEC302/SEC303 findings make the item fail). */
function noSessionAuth(ws: Workspace): RelatedLocation[] {
  const first = decodes(ws)[0];
  return first ? [at(first.file, first.call, `tokens are verified locally by \`${calleeName(first)}\`, without sessions or calls to the auth server`)] : [];
}

/** 10: signing secrets come from the environment. */
function secretsFromEnvironment(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const use of jwtKeyUses(ws)) {
    if (use.origin.kind !== 'env' || use.origin.fallback) continue;
    out.push(at(use.origin.file, use.origin.node, `\`${use.origin.variable ?? use.origin.node.text}\` is read from the environment with no fallback`));
  }
  return limit(out);
}

const TEXT_CALLEES = new Set(['sqlalchemy.text', 'sqlalchemy.sql.text', 'sqlalchemy.sql.expression.text', 'sqlmodel.text']);
const ORM_SELECT = /^(sqlmodel|sqlalchemy)(\.sql|\.sql\.expression|\.future|\.orm)?\.select$/;

/**
 * 11: raw SQL only as constant text with bound parameters, or ORM queries. A workspace with no SQL at all is
 * "not applicable": there is nothing parameterized to show.
 */
function parameterizedSql(ws: Workspace): RelatedLocation[] {
  const raw: RelatedLocation[] = [];
  const orm: RelatedLocation[] = [];
  // `text()` and `select()` resolve to sqlalchemy/sqlmodel only in a file importing them; `.query(` is named.
  for (const f of ws.filesMentioning(/sqlalchemy|sqlmodel|\.query\b/)) {
    const model = safeModel(ws, f.path);
    if (!model) continue;
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      const callee = model.callee(call) ?? '';
      if (TEXT_CALLEES.has(callee)) {
        const sql = stringValue(callArguments(call).positional[0]);
        if (sql !== undefined && /(?<![:\w]):\w/.test(sql)) raw.push(at(f.path, call, 'raw SQL passes values as bound parameters'));
      } else if (ORM_SELECT.test(callee) && orm.length < MAX_EVIDENCE) {
        const where = enclosingFunctionName(model, call);
        orm.push(at(f.path, call, `\`${call.text.split('\n')[0]}\` builds the query with the ORM${where ? ` in \`${where}\`` : ''}`));
      } else if (/\.query$/.test(dottedName(call.childForFieldName('function')) ?? '') && callArguments(call).positional.length > 0 && orm.length < MAX_EVIDENCE) {
        orm.push(at(f.path, call, `\`${call.text.split('\n')[0]}\` builds the query with the ORM`));
      }
    }
  }
  return limit([...raw, ...orm]);
}

/** 12: authentication errors answer with a fixed message. */
function fixedErrorMessages(ws: Workspace): RelatedLocation[] {
  const out: RelatedLocation[] = [];
  for (const a of authFunctions(ws)) {
    for (const r of a.model.raisesIn(a.fn.body)) {
      if (!r.call || r.status === undefined) continue;
      const args = callArguments(r.call);
      const detail = args.keywords.get('detail') ?? args.positional[1];
      if (detail && stringValue(detail) !== undefined) out.push(at(a.file, r.node, `\`${a.fn.name}\` answers with a fixed message (${detail.text})`));
    }
  }
  return limit(out);
}

/** The default evidence for items 1-12; core/audit.ts registers these. */
export const DEFAULT_EVIDENCE: ReadonlyMap<number, EvidenceProvider> = new Map<number, EvidenceProvider>([
  [1, bearerHeader],
  [2, verifiedSignature],
  [3, expiryEnforced],
  [4, unauthorizedOnFailure],
  [5, centralisedAuth],
  [6, identityFromClaims],
  [7, scopedQueries],
  [8, ownershipEnforced],
  [9, noSessionAuth],
  [10, secretsFromEnvironment],
  [11, parameterizedSql],
  [12, fixedErrorMessages],
]);
