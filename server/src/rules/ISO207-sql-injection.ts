import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ModuleModel } from '../python/module-model';
import { ensureImport } from '../python/edits';
import { callArguments, children, dottedName, enclosingFunction, literalValue, rangeOf, stringValue } from '../python/syntax';
import type { Fix, TextEdit } from '../core/types';

type MessageId = 'direct' | 'variable';

export const ISO207 = defineRule<MessageId>({
  code: 'ISO207',
  name: 'sql-injection',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [11],
  prescan: (file) => maySpliceSql(file.text, file.moduleName),
  messages: {
    direct: 'SQL text passed to `{sink}` is built with {how} from `{value}`',
    variable: 'SQL text `{name}` passed to `{sink}` is built with {how} from `{value}` at line {line}',
  },
  docs: `## What it does
Finds SQL text built from values with an f-string, \`%\` formatting, \`.format()\` or \`+\` and passed to
SQLAlchemy's \`text()\`/\`literal_column()\`, \`execute()\`, \`exec_driver_sql()\`, Django's \`raw()\`, a DB-API
cursor (\`cursor.execute\`), \`databases\`' \`fetch_all(query=...)\` or asyncpg's \`fetch()\`, directly or through a local
variable. Constant text, bound parameters, f-strings made
only of constants (module constants, \`int\`-typed values, \`"ASC" if asc else "DESC"\`, generated placeholder lists)
are not reported.

## Why is this bad?
A value spliced into SQL text is parsed as SQL, so a client who controls it can rewrite the query: read other
users' rows, bypass the owner filter that isolates tenants, or change data. Bound parameters are sent apart from
the SQL and are never parsed as SQL.

## Example
\`\`\`python
from sqlalchemy import text
from sqlalchemy.orm import Session


def tasks_of(session: Session, user_id: str):
    return session.execute(text(f"SELECT * FROM task WHERE user_id = '{user_id}'")).all()
\`\`\`

## Use instead
\`\`\`python
from sqlalchemy import text
from sqlalchemy.orm import Session


def tasks_of(session: Session, user_id: str):
    return session.execute(text("SELECT * FROM task WHERE user_id = :user_id"), {"user_id": user_id}).all()
\`\`\`

## Fix safety
Unsafe, and offered only where the rewrite is mechanical: an f-string whose interpolations are plain names in value
positions, inside \`text()\` (rewritten to \`:name\` parameters passed to \`execute\` or \`.bindparams()\`), or
passed to a DB-API cursor whose driver's placeholder style is known from the imports (\`%s\` for psycopg/PyMySQL,
\`?\` for sqlite3). Values that were spliced as text become typed parameters, which a database may compare
differently (\`'42'\` versus \`42\`): review the query. Table or column names cannot be bound; those findings have no
fix and need an allow-list.

## References
- [SQLAlchemy: Using Textual SQL (bound parameters)](https://docs.sqlalchemy.org/en/20/tutorial/dbapi_transactions.html#sending-parameters)
- [PEP 249: paramstyle](https://peps.python.org/pep-0249/#paramstyle)
- [OWASP: SQL Injection Prevention Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html)
`,
  check(ctx) {
    const { model } = ctx;
    for (const call of model.root.descendantsOfType('call')) {
      if (!call) continue;
      const sink = sinkOf(model, call);
      if (!sink) continue;
      const args = callArguments(call);
      const arg = args.positional[0] ?? args.keywords.get('query') ?? args.keywords.get('sql') ?? args.keywords.get('statement');
      if (!arg) continue;
      const scope = scopeOf(call);
      const direct = builtString(ctx, arg, scope);
      if (direct) {
        if (!sink.alwaysSql && !looksLikeSql(direct.constantText)) continue;
        ctx.report({
          node: arg,
          messageId: 'direct',
          data: { sink: sink.label, how: direct.how, value: direct.value },
          fix: fixFor(ctx, call, sink, arg, scope),
        });
        continue;
      }
      if (arg.type !== 'identifier' || isParameter(scope, arg.text)) continue;
      const values = reachingValues(model.localAssignments(scope).get(arg.text) ?? [], call);
      const built = values.map((v) => ({ node: v, build: builtString(ctx, v, scope) })).find((b) => b.build);
      if (!built?.build) continue;
      const allText = values.map((v) => constantParts(v)).join(' ');
      if (!sink.alwaysSql && !looksLikeSql(allText)) continue;
      ctx.report({
        node: arg,
        messageId: 'variable',
        data: { name: arg.text, sink: sink.label, how: built.build.how, value: built.build.value, line: built.node.startPosition.row + 1 },
        related: [{ file: ctx.file.path, range: rangeOf(built.node), message: `\`${arg.text}\` is built here` }],
      });
    }
  },
});

