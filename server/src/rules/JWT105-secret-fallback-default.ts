import type { Node } from 'web-tree-sitter';
import { defineRule, type RuleContext } from './rule';
import type { ClassInfo, ModuleModel } from '../python/module-model';
import type { Fix } from '../core/types';
import { ensureImport } from '../python/edits';
import { removeElementEdit } from '../python/jwt-decode';
import { blockRaises, guardedByRaise } from '../python/jwt-guards';
import { callArguments, children, descendantsInScope, isFString, isStringLike, rangeOf, stringValue } from '../python/syntax';
import { isSecretLikeName, isSettingsClass, jwtKeyUses, keyOrigin, textMayNameSecret, withoutStringSeams, type KeyOrigin } from '../workspace/jwt-values';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

type MessageId = 'envFallback' | 'settingsDefault' | 'setdefault';

type EnvOrigin = Extract<KeyOrigin, { kind: 'env' }>;

export const JWT105 = defineRule<MessageId>({
  code: 'JWT105',
  name: 'secret-fallback-default',
  severity: 'critical',
  fix: 'sometimes',
  checklist: [2, 10],
  messages: {
    envFallback: '`{read}` falls back to `{fallback}` when `{variable}` is unset, so a misconfigured deployment signs tokens with a known key',
    settingsDefault: '`{cls}.{field}` defaults to `{fallback}`, which is used whenever `{variable}` is not set',
    setdefault: '`{call}` installs `{fallback}` as `{variable}` whenever the environment does not set it',
  },
  docs: `## What it does
Finds a secret read from the environment with a literal fallback: \`os.getenv("X", "dev")\`,
\`os.environ.setdefault("X", "dev")\` (reported, no fix: the statement would have to go),
\`os.environ.get("X", "...")\`, python-decouple / Starlette \`config("X", default=...)\`, environs
\`env.str("X", "...")\`, and pydantic \`BaseSettings\` secret fields with a literal default (also through
\`Field(default=...)\`). A read counts as a secret when it feeds a JWT library's key (followed across modules) or
when the variable or field is named like one (\`*SECRET*\`, \`JWT_KEY\`, \`SIGNING_KEY\`, \`PRIVATE_KEY\`).

Not a finding: a fallback that start-up code rejects (\`if not SECRET_KEY or SECRET_KEY == "dev": raise ...\`
right after the read, or a pydantic validator on the field that raises).

## Why is this bad?
When the variable is missing (a new environment, a renamed key, a typo in the deployment), the application
starts anyway and signs and accepts tokens with a value anyone can read in the repository. The failure is silent.

## Example
\`\`\`python
import os

import jwt

SECRET_KEY = os.getenv("BETTER_AUTH_SECRET", "dev-secret")


def verify(token: str) -> dict:
    return jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
\`\`\`

## Use instead
\`\`\`python
import os

import jwt

SECRET_KEY = os.environ["BETTER_AUTH_SECRET"]


def verify(token: str) -> dict:
    return jwt.decode(token, SECRET_KEY, algorithms=["HS256"])
\`\`\`

## Fix safety
Unsafe: the fix drops the fallback (\`os.environ["X"]\`, \`config("X")\` without \`default\`, a settings field
without a default), so the application refuses to start where the variable is not set. That is the point, but
any environment that relied on the fallback (local development, CI) must set the variable first.

## References
- [Pydantic: Settings management](https://docs.pydantic.dev/latest/concepts/pydantic_settings/)
- [python-decouple](https://github.com/HBNetwork/python-decouple)
- [OWASP: Secrets Management Cheat Sheet](https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html)
- [CWE-1188: Initialization of a Resource with an Insecure Default](https://cwe.mitre.org/data/definitions/1188.html)
`,
  prescan: (file, ws) => mayReportIn(file, ws),
  check(ctx) {
    const { model } = ctx;
    const reported = new Set<number>();
    const keyFields = new Set<number>();
    // Environment reads that end up as a JWT key anywhere in the workspace.
    for (const use of jwtKeyUses(ctx.workspace)) {
      const origin = use.origin;
      if (origin.kind !== 'env' || origin.file !== ctx.file.path || origin.fallback === undefined) continue;
      if (origin.style === 'settings-field') keyFields.add(origin.node.id);
      else reportEnv(ctx, origin, reported);
    }
    // Environment reads of secret-like variables, or assigned to secret-like names.
    for (const call of model.root.descendantsOfType('call')) {
      if (!call || reported.has(call.id)) continue;
      // Only environment readers can be one; skip the origin analysis for every other call.
      if (!/getenv|environ|config|env\b|\.str$|\.bytes$/i.test(call.childForFieldName('function')?.text ?? '')) continue;
      const origin = keyOrigin(ctx.workspace, ctx.file.path, call);
      if (origin.kind !== 'env' || origin.style === 'settings-field' || origin.fallback === undefined || origin.node.id !== call.id) continue;
      const target = assignedName(call);
      if (!(origin.variable && isSecretLikeName(origin.variable)) && !(target && isSecretLikeName(target))) continue;
      reportEnv(ctx, origin, reported);
    }
    // `os.environ.setdefault("JWT_SECRET", "dev")` plants the fallback for every later read.
    for (const call of model.root.descendantsOfType('call')) {
      if (!call || model.callee(call) !== 'os.environ.setdefault') continue;
      const args = callArguments(call);
      const variable = stringValue(args.positional[0]);
      const fallback = args.positional[1];
      if (!variable || !isSecretLikeName(variable) || !fallback || !isStringLike(fallback) || isFString(fallback)) continue;
      if (guardedByRaise(scopeOf(model, call), variable, call)) continue;
      ctx.report({ node: call, messageId: 'setdefault', data: { call: 'os.environ.setdefault(...)', fallback: shorten(stringValue(fallback) ?? ''), variable } });
    }
    // A settings class ends at a base named `BaseSettings`, which some file spells: without one, asking each class
    // would only parse the modules its bases come from.
    if (mayDeclareSettings(ctx.workspace)) {
      for (const cls of model.classes) {
        if (isSettingsClass(ctx.workspace, model, cls)) checkSettingsClass(ctx, cls, keyFields);
      }
    }
  },
});

