/**
 * Recognises the JWT libraries' calls (PyJWT, python-jose, authlib/joserfc) under any import alias.
 * Shared by the JWT rules and the workspace's auth inference; knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { ModuleModel } from './module-model';
import { descendantsInScope } from './syntax';

export type JwtLibrary = 'pyjwt' | 'jose' | 'authlib';

export type JwtCallKind =
  | 'decode' // verifies (unless options say otherwise) and returns claims
  | 'encode'
  | 'unverified-claims' // jose get_unverified_claims
  | 'unverified-header' // get_unverified_header(s)
  | 'jwk-client' // PyJWKClient(...) construction
  | 'signing-key'; // PyJWKClient().get_signing_key_from_jwt(...)

export interface JwtCall {
  library: JwtLibrary;
  kind: JwtCallKind;
  call: Node;
  /** The resolved callee (`jwt.decode`). */
  callee: string;
}

const PYJWT_PREFIXES = ['jwt.api_jwt.PyJWT().', 'jwt.PyJWT().', 'jwt.api_jwt.', 'jwt.'];
const JOSE_PREFIXES = ['jose.jwt.'];
const AUTHLIB_PREFIXES = ['authlib.jose.jwt.', 'authlib.jose.JsonWebToken().', 'authlib.jose.rfc7519.JsonWebToken().', 'joserfc.jwt.'];

function member(callee: string, prefixes: string[]): string | undefined {
  for (const p of prefixes) if (callee.startsWith(p) && !callee.slice(p.length).includes('.')) return callee.slice(p.length);
  return undefined;
}

/** Classifies a qualified callee name. */
export function classifyJwtCallee(callee: string): { library: JwtLibrary; kind: JwtCallKind } | undefined {
  let m = member(callee, JOSE_PREFIXES);
  if (m !== undefined) {
    if (m === 'decode') return { library: 'jose', kind: 'decode' };
    if (m === 'encode') return { library: 'jose', kind: 'encode' };
    if (m === 'get_unverified_claims') return { library: 'jose', kind: 'unverified-claims' };
    if (m === 'get_unverified_header' || m === 'get_unverified_headers') return { library: 'jose', kind: 'unverified-header' };
    return undefined;
  }
  m = member(callee, AUTHLIB_PREFIXES);
  if (m !== undefined) {
    if (m === 'decode') return { library: 'authlib', kind: 'decode' };
    if (m === 'encode') return { library: 'authlib', kind: 'encode' };
    return undefined;
  }
  if (/^jwt\.(jwks_client\.)?PyJWKClient\(\)\.get_signing_key(_from_jwt)?$/.test(callee)) return { library: 'pyjwt', kind: 'signing-key' };
  if (/^jwt\.(jwks_client\.)?PyJWKClient$/.test(callee)) return { library: 'pyjwt', kind: 'jwk-client' };
  m = member(callee, PYJWT_PREFIXES);
  if (m !== undefined) {
    if (m === 'decode' || m === 'decode_complete') return { library: 'pyjwt', kind: 'decode' };
    if (m === 'encode') return { library: 'pyjwt', kind: 'encode' };
    if (m === 'get_unverified_header') return { library: 'pyjwt', kind: 'unverified-header' };
  }
  return undefined;
}

/**
 * Every callee `classifyJwtCallee` accepts starts with `jwt.` or contains `jose.` (PyJWT, python-jose, authlib's
 * `authlib.jose`, joserfc), and those names come from the module's own text, so a text that mentions neither cannot
 * call a JWT library. The one text test for that, shared by rule prescans and workspace indexes.
 */
export const JWT_LIBRARY_TEXT = /jwt|jose/i;

export function mayUseJwtLibrary(text: string): boolean {
  return JWT_LIBRARY_TEXT.test(text);
}

const mentionsJwt = new WeakMap<ModuleModel, boolean>();

/** `mayUseJwtLibrary` for a module, computed once per model: classification skips such modules' calls entirely. */
export function mayCallJwtLibrary(model: ModuleModel): boolean {
  let known = mentionsJwt.get(model);
  if (known === undefined) {
    known = mayUseJwtLibrary(model.text);
    mentionsJwt.set(model, known);
  }
  return known;
}

/** The JWT call at `call`, if it is one; answered once per call of a model (many rules and indexes ask). */
export function classifyJwtCall(model: ModuleModel, call: Node): JwtCall | undefined {
  if (!mayCallJwtLibrary(model)) return undefined;
  let known = classified.get(model);
  if (!known) classified.set(model, (known = new Map()));
  if (known.has(call.id)) return known.get(call.id);
  const fn = call.childForFieldName('function');
  const callee = model.resolveInstance(fn) ?? model.callee(call);
  const kind = callee ? classifyJwtCallee(callee) : undefined;
  const result = kind && callee ? { ...kind, call, callee } : undefined;
  known.set(call.id, result);
  return result;
}

const classified = new WeakMap<ModuleModel, Map<number, JwtCall | undefined>>();

/** JWT library calls inside `scope` (a function body or the module), not looking into nested functions. */
export function jwtCallsIn(model: ModuleModel, scope: Node): JwtCall[] {
  if (!mayCallJwtLibrary(model)) return [];
  const out: JwtCall[] = [];
  for (const call of descendantsInScope(scope, 'call')) {
    const c = classifyJwtCall(model, call);
    if (c) out.push(c);
  }
  return out;
}

/** Every JWT library call in the module, including those inside functions. */
export function allJwtCalls(model: ModuleModel): JwtCall[] {
  if (!mayCallJwtLibrary(model)) return [];
  let calls = everyJwtCall.get(model);
  if (!calls) {
    calls = [];
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      const c = classifyJwtCall(model, call);
      if (c) calls.push(c);
    }
    everyJwtCall.set(model, calls);
  }
  return calls.slice();
}

const everyJwtCall = new WeakMap<ModuleModel, JwtCall[]>();