/**
 * The assignments to a name that can reach `use`: those before it, starting from the last plain one whose block
 * encloses the use (it overwrites everything earlier on every path), plus, when the use is in a loop, the
 * assignments later in that loop (they reach it on the next iteration). `q = "SELECT ..."` after a loop that
 * formatted another `q` is then not mistaken for the formatted one.
 */
function reachingValues(values: Node[], use: Node): Node[] {
  const before = values.filter((v) => v.startIndex < use.startIndex);
  let from = 0;
  before.forEach((v, i) => {
    // `sql += ...` extends the earlier value rather than replacing it.
    if (v.parent?.type === 'augmented_assignment') return;
    const block = enclosingBlock(v);
    if (block && block.startIndex <= use.startIndex && use.endIndex <= block.endIndex) from = i;
  });
  const reaching = before.slice(from);
  const loop = enclosingLoop(use);
  if (loop) reaching.push(...values.filter((v) => v.startIndex > use.endIndex && v.endIndex <= loop.endIndex));
  return reaching;
}

function enclosingBlock(node: Node): Node | null {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'block' || p.type === 'module') return p;
  return null;
}

function enclosingLoop(node: Node): Node | null {
  for (let p = node.parent; p; p = p.parent) {
    if (p.type === 'for_statement' || p.type === 'while_statement') return p;
    if (p.type === 'function_definition') return null;
  }
  return null;
}

// ---- sinks --------------------------------------------------------------------------------------

interface Sink {
  kind: 'text' | 'execute' | 'other';
  /** How the call reads in the message (`text`, `session.execute`). */
  label: string;
  /** `text()` always takes SQL; for `execute` on unknown objects the text must look like SQL to count. */
  alwaysSql: boolean;
}

const TEXT_CALLEES = new Set(['sqlalchemy.text', 'sqlalchemy.sql.text', 'sqlalchemy.sql.expression.text', 'sqlmodel.text']);
const LITERAL_COLUMN = new Set(['sqlalchemy.literal_column', 'sqlalchemy.sql.literal_column', 'sqlalchemy.sql.expression.literal_column', 'sqlmodel.literal_column']);
const EXECUTE_METHODS = new Set(['execute', 'executemany', 'executescript', 'exec_driver_sql', 'raw']);
/** `databases` (`fetch_all(query=...)`) and asyncpg (`conn.fetch(...)`): generic names, so the text must look like SQL. */
const FETCH_METHODS = new Set(['fetch_all', 'fetch_one', 'fetch_val', 'iterate', 'fetch', 'fetchrow', 'fetchval']);

function sinkOf(model: ModuleModel, call: Node): Sink | undefined {
  const fn = call.childForFieldName('function');
  const callee = model.callee(call);
  if (callee && TEXT_CALLEES.has(callee)) return { kind: 'text', label: dottedName(fn) ?? 'text', alwaysSql: true };
  if (callee && LITERAL_COLUMN.has(callee)) return { kind: 'other', label: dottedName(fn) ?? 'literal_column', alwaysSql: true };
  if (fn?.type !== 'attribute') return undefined;
  const method = fn.childForFieldName('attribute')?.text ?? '';
  if (FETCH_METHODS.has(method)) return { kind: 'other', label: `${dottedName(fn.childForFieldName('object')) ?? '…'}.${method}`, alwaysSql: false };
  if (!EXECUTE_METHODS.has(method)) return undefined;
  const object = fn.childForFieldName('object');
  const label = `${dottedName(object) ?? '…'}.${method}`;
  return { kind: 'execute', label, alwaysSql: method === 'exec_driver_sql' || method === 'executescript' };
}

// ---- prescan -------------------------------------------------------------------------------------------------

/**
 * `text()` / `literal_column()` resolve to `sqlalchemy.`/`sqlmodel.` names through this file's imports, or through
 * relative imports inside those packages' own modules.
 */