/**
 * Where the rule can report (checked before parsing). A JWT key read from the environment in this file with a
 * fallback (the key use may be in another file; a settings field it names counts too). Otherwise every report
 * needs an environment reader or a settings class, and a secret-like name written here:
 * - an env read's callee resolves (through this file's imports, or its own definitions when the file is that
 *   module) to `os.getenv`, `os.environ.get`/`.setdefault`, `decouple.config`, a `Config`/`AutoConfig`/
 *   `RepositoryEnv` instance or environs' `Env`, each of which this file spells (ENV_READER);
 * - `isSettingsClass` ends at a base named `BaseSettings`, written in some workspace file (the base may be a class
 *   of another file that derives from it);
 * - the name is the variable string, the name the read is assigned to, or the field's name. A bare `key` (written
 *   in most code) counts only where it can be one of those: the string `"key"`, the target of an assignment of an
 *   env reader (`key = os.getenv(...)`, annotated on that line, or with an annotation that opens a bracket there
 *   and an env reader assigned somewhere), or an annotated class field.
 */
function mayReportIn(file: WorkspaceFile, ws: Workspace): boolean {
  const text = file.text;
  const reads = ENV_READER.test(text) || (/environ/.test(text) && /setdefault/.test(text)) || ENV_READER_MODULE.test(file.moduleName);
  const settings = CLASS_TEXT.test(text) && mayDeclareSettings(ws);
  if ((reads || settings) && (textMayNameSecret(text) || mayNameKey(text, reads, settings))) return true;
  return envKeyFallbackIn(file, ws);
}

/** Separators inside a dotted name in brackets, where newlines and comments may come between its parts. */
const SEP = String.raw`(?:\s|\\|#[^\r\n]*(?=[\r\n]))*`;
/** Blanks within a logical line (a backslash continuation included). */
const BL = String.raw`(?:[ \t\f]|\\\r?\n)`;
/**
 * The start of a callee that the check's function-text filter lets through (`getenv|environ|config|env\b|\.str$|
 * \.bytes$`): a dotted name, or `Config(...)`, naming one of them before any bracket. Any character that can be in
 * a dotted name counts (a superset of Python's identifier characters).
 */
