/**
 * The algorithm a decode should pin: the configured `expected-algorithms`, else what the workspace shows (the
 * algorithm its own `encode` calls sign with, a JWKS / `PyJWKClient` key as Better Auth's JWT plugin publishes:
 * EdDSA), else HS256 for a shared secret. Also the HMAC/asymmetric families. Knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { Settings } from '../core/settings';
import type { Workspace } from './workspace';
import { decodeAlgorithms } from '../python/jwt-decode';
import { allJwtCalls } from '../python/jwt-libs';
import { jwtKeyUses, keyOrigin } from './jwt-values';

export type AlgorithmSource = 'configured' | 'encode' | 'jwks' | 'secret';

export interface ExpectedAlgorithms {
  algorithms: string[];
  source: AlgorithmSource;
  /** Human words for messages: "configured", "the workspace's own `encode` calls" ... */
  reason: string;
}

export function isHmacAlgorithm(alg: string): boolean {
  return /^HS(256|384|512)$/i.test(alg);
}

export function isAsymmetricAlgorithm(alg: string): boolean {
  return /^(RS|PS|ES)(256|384|512)$|^ES256K$|^EdDSA$/i.test(alg);
}

/** The algorithms a decode in `file` whose key is `key` should accept. */
export function expectedAlgorithms(ws: Workspace, settings: Settings, file: string, key: Node | undefined): ExpectedAlgorithms {
  if (settings.expectedAlgorithms?.length) {
    return { algorithms: [...settings.expectedAlgorithms], source: 'configured', reason: 'the configured `expected-algorithms`' };
  }
  const origin = key ? keyOrigin(ws, file, key) : undefined;
  if (origin?.kind === 'jwk') return { algorithms: ['EdDSA'], source: 'jwks', reason: 'a JWKS key (Better Auth publishes EdDSA keys)' };
  const signed = encodeAlgorithms(ws);
  if (signed.size === 1) {
    const [alg] = [...signed];
    return { algorithms: [alg], source: 'encode', reason: `the workspace signs its tokens with \`${alg}\`` };
  }
  if (origin?.kind !== 'literal' && origin?.kind !== 'env' && usesJwks(ws)) {
    return { algorithms: ['EdDSA'], source: 'jwks', reason: 'the workspace verifies against a JWKS (Better Auth publishes EdDSA keys)' };
  }
  return { algorithms: ['HS256'], source: 'secret', reason: 'a shared secret signs with HS256' };
}

/** The literal algorithms the workspace's own `encode` calls sign with (PyJWT/jose default to HS256). */
export function encodeAlgorithms(ws: Workspace): Set<string> {
  return ws.memo('jwt-algorithms:encode', () => {
    const out = new Set<string>();
    for (const use of jwtKeyUses(ws)) {
      if (use.call.jwt.kind !== 'encode' || use.call.jwt.library === 'authlib') continue;
      const model = ws.model(use.file.path);
      if (!model) continue;
      if (!use.call.algorithms) {
        if (!use.call.hasSplat) out.add('HS256');
        continue;
      }
      const info = decodeAlgorithms(model, { ...use.call });
      for (const v of info.values ?? []) out.add(v);
    }
    return out;
  });
}

/** True when any workspace module builds a `PyJWKClient` or fetches a JWKS. */
export function usesJwks(ws: Workspace): boolean {
  return ws.memo('jwt-algorithms:jwks', () => {
    for (const file of ws.filesMentioning(/jwk/i)) {
      const model = ws.model(file.path);
      if (!model) continue;
      if (allJwtCalls(model).some((c) => c.kind === 'jwk-client' || c.kind === 'signing-key')) return true;
      if (/jwks/i.test(file.text) && /\b(jwk|PyJWK|JsonWebKey)\b/.test(file.text)) return true;
    }
    return false;
  });
}