const SQLALCHEMY_TEXT_SINK = /\b(text|literal_column)\b/;
const SQLALCHEMY = /sqlalchemy|sqlmodel/;
const SQLALCHEMY_MODULE = /^(sqlalchemy|sqlmodel)(\.|$)/;
/**
 * A method call `.name(`: between the name and `(` Python allows blanks and continuations, and inside brackets
 * newlines and comments too. An attribute that is not called (`self.raw`) is not a sink.
 */
const methodCall = (names: string) => new RegExp(String.raw`\.[\s\\]*(?:${names})(?:\s|\\|#[^\n]*)*\(`);
/** Method sinks whose text is SQL whatever it looks like (`alwaysSql`). */
const ALWAYS_SQL_METHOD = methodCall('exec_driver_sql|executescript');
/** The other method sinks (`EXECUTE_METHODS`, `FETCH_METHODS`): reported only when the constant text looks like SQL. */
const SQL_METHOD = methodCall('execute|executemany|raw|fetch_all|fetch_one|fetch_val|iterate|fetch|fetchrow|fetchval');
/**
 * A keyword `SQL_SHAPE` cannot match without, with the boundaries it has in the string contents that
 * `looksLikeSql` joins by spaces: after a non-word character, or after an escape sequence (`"\nWHERE"`) for a
 * grammar that puts escapes beside `string_content` rather than inside it (the current one puts them inside);
 * before a non-word character (a space, an escape's backslash, a quote, `{`, `(`).
 */
const SQL_KEYWORD =
  /(?<=^|\W|\\[abfnrtv]|\\x[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\\[0-7]{1,3})(select|insert|update|delete|where|create|drop|alter|truncate|order|group|values)(?!\w)/i;

/**
 * A necessary condition for a finding: a sink spelled in this file (`text`/`literal_column` with SQLAlchemy or
 * SQLModel imported, or an `execute`-like method), and for the sinks that need SQL-looking text, an SQL keyword.
 */
function maySpliceSql(text: string, moduleName: string): boolean {
  if (SQLALCHEMY_TEXT_SINK.test(text) && (SQLALCHEMY.test(text) || SQLALCHEMY_MODULE.test(moduleName))) return true;
  if (ALWAYS_SQL_METHOD.test(text)) return true;
  return SQL_METHOD.test(text) && SQL_KEYWORD.test(text);
}

function scopeOf(node: Node): Node {
  const fn = enclosingFunction(node);
  return fn?.childForFieldName('body') ?? rootOf(node);
}

function rootOf(node: Node): Node {
  let n = node;
  while (n.parent) n = n.parent;
  return n;
}

function isParameter(scope: Node, name: string): boolean {
  return paramNodes(scope).some((p) => paramName(p) === name);
}

function paramNodes(scope: Node): Node[] {
  const fn = scope.parent?.type === 'function_definition' ? scope.parent : undefined;
  const list = fn?.childForFieldName('parameters');
  return list ? children(list) : [];
}

function paramName(p: Node): string | undefined {
  if (p.type === 'identifier') return p.text;
  if (p.type === 'typed_parameter') return children(p)[0]?.type === 'identifier' ? children(p)[0].text : undefined;
  if (p.type === 'default_parameter' || p.type === 'typed_default_parameter') return p.childForFieldName('name')?.text;
  return undefined;
}

// ---- string building ----------------------------------------------------------------------------

interface Build {
  how: string;
  /** The first non-constant value spliced in. */
  value: string;
  /** The constant SQL around the values, for the looks-like-SQL test. */
  constantText: string;
}

/** How `node` builds a string from non-constant values, if it does. */
function builtString(ctx: RuleContext<MessageId>, node: Node, scope: Node): Build | undefined {
  const expr = unparen(node);
  if (expr.type === 'string') {
    const values = children(expr).filter((c) => c.type === 'interpolation').map((i) => i.childForFieldName('expression') ?? children(i)[0]);
    const unsafe = values.find((v) => v && !isConstantExpr(ctx, v, scope, new Set()));
    return unsafe ? { how: 'an f-string', value: unsafe.text, constantText: constantParts(expr) } : undefined;
  }
  if (expr.type === 'concatenated_string') {
    for (const part of children(expr)) {
      const b = builtString(ctx, part, scope);
      if (b) return { ...b, constantText: constantParts(expr) };
    }
    return undefined;
  }
  if (expr.type === 'binary_operator') {
    const op = expr.childForFieldName('operator')?.text;
    const left = expr.childForFieldName('left');
    const right = expr.childForFieldName('right');
    if (!left || !right) return undefined;
    if (op === '%' && isStringish(ctx, left, scope)) {
      const values = right.type === 'tuple' ? children(right) : [right];
      const unsafe = values.find((v) => !isConstantExpr(ctx, v, scope, new Set()));
      return unsafe ? { how: '`%` formatting', value: unsafe.text, constantText: constantParts(left) } : undefined;
    }
    if (op === '+') {
      const operands = flattenPlus(expr);
      if (!operands.some((o) => isStringish(ctx, o, scope))) return undefined;
      const unsafe = operands.find((o) => !isConstantExpr(ctx, o, scope, new Set()));
      if (!unsafe) return undefined;
      const inner = builtString(ctx, unsafe, scope);
      return {
        how: inner?.how === 'an f-string' ? 'an f-string' : 'string concatenation',
        value: inner?.value ?? unsafe.text,
        constantText: operands.map(constantParts).join(' '),
      };
    }
    return undefined;
  }
  if (expr.type === 'call') {
    const fn = expr.childForFieldName('function');
    if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'format') {
      const receiver = fn.childForFieldName('object');
      if (!receiver || !isStringish(ctx, receiver, scope)) return undefined;
      const args = callArguments(expr);
      const values = [...args.positional, ...args.keywords.values(), ...args.splats];
      const unsafe = values.find((v) => !isConstantExpr(ctx, v, scope, new Set()));
      return unsafe ? { how: '`.format()`', value: unsafe.text, constantText: constantParts(receiver) } : undefined;
    }
  }
  return undefined;
}