const READ_CALLEE = String.raw`(?:[^\s()\[\]{}=,;:'"#\\]|${BL})*?(?:config|env|\.${BL}*(?:str|bytes)\b)`;
const ENV_READER = new RegExp(String.raw`getenv|environ${SEP}\.${SEP}get\b|\benviron${SEP}as\b|decouple|environs|\b(?:Auto)?Config\b|\bRepositoryEnv\b`);
/** Modules (and packages, for relative imports) whose own names resolve to an env reader's (`os.getenv` inside `os`). */
const ENV_READER_MODULE = /^(os|decouple|environs)(\.|$)/;
const CLASS_TEXT = /\bclass\b/;
const KEY_STRING = /["']key["']/iu;
const KEY_ASSIGNED_READ = new RegExp(String.raw`\bkey${BL}*=(?!=)${BL}*${READ_CALLEE}`, 'iu');
const KEY_ANNOTATED = new RegExp(String.raw`\bkey${BL}*:`, 'iu');
/** The rest of a logical line (backslash continuations joined), as few characters as the match needs. */
const REST_OF_LINE = String.raw`(?:[^\r\n\\]|\\\r?\n|\\)*?`;
/** `key: <annotation on one logical line> = <env reader>(...)`. */
const KEY_ANNOTATED_READ = new RegExp(String.raw`\bkey${BL}*:${REST_OF_LINE}=(?!=)${BL}*${READ_CALLEE}`, 'iu');
/** An annotation that may run over several lines opens a bracket (or a triple-quoted string) on the line of `key:`. */
const KEY_ANNOTATION_OPENS = new RegExp(String.raw`\bkey${BL}*:${REST_OF_LINE}(?:[\[({]|"""|''')`, 'iu');
const ASSIGNED_READ = new RegExp(String.raw`=(?!=)${BL}*${READ_CALLEE}`, 'iu');

/** A bare `key` where it can be the name: an annotated settings field, the variable string, or an env read's target. */
function mayNameKey(text: string, reads: boolean, settings: boolean): boolean {
  if (settings && KEY_ANNOTATED.test(text)) return true;
  if (!reads) return false;
  if (KEY_ASSIGNED_READ.test(text) || KEY_ANNOTATED_READ.test(text)) return true;
  if (KEY_ANNOTATION_OPENS.test(text) && ASSIGNED_READ.test(text)) return true;
  return KEY_STRING.test(text) || KEY_STRING.test(withoutStringSeams(text));
}

function mayDeclareSettings(ws: Workspace): boolean {
  return ws.filesMentioning(/BaseSettings/).length > 0;
}

function envKeyFallbackIn(file: WorkspaceFile, ws: Workspace): boolean {
  return jwtKeyUses(ws).some((u) => u.origin.kind === 'env' && u.origin.file === file.path && u.origin.fallback !== undefined);
}

/** `SECRET = os.getenv(...)` / `self.secret = ...` / `secret: str = ...`: the name the read is stored in. */
function assignedName(call: Node): string | undefined {
  const parent = call.parent;
  if (parent?.type !== 'assignment' || parent.childForFieldName('right')?.id !== call.id) return undefined;
  const left = parent.childForFieldName('left');
  if (left?.type === 'identifier') return left.text;
  if (left?.type === 'attribute') return left.childForFieldName('attribute')?.text;
  return undefined;
}

function reportEnv(ctx: RuleContext<MessageId>, origin: EnvOrigin, reported: Set<number>): void {
  const call = origin.node;
  if (reported.has(call.id)) return;
  reported.add(call.id);
  const target = assignedName(call);
  // `SECRET = os.getenv("X", "dev")` followed by `if not SECRET or SECRET == "dev": raise`.
  if (target && guardedByRaise(scopeOf(ctx.model, call), target, call)) return;
  const fn = call.childForFieldName('function');
  ctx.report({
    node: call,
    messageId: 'envFallback',
    data: {
      read: `${fn?.text ?? 'getenv'}(...)`,
      fallback: shorten(origin.fallbackValue ?? ''),
      variable: origin.variable ?? '?',
    },
    fix: dropEnvFallback(ctx, origin),
  });
}

function scopeOf(model: ModuleModel, node: Node): Node {
  for (let p = node.parent; p; p = p.parent) if (p.type === 'function_definition') return p.childForFieldName('body') ?? model.root;
  return model.root;
}

function shorten(value: string): string {
  return value.length > 24 ? `${value.slice(0, 12)}...` : value;
}

function dropEnvFallback(ctx: RuleContext<MessageId>, origin: EnvOrigin): Fix | undefined {
  const { model } = ctx;
  const call = origin.node;
  const args = callArguments(call);
  const title = `Drop the fallback so a missing \`${origin.variable ?? 'variable'}\` fails at start-up (unsafe)`;
  if (origin.style === 'getenv' || origin.style === 'environ-get') {
    const name = args.keywords.get('key') ?? args.positional[0];
    if (!name || args.splats.length) return undefined;
    const os = ensureImport(model, 'os');
    return {
      title,
      safety: 'unsafe',
      edits: [...(os.edit ? [os.edit] : []), { range: rangeOf(call), newText: `${os.local}.environ[${name.text}]` }],
    };
  }
  if (origin.style === 'config') {
    const keyword = args.keywordNodes.get('default');
    if (keyword) return { title, safety: 'unsafe', edits: [removeElementEdit(model.text, keyword)] };
    const positional = args.positional[1];
    if (positional) return { title, safety: 'unsafe', edits: [removeElementEdit(model.text, positional)] };
  }
  return undefined;
}

function checkSettingsClass(ctx: RuleContext<MessageId>, cls: ClassInfo, keyFields: Set<number>): void {
  const { model } = ctx;
  for (const field of cls.fields.values()) {
    if (!(isSecretLikeName(field.name) || keyFields.has(field.node.id)) || !field.annotation || !field.value) continue;
    let literal: Node | undefined = field.value;
    let fieldCall: Node | undefined;
    let envName: string | undefined;
    if (literal.type === 'call' && /(^|\.)Field$/.test(model.callee(literal) ?? '')) {
      fieldCall = literal;
      const args = callArguments(literal);
      envName = stringValue(args.keywords.get('env') ?? args.keywords.get('validation_alias') ?? args.keywords.get('alias'));
      literal = args.keywords.get('default') ?? args.positional[0];
    }
    if (!literal || !isStringLike(literal) || isFString(literal)) continue;
    const value = stringValue(literal);
    if (value === undefined) continue;
    if (validatedByClass(model, cls, field.name)) continue;
    // pydantic-settings matches variable names case-insensitively by default; upper case is how they are written.
    const variable = envName ?? `${envPrefix(model, cls)}${field.name}`.toUpperCase();
    ctx.report({
      node: field.node,
      messageId: 'settingsDefault',
      data: { cls: cls.name, field: field.name, fallback: shorten(value), variable },
      fix: dropSettingsDefault(model, field.node, literal, fieldCall, variable),
    });
  }
}

function dropSettingsDefault(model: ModuleModel, assignment: Node, literal: Node, fieldCall: Node | undefined, variable: string): Fix | undefined {
  const title = `Remove the default so a missing \`${variable}\` fails at start-up (unsafe)`;
  if (!fieldCall) {
    // `SECRET_KEY: str = "changeme"` -> `SECRET_KEY: str`
    const type = assignment.childForFieldName('type');
    if (!type) return undefined;
    return { title, safety: 'unsafe', edits: [{ range: { start: rangeOf(type).end, end: rangeOf(assignment).end }, newText: '' }] };
  }
  const args = callArguments(fieldCall);
  const keyword = args.keywordNodes.get('default');
  if (keyword) {
    // `Field(default="x")` alone becomes `Field()`, which pydantic treats as required.
    return { title, safety: 'unsafe', edits: [removeElementEdit(model.text, keyword)] };
  }
  return { title, safety: 'unsafe', edits: [{ range: rangeOf(literal), newText: '...' }] };
}

/** A `@field_validator("field")` / `@validator("field")` / `@model_validator` method that raises. */
function validatedByClass(model: ModuleModel, cls: ClassInfo, field: string): boolean {
  for (const method of cls.methods.values()) {
    const decorated = method.decorators.some((d) => {
      const text = d.text;
      return /(^|\.)(field_validator|validator)\(/.test(text) ? text.includes(`"${field}"`) || text.includes(`'${field}'`) : /(^|\.)(model_validator|root_validator)\b/.test(text);
    });
    if (decorated && blockRaises(method.body) && method.body.text.includes(field)) return true;
  }
  return false;
}

/** `model_config = SettingsConfigDict(env_prefix="APP_")` or an inner `class Config: env_prefix = "APP_"`. */
function envPrefix(model: ModuleModel, cls: ClassInfo): string {
  const config = cls.fields.get('model_config')?.value;
  if (config?.type === 'call') {
    const prefix = stringValue(callArguments(config).keywords.get('env_prefix'));
    if (prefix) return prefix;
  }
  const body = cls.node.childForFieldName('body');
  for (const stmt of body ? children(body) : []) {
    if (stmt.type !== 'class_definition' || stmt.childForFieldName('name')?.text !== 'Config') continue;
    for (const assignment of descendantsInScope(stmt.childForFieldName('body')!, 'assignment')) {
      if (assignment.childForFieldName('left')?.text === 'env_prefix') return stringValue(assignment.childForFieldName('right')) ?? '';
    }
  }
  return '';
}
