/**
 * The vocabulary of JWT claims and how code reads them: which claim names identify a user, which say what kind of
 * token it is, which hold secrets; and the reads of a claims dict inside a function (`payload.get("sub")`,
 * `payload["type"]`). Pure functions of one module's syntax; knows nothing of other files or of rules.
 */
import type { Node } from 'web-tree-sitter';
import { callArguments, children, descendantsInScope, stringValue } from './syntax';

/** Claims that carry the user's stable identifier. */
export const IDENTITY_CLAIMS: ReadonlySet<string> = new Set(['sub', 'user_id', 'userId', 'uid', 'id']);

/** Claims that describe the user but do not identify them stably (mutable, reusable, often unverified). */
export const NON_IDENTITY_CLAIMS: ReadonlySet<string> = new Set(['email', 'name', 'preferred_username', 'nickname', 'given_name']);

/** Claims that say what a token is for (`{"type": "refresh"}`). */
export const KIND_CLAIMS: readonly string[] = ['type', 'token_type', 'typ', 'scope', 'purpose', 'kind', 'token_use', 'use'];

/**
 * Words that make a claim name (or an attribute read into a claim) a secret. Split on `_` and camelCase, so
 * `hashed_password`, `passwordHash`, `client_secret` and `apiKey` match while `password_changed_at` (a timestamp
 * used to revoke old tokens) and `secretary` do not.
 */
const SECRET_WORDS = new Set(['password', 'passwd', 'pwd', 'passphrase', 'secret', 'apikey', 'privatekey']);
const SECRET_PAIRS = new Set(['api_key', 'private_key', 'access_key', 'secret_key', 'signing_key', 'pass_hash', 'pw_hash', 'api_token']);
/** Trailing words that turn a secret-sounding name into metadata about the secret. */
const METADATA_WORDS = new Set(['at', 'changed', 'updated', 'set', 'version', 'expires', 'expiry', 'exp', 'reset', 'required', 'policy', 'length', 'len', 'hint', 'id', 'count', 'attempts', 'enabled', 'verified', 'type', 'rotated']);

export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** True for `password`, `hashed_password`, `client_secret`, `api_key`, `SECRET_KEY`, `totp_secret`. */
export function isSecretName(name: string): boolean {
  const words = nameWords(name);
  if (words.length === 0) return false;
  if (METADATA_WORDS.has(words[words.length - 1]) && words.length > 1) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  for (let i = 0; i + 1 < words.length; i++) if (SECRET_PAIRS.has(`${words[i]}_${words[i + 1]}`)) return true;
  return false;
}

export interface ClaimRead {
  /** The claim name. */
  claim: string;
  /** The whole read: `payload.get("sub")` or `payload["sub"]`. */
  node: Node;
  /** The claims object read from (`payload`). */
  object: Node;
  /** `get` reads can be None; subscripts raise KeyError instead. */
  via: 'get' | 'subscript' | 'attribute';
  /** `payload.get("sub", default)`: the default, when given. */
  fallback?: Node;
}

/** A claim read from `node` if it is one: `obj.get("k")`, `obj.get("k", d)`, `obj["k"]`. */
export function claimReadAt(node: Node): ClaimRead | undefined {
  if (node.type === 'call') {
    const fn = node.childForFieldName('function');
    if (fn?.type !== 'attribute' || fn.childForFieldName('attribute')?.text !== 'get') return undefined;
    const object = fn.childForFieldName('object');
    const args = callArguments(node);
    const claim = stringValue(args.positional[0]);
    if (!object || claim === undefined) return undefined;
    return { claim, node, object, via: 'get', fallback: args.positional[1] };
  }
  if (node.type === 'subscript') {
    const object = node.childForFieldName('value');
    const claim = stringValue(node.childForFieldName('subscript'));
    if (!object || claim === undefined) return undefined;
    return { claim, node, object, via: 'subscript' };
  }
  return undefined;
}

/**
 * Claim reads inside `scope` (not in nested functions) whose object is one of `objects` (names or dotted
 * expressions such as `payload`, `token_data`); all reads of string keys when `objects` is undefined.
 */
export function claimReadsIn(scope: Node, objects?: ReadonlySet<string>): ClaimRead[] {
  const out: ClaimRead[] = [];
  for (const node of descendantsInScope(scope, ['call', 'subscript'])) {
    // `payload["type"] = "refresh"` writes a claim; it does not read one.
    if (node.type === 'subscript' && node.parent?.type === 'assignment' && node.parent.childForFieldName('left')?.id === node.id) continue;
    const read = claimReadAt(node);
    if (read && (!objects || objects.has(read.object.text))) out.push(read);
  }
  return out;
}

/** The string literals a dict literal uses as keys (for `{"type": "refresh"}`-style payloads). */
export function literalKeys(dict: Node): string[] {
  if (dict.type !== 'dictionary') return [];
  return children(dict)
    .filter((p) => p.type === 'pair')
    .map((p) => stringValue(p.childForFieldName('key')))
    .filter((k): k is string => k !== undefined);
}