function flattenPlus(node: Node): Node[] {
  const expr = unparen(node);
  if (expr.type === 'binary_operator' && expr.childForFieldName('operator')?.text === '+') {
    return [...flattenPlus(expr.childForFieldName('left')!), ...flattenPlus(expr.childForFieldName('right')!)];
  }
  return [expr];
}

/** A string literal, or a local/module name holding one (the template of `%` or `.format`). */
function isStringish(ctx: RuleContext<MessageId>, node: Node, scope: Node): boolean {
  const expr = unparen(node);
  if (expr.type === 'string' || expr.type === 'concatenated_string') return true;
  if (expr.type === 'identifier') {
    const local = ctx.model.localAssignments(scope).get(expr.text);
    if (local?.length) return local.some((v) => v.type === 'string' || v.type === 'concatenated_string');
    return typeof ctx.model.constantValue(expr.text) === 'string';
  }
  return false;
}

const SAFE_ANNOTATIONS = /^(int|float|bool|UUID|uuid\.UUID|Decimal|decimal\.Decimal|datetime|date|datetime\.datetime|datetime\.date)$/;
const NUMERIC_CALLS = new Set(['int', 'float', 'len', 'bool', 'abs', 'round', 'min', 'max', 'uuid.UUID', 'uuid.uuid4']);

/**
 * True when the value cannot carry SQL chosen by a client: literals, constants (module, class, imported from a
 * workspace module), numbers and typed parameters (`int`, `UUID`), choices between constants and placeholder lists.
 */
