/**
 * How a module answers errors: `except` clauses with what they catch and the name they bind, the JWT libraries'
 * exception classes, and the calls that become HTTP error responses (`HTTPException(status_code=..., detail=...)`,
 * `JSONResponse(..., status_code=...)`, `WebSocketException`) with their status and message arguments.
 * Pure functions of one module model; knows nothing of other files or of rules.
 */
import type { Node } from 'web-tree-sitter';
import { statusCodeOf, type ModuleModel } from './module-model';
import { callArguments, children, descendantsInScope } from './syntax';

export interface ExceptClause {
  clause: Node;
  /** The `try` body the clause guards. */
  tryBody?: Node;
  /** The caught exception expressions (empty for a bare `except:`). */
  types: Node[];
  /** Their qualified names, where resolvable. */
  typeNames: string[];
  /** `e` of `except X as e`. */
  name?: string;
  body?: Node;
}

/** The `except` clauses inside `scope`, not looking into nested functions. */
export function exceptClausesIn(model: ModuleModel, scope: Node): ExceptClause[] {
  return descendantsInScope(scope, 'except_clause').map((clause) => exceptClause(model, clause));
}

export function exceptClause(model: ModuleModel, clause: Node): ExceptClause {
  const tryStmt = clause.parent;
  const tryBody = tryStmt?.type === 'try_statement' ? (tryStmt.childForFieldName('body') ?? undefined) : undefined;
  const body = children(clause).find((c) => c.type === 'block');
  let value: Node | undefined = clause.childForFieldName('value') ?? children(clause).find((c) => c.type !== 'block');
  let name: string | undefined;
  if (value?.type === 'as_pattern') {
    const alias = value.childForFieldName('alias');
    name = alias ? (children(alias)[0]?.text ?? alias.text) : undefined;
    value = children(value)[0];
  }
  const alias = clause.childForFieldName('alias');
  if (!name && alias) name = alias.text;
  const types = !value ? [] : value.type === 'tuple' || value.type === 'parenthesized_expression' ? children(value) : [value];
  const typeNames = types.map((t) => model.resolve(t)).filter((t): t is string => !!t);
  return { clause, tryBody, types, typeNames, name, body };
}

/** PyJWT, python-jose, authlib and joserfc exception classes (`jwt.ExpiredSignatureError`, `jose.JWTError`). */
export function isJwtException(qualified: string): boolean {
  return /^(jwt|jose|authlib\.jose|joserfc)\.(exceptions?\.|errors\.|jwt\.)?\w*(Error|Exception|Expired\w*|Invalid\w*)$/.test(qualified);
}

/** `Exception`, `BaseException` or a bare `except:`: catches anything, including the decode's failures. */
export function isBroadCatch(clause: ExceptClause): boolean {
  return clause.types.length === 0 || clause.typeNames.some((t) => t === 'Exception' || t === 'BaseException' || t === 'builtins.Exception');
}

export type ResponseKind = 'http-exception' | 'response' | 'websocket-exception';

export interface ErrorResponse {
  kind: ResponseKind;
  call: Node;
  /** The status expression, when written. */
  statusNode?: Node;
  /** The status number, when it can be read (`401`, `status.HTTP_401_UNAUTHORIZED`). */
  status?: number;
  /** `detail=` of an exception, `content=` of a response, `reason=` of a websocket exception. */
  message?: Node;
  headers?: Node;
}

const HTTP_EXCEPTIONS = /^(fastapi(\.exceptions)?\.HTTPException|starlette\.exceptions\.HTTPException)$/;
const WS_EXCEPTIONS = /^(fastapi(\.exceptions)?\.WebSocketException|starlette\.exceptions\.WebSocketException)$/;
const RESPONSES = /^(fastapi|starlette)\.(responses\.)?(JSONResponse|PlainTextResponse|HTMLResponse|ORJSONResponse|UJSONResponse|Response)$/;

/** Reads a call that builds an HTTP answer: an `HTTPException`, a `WebSocketException` or a `Response` class. */
export function errorResponseAt(model: ModuleModel, call: Node): ErrorResponse | undefined {
  if (call.type !== 'call') return undefined;
  const callee = model.callee(call);
  if (!callee) return undefined;
  const args = callArguments(call);
  if (HTTP_EXCEPTIONS.test(callee) || callee === 'HTTPException') {
    const statusNode = args.keywords.get('status_code') ?? args.positional[0];
    return { kind: 'http-exception', call, statusNode, status: statusCodeOf(statusNode), message: args.keywords.get('detail') ?? args.positional[1], headers: args.keywords.get('headers') ?? args.positional[2] };
  }
  if (WS_EXCEPTIONS.test(callee)) {
    const statusNode = args.keywords.get('code') ?? args.positional[0];
    return { kind: 'websocket-exception', call, statusNode, status: statusCodeOf(statusNode), message: args.keywords.get('reason') ?? args.positional[1] };
  }
  if (RESPONSES.test(callee)) {
    const statusNode = args.keywords.get('status_code') ?? args.positional[1];
    return {
      kind: 'response',
      call,
      statusNode,
      status: statusNode ? statusCodeOf(statusNode) : 200,
      message: args.keywords.get('content') ?? args.positional[0],
      headers: args.keywords.get('headers') ?? args.positional[2],
    };
  }
  return undefined;
}
