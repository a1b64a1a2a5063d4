/**
 * Control-flow facts the JWT rules share: whether a name is checked by an `if ...: raise` guard (or `assert`),
 * whether an `except` clause catches token-verification failures, and how an except handler ends.
 * Pure functions of one module model; knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { ModuleModel } from './module-model';
import { children, descendantsInScope } from './syntax';

/** True when `block` (or a nested statement in it, not a nested function) raises. */
export function blockRaises(block: Node | null | undefined): boolean {
  return !!block && descendantsInScope(block, 'raise_statement').length > 0;
}

function mentions(node: Node | null | undefined, name: string): boolean {
  if (!node) return false;
  if (node.type === 'identifier') return node.text === name;
  if (node.type === 'attribute') return node.text === name || mentions(node.childForFieldName('object'), name);
  return children(node).some((c) => mentions(c, name)) || node.text === name;
}

/**
 * True when, in `scope` and after `after` (if given), an `if` whose condition mentions `name` raises in its body,
 * or `assert name` appears: the usual `if payload is None: raise HTTPException(401)` guard.
 */
export function guardedByRaise(scope: Node, name: string, after?: Node): boolean {
  for (const stmt of descendantsInScope(scope, ['if_statement', 'assert_statement', 'elif_clause'])) {
    if (after && stmt.startIndex < after.startIndex) continue;
    if (stmt.type === 'assert_statement') {
      if (children(stmt).some((c) => mentions(c, name))) return true;
      continue;
    }
    if (!mentions(stmt.childForFieldName('condition'), name)) continue;
    if (blockRaises(stmt.childForFieldName('consequence'))) return true;
  }
  return false;
}

/** The exception names an `except` clause catches (`[]` for a bare `except:`). */
export function caughtExceptions(clause: Node): Node[] {
  const first = children(clause).find((c) => c.type !== 'block');
  if (!first) return [];
  let expr = first;
  if (expr.type === 'as_pattern') expr = children(expr)[0] ?? expr;
  if (expr.type === 'tuple' || expr.type === 'parenthesized_expression') return children(expr);
  return [expr];
}

/** The name an `except ... as e` clause binds, if any. */
export function exceptionName(clause: Node): string | undefined {
  const pattern = children(clause).find((c) => c.type === 'as_pattern');
  const alias = pattern?.childForFieldName('alias');
  return alias ? children(alias)[0]?.text ?? alias.text : undefined;
}

/** True when the clause catches what a JWT library raises on a bad token (its errors, `Exception`, bare). */
export function catchesJwtErrors(model: ModuleModel, clause: Node): boolean {
  const caught = caughtExceptions(clause);
  if (caught.length === 0) return true;
  return caught.some((c) => {
    const name = model.resolve(c) ?? c.text;
    return (
      name === 'Exception' ||
      name === 'BaseException' ||
      /^(jwt|jose|authlib|joserfc)\./.test(name) ||
      /^(PyJWTError|InvalidTokenError|DecodeError|ExpiredSignatureError|InvalidSignatureError|JWTError|JWTClaimsError|JoseError|ExpiredTokenError|BadSignatureError|InvalidClaimError|DecodeError)$/.test(name)
    );
  });
}