function isConstantExpr(ctx: RuleContext<MessageId>, node: Node, scope: Node, safeNames: Set<string>, depth = 0): boolean {
  if (depth > 6) return false;
  const expr = unparen(node);
  const again = (n: Node | null | undefined) => !!n && isConstantExpr(ctx, n, scope, safeNames, depth + 1);
  if (literalValue(expr) !== undefined) return true;
  switch (expr.type) {
    case 'integer':
    case 'float':
    case 'true':
    case 'false':
    case 'none':
      return true;
    case 'string':
      return children(expr).filter((c) => c.type === 'interpolation').every((i) => again(i.childForFieldName('expression') ?? children(i)[0]));
    case 'concatenated_string':
      return children(expr).every(again);
    case 'identifier': {
      const name = expr.text;
      if (safeNames.has(name)) return true;
      const param = paramNodes(scope).find((p) => paramName(p) === name);
      if (param) {
        const annotation = param.childForFieldName('type')?.text.replace(/\s/g, '');
        return !!annotation && SAFE_ANNOTATIONS.test(annotation.replace(/^Optional\[(.*)\]$/, '$1'));
      }
      const local = ctx.model.localAssignments(scope).get(name);
      if (local?.length) return local.every(again);
      const loop = loopOver(expr, name);
      if (loop) return isConstantCollection(ctx, loop, scope, depth + 1);
      return isModuleConstant(ctx, name);
    }
    case 'attribute':
      return isModuleConstant(ctx, expr.text);
    case 'conditional_expression': {
      const parts = children(expr);
      // `a if cond else b`: only the two results reach the SQL.
      return parts.length === 3 && again(parts[0]) && again(parts[2]);
    }
    case 'binary_operator':
      return again(expr.childForFieldName('left')) && again(expr.childForFieldName('right'));
    case 'subscript': {
      // `COLUMNS[sort]` on a constant mapping can only yield one of its values (or raise).
      const value = expr.childForFieldName('value');
      return !!value && (literalValue(value) !== undefined || (value.type === 'identifier' && !isParameter(scope, value.text) && isModuleConstant(ctx, value.text)));
    }
    case 'call': {
      const callee = ctx.model.callee(expr) ?? '';
      if (NUMERIC_CALLS.has(callee)) return true;
      const fn = expr.childForFieldName('function');
      if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'join' && literalValue(fn.childForFieldName('object')) !== undefined) {
        // `", ".join(x for x in ...)` has the generator itself as its argument list.
        const argsNode = expr.childForFieldName('arguments');
        const first = argsNode?.type === 'generator_expression' ? argsNode : callArguments(expr).positional[0];
        return isPlaceholderList(ctx, first, scope, safeNames, depth + 1);
      }
      return false;
    }
    default:
      return false;
  }
}

/** The iterable of the `for name in <iterable>:` loop around `node` that binds `name`, if any. */
function loopOver(node: Node, name: string): Node | undefined {
  for (let p = node.parent; p && p.type !== 'function_definition'; p = p.parent) {
    if (p.type !== 'for_statement') continue;
    const left = p.childForFieldName('left');
    if (left?.type === 'identifier' && left.text === name) return p.childForFieldName('right') ?? undefined;
  }
  return undefined;
}

/**
 * A collection whose every element is constant: a literal (`("task", "note")`), a constant name, or a local list
 * built only from constants (`clauses = []` then `clauses.append("title = %s")`), the dynamic-filter idiom whose
 * values travel separately as parameters.
 */
function isConstantCollection(ctx: RuleContext<MessageId>, node: Node, scope: Node, depth: number): boolean {
  if (depth > 6) return false;
  const expr = unparen(node);
  if (literalValue(expr) !== undefined) return true;
  if (expr.type === 'list' || expr.type === 'tuple' || expr.type === 'set') return children(expr).every((c) => isConstantExpr(ctx, c, scope, new Set(), depth + 1));
  if (expr.type !== 'identifier') return false;
  if (isParameter(scope, expr.text)) return false;
  const assigned = ctx.model.localAssignments(scope).get(expr.text);
  if (!assigned?.length) return isModuleConstant(ctx, expr.text);
  if (!assigned.every((v) => isConstantCollection(ctx, v, scope, depth + 1))) return false;
  // Every element added later must be constant too.
  for (const call of scope.descendantsOfType('call')) {
    const fn = call?.childForFieldName('function');
    if (!call || fn?.type !== 'attribute' || fn.childForFieldName('object')?.text !== expr.text) continue;
    const method = fn.childForFieldName('attribute')?.text;
    const args = callArguments(call).positional;
    if ((method === 'append' || method === 'insert') && !isConstantExpr(ctx, args[args.length - 1] ?? call, scope, new Set(), depth + 1)) return false;
    if (method === 'extend' && !isConstantCollection(ctx, args[0] ?? call, scope, depth + 1)) return false;
  }
  return true;
}

/** `["%s"] * len(ids)`, `"?" * n`, `(f":id{i}" for i in range(len(ids)))`: generated placeholders, not values. */
function isPlaceholderList(ctx: RuleContext<MessageId>, node: Node | undefined, scope: Node, safeNames: Set<string>, depth: number): boolean {
  if (!node) return false;
  const expr = unparen(node);
  if (expr.type === 'identifier' || expr.type === 'list' || expr.type === 'tuple') return isConstantCollection(ctx, expr, scope, depth);
  if (expr.type === 'binary_operator' && expr.childForFieldName('operator')?.text === '*') {
    const left = expr.childForFieldName('left');
    return literalValue(left) !== undefined;
  }
  if (expr.type === 'list_comprehension' || expr.type === 'generator_expression') {
    const body = expr.childForFieldName('body');
    const names = new Set(safeNames);
    for (const clause of children(expr).filter((c) => c.type === 'for_in_clause')) {
      const left = clause.childForFieldName('left');
      const right = clause.childForFieldName('right');
      const over = right?.type === 'call' ? ctx.model.callee(right) : undefined;
      if (over === 'range' && left?.type === 'identifier') names.add(left.text);
      else if (over === 'enumerate' && left && (left.type === 'pattern_list' || left.type === 'tuple_pattern')) {
        const first = children(left)[0];
        if (first?.type === 'identifier') names.add(first.text);
      }
    }
    return !!body && isConstantExpr(ctx, body, scope, names, depth);
  }
  return literalValue(expr) !== undefined;
}

function isModuleConstant(ctx: RuleContext<MessageId>, dotted: string): boolean {
  const { model, workspace } = ctx;
  if (model.constantValue(dotted) !== undefined) return true;
  const head = dotted.split('.')[0];
  const binding = model.imports.get(head);
  if (!binding) return false;
  const located = workspace.locate(model.resolveDotted(dotted));
  if (!located || !located.member || located.file.path === ctx.file.path) return false;
  return workspace.model(located.file.path)?.constantValue(located.member) !== undefined;
}

function constantParts(node: Node): string {
  const expr = unparen(node);
  if (expr.type === 'string') return children(expr).filter((c) => c.type === 'string_content').map((c) => c.text).join(' ');
  if (expr.type === 'concatenated_string' || expr.type === 'binary_operator') return children(expr).map(constantParts).join(' ');
  if (expr.type === 'call') {
    const fn = expr.childForFieldName('function');
    return fn?.type === 'attribute' ? constantParts(fn.childForFieldName('object')!) : '';
  }
  return '';
}

const SQL_SHAPE =
  /\b(select\b[\s\S]*\bfrom|insert\s+into|update\s+[\w."`[\]]+\s+set|delete\s+from|where|create\s+(table|index|view)|drop\s+(table|index|view)|alter\s+table|truncate|order\s+by|group\s+by|values\s*\()\b/i;

function looksLikeSql(text: string): boolean {
  return SQL_SHAPE.test(text);
}

function unparen(node: Node): Node {
  let n = node;
  while (n.type === 'parenthesized_expression' && children(n).length === 1) n = children(n)[0];
  return n;
}

// ---- fixes --------------------------------------------------------------------------------------

type ParamStyle = 'named' | 'pyformat' | 'qmark';

const PYFORMAT_DRIVERS = ['psycopg2', 'psycopg', 'pymysql', 'MySQLdb', 'mysql.connector', 'pg8000'];
const QMARK_DRIVERS = ['sqlite3', 'aiosqlite'];

/** The rewrite to bound parameters where it is mechanical; undefined otherwise. */
function fixFor(ctx: RuleContext<MessageId>, call: Node, sink: Sink, arg: Node, scope: Node): Fix | undefined {
  const { model } = ctx;
  const args = callArguments(call);
  if (sink.kind === 'text') {
    if (arg.type !== 'string' || args.positional.length !== 1 || args.keywords.size || args.splats.length) return undefined;
    const rewrite = rewriteFString(arg, 'named');
    if (!rewrite) return undefined;
    const parent = call.parent?.type === 'argument_list' ? call.parent.parent : undefined;
    const outer = parent?.type === 'call' ? parent : undefined;
    const outerArgs = outer ? callArguments(outer) : undefined;
    const outerMethod = outer?.childForFieldName('function')?.childForFieldName('attribute')?.text;
    const names = unique(rewrite.params);
    const edits: TextEdit[] = [{ range: rangeOf(arg), newText: rewrite.literal }];
    if (outer && outerMethod === 'execute' && outerArgs!.positional.length === 1 && outerArgs!.positional[0].id === call.id && !outerArgs!.keywords.size && !outerArgs!.splats.length) {
      edits.push({ range: point(call.endPosition), newText: `, {${names.map((n) => `"${n.key}": ${n.expr}`).join(', ')}}` });
    } else {
      edits.push({ range: point(call.endPosition), newText: `.bindparams(${names.map((n) => `${n.key}=${n.expr}`).join(', ')})` });
    }
    return { title: 'Pass the values as bound parameters (unsafe: review the query)', safety: 'unsafe', edits };
  }
  if (sink.kind !== 'execute' || args.positional.length !== 1 || args.keywords.size || args.splats.length) return undefined;
  const method = call.childForFieldName('function')?.childForFieldName('attribute')?.text;
  if (method !== 'execute') return undefined;
  const receiver = call.childForFieldName('function')!.childForFieldName('object')!;
  const kind = receiverKind(model, receiver, scope);
  if (kind === 'dbapi') {
    const style = dbapiStyle(model);
    if (!style) return undefined;
    if (arg.type === 'string') {
      const rewrite = rewriteFString(arg, style);
      if (!rewrite) return undefined;
      return {
        title: 'Pass the values as query parameters (unsafe: review the query)',
        safety: 'unsafe',
        edits: [{ range: rangeOf(arg), newText: `${rewrite.literal}, ${tupleText(rewrite.params.map((p) => p.expr))}` }],
      };
    }
    const expr = unparen(arg);
    if (expr.type === 'binary_operator' && expr.childForFieldName('operator')?.text === '%' && style === 'pyformat') {
      const left = expr.childForFieldName('left')!;
      const right = expr.childForFieldName('right')!;
      const template = stringValue(left);
      if (left.type !== 'string' || template === undefined || /^[rRbBuU]*"""|^[rRbBuU]*'''/.test(left.text)) return undefined;
      // Only `%s` directives (optionally quoted, which parameters make unnecessary) and `%%`.
      if (/%(?!s|%)/.test(template.replace(/%%/g, ''))) return undefined;
      const values = right.type === 'tuple' ? children(right) : right.type === 'dictionary' ? undefined : [right];
      if (!values) return undefined;
      const m = /^([rRuU]*)(["'])([\s\S]*)\2$/.exec(left.text);
      if (!m) return undefined;
      const inner = m[3].replace(/'%s'|"%s"/g, '%s');
      // A placeholder inside a larger quoted literal (`'%s%%'`) would be quoted twice once bound.
      if (/['"]%s|%s['"]/.test(inner)) return undefined;
      const body = `${m[1]}${m[2]}${inner}${m[2]}`;
      return {
        title: 'Pass the values as query parameters (unsafe: review the query)',
        safety: 'unsafe',
        edits: [{ range: rangeOf(arg), newText: `${body}, ${tupleText(values.map((v) => v.text))}` }],
      };
    }
    return undefined;
  }
  if (kind === 'sqlalchemy' && arg.type === 'string') {
    const rewrite = rewriteFString(arg, 'named');
    if (!rewrite) return undefined;
    const binding = [...model.imports.values()].find((b) => TEXT_CALLEES.has(b.target));
    const imported = binding ? { local: binding.local } : ensureImport(model, 'sqlalchemy', 'text');
    const names = unique(rewrite.params);
    const edits: TextEdit[] = [
      { range: rangeOf(arg), newText: `${imported.local}(${rewrite.literal}), {${names.map((n) => `"${n.key}": ${n.expr}`).join(', ')}}` },
    ];
    if ('edit' in imported && imported.edit) edits.push(imported.edit);
    return { title: 'Wrap the SQL in `text()` with bound parameters (unsafe: review the query)', safety: 'unsafe', edits };
  }
  return undefined;
}

/** DB-API cursor or connection, an SQLAlchemy session/connection, or unknown. */
function receiverKind(model: ModuleModel, receiver: Node, scope: Node): 'dbapi' | 'sqlalchemy' | undefined {
  const imports = [...model.imports.values()].map((b) => b.target);
  const usesSqlAlchemy = imports.some((t) => t === 'sqlalchemy' || t.startsWith('sqlalchemy.') || t === 'sqlmodel' || t.startsWith('sqlmodel.'));
  const usesDriver = imports.some((t) => [...PYFORMAT_DRIVERS, ...QMARK_DRIVERS].some((d) => t === d || t.startsWith(`${d}.`)));
  if (receiver.type === 'identifier') {
    const values = model.localAssignments(scope).get(receiver.text) ?? model.assignments.get(receiver.text)?.map((a) => a.value) ?? [];
    for (const v of values) {
      if (v.type !== 'call') continue;
      const fn = v.childForFieldName('function');
      if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'cursor') return 'dbapi';
      const callee = model.callee(v) ?? '';
      if ([...PYFORMAT_DRIVERS, ...QMARK_DRIVERS].some((d) => callee.startsWith(`${d}.`))) return 'dbapi';
    }
  }
  if (receiver.type === 'call') {
    const fn = receiver.childForFieldName('function');
    if (fn?.type === 'attribute' && fn.childForFieldName('attribute')?.text === 'cursor') return 'dbapi';
  }
  const name = (dottedName(receiver) ?? '').split('.').pop() ?? '';
  if (/^(cur|cursor|\w+_cursor|\w+_cur)$/i.test(name) && usesDriver) return 'dbapi';
  if (usesSqlAlchemy && !usesDriver && /^(session|db|db_session|conn|connection|engine|s)$/i.test(name)) return 'sqlalchemy';
  return undefined;
}

function dbapiStyle(model: ModuleModel): ParamStyle | undefined {
  const imports = [...model.imports.values()].map((b) => b.target);
  const has = (list: string[]) => imports.some((t) => list.some((d) => t === d || t.startsWith(`${d}.`)));
  const pyformat = has(PYFORMAT_DRIVERS);
  const qmark = has(QMARK_DRIVERS);
  if (pyformat === qmark) return undefined;
  return pyformat ? 'pyformat' : 'qmark';
}

interface Param {
  key: string;
  expr: string;
}

/**
 * An f-string whose interpolations are plain names or attribute chains in value positions, rewritten as a plain
 * literal with placeholders; undefined when any part is not mechanical (conversions, format specs, identifiers
 * spliced as table or column names, a quote around more than the value).
 */
function rewriteFString(node: Node, style: ParamStyle): { literal: string; params: Param[] } | undefined {
  const parts = node.children.filter((c): c is Node => c !== null);
  const start = parts[0];
  const end = parts[parts.length - 1];
  if (start?.type !== 'string_start' || end?.type !== 'string_end') return undefined;
  const prefix = start.text.replace(/[fF]/, '');
  if (/[bB]/.test(prefix)) return undefined;
  const pieces: ({ text: string } | { param: Param })[] = [];
  for (const p of parts.slice(1, -1)) {
    if (p.type === 'string_content' || p.type === 'escape_sequence') {
      let text = p.text.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
      if (style === 'pyformat') text = text.replace(/%/g, '%%');
      if (style === 'named' && /(?<![:\w\\]):\w/.test(text)) return undefined;
      if (style === 'qmark' && text.includes('?')) return undefined;
      pieces.push({ text });
    } else if (p.type === 'interpolation') {
      const expr = p.childForFieldName('expression');
      if (!expr || p.childForFieldName('type_conversion') || p.childForFieldName('format_specifier')) return undefined;
      const dotted = dottedName(expr);
      if (!dotted) return undefined;
      pieces.push({ param: { key: dotted.replace(/\./g, '_'), expr: dotted } });
    } else {
      return undefined;
    }
  }
  let literal = '';
  const params: Param[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i];
    if ('text' in piece) {
      literal += piece.text;
      continue;
    }
    const next = pieces[i + 1];
    let before = literal;
    let after = next && 'text' in next ? next.text : '';
    // `'{x}'` becomes a bare placeholder: the parameter carries the quoting.
    const quote = /(['"])$/.exec(before)?.[1];
    if (quote) {
      if (!after.startsWith(quote)) return undefined;
      before = before.slice(0, -1);
      after = after.slice(1);
    }
    if (!/(=|<|>|<>|!=|\blike|\bilike|\blimit|\boffset|\bin\s*\(|\bvalues\s*\(|\(|,|\bthen|\belse|\bis|\bbetween|\band)\s*$/i.test(before)) return undefined;
    literal = before + (style === 'named' ? `:${piece.param.key}` : style === 'pyformat' ? '%s' : '?');
    if (next && 'text' in next) {
      literal += after;
      i++;
    }
    params.push(piece.param);
  }
  if (params.length === 0) return undefined;
  return { literal: `${prefix}${literal}${end.text}`, params };
}

function unique(params: Param[]): Param[] {
  const seen = new Map<string, Param>();
  for (const p of params) if (!seen.has(p.key)) seen.set(p.key, p);
  return [...seen.values()];
}

function tupleText(values: string[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

function point(p: { row: number; column: number }) {
  return { start: { line: p.row, character: p.column }, end: { line: p.row, character: p.column } };
}
