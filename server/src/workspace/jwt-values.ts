/**
 * Where a JWT key comes from, across files: a literal written in code (inline, a module constant, a class
 * attribute, imported from another module), the environment (`os.getenv`, `os.environ`, python-decouple /
 * Starlette `config`, a pydantic `BaseSettings` field) with or without a literal fallback, a JWKS-derived key, or
 * something the analysis cannot see. Also the workspace-wide index of JWT key uses (memoized).
 * Knows nothing of rules or of how findings are reported.
 */
import type { Node } from 'web-tree-sitter';
import type { ModuleModel, ClassInfo } from '../python/module-model';
import { safeModel, type Workspace, type WorkspaceFile } from './workspace';
import { allJwtCalls, JWT_LIBRARY_TEXT } from '../python/jwt-libs';
import { jwtArguments, valueOf, type JwtCallArgs } from '../python/jwt-decode';
import { callArguments, children, dottedName, enclosingFunction, isFString, isStringLike, stringValue } from '../python/syntax';

export type EnvStyle = 'getenv' | 'environ-get' | 'environ-index' | 'config' | 'settings-field';

export type KeyOrigin =
  /** A string/bytes literal: `node` is the literal where it is written, `file` its file. */
  | { kind: 'literal'; value: string; node: Node; file: string; via?: string; settingsField?: boolean }
  /** Read from the environment. `fallback` is the literal default when there is one. */
  | { kind: 'env'; style: EnvStyle; variable?: string; fallback?: Node; fallbackValue?: string; node: Node; file: string; via?: string }
  /** A key derived from a JWKS (`PyJWKClient(...).get_signing_key_from_jwt(t).key`, `PyJWK`, `jwk.construct`). */
  | { kind: 'jwk'; node: Node; file: string }
  | { kind: 'unknown'; node: Node; file: string };

interface Where {
  ws: Workspace;
  model: ModuleModel;
  file: string;
}

const MAX_DEPTH = 8;

/** Follows `node` (an expression in `file`) to the origin of its value. Never throws. */
export function keyOrigin(ws: Workspace, file: string, node: Node): KeyOrigin {
  const model = ws.model(file);
  if (!model) return { kind: 'unknown', node, file };
  try {
    return origin({ ws, model, file }, node, 0, undefined);
  } catch {
    return { kind: 'unknown', node, file };
  }
}

function origin(w: Where, expr: Node, depth: number, via: string | undefined): KeyOrigin {
  const unknown: KeyOrigin = { kind: 'unknown', node: expr, file: w.file };
  if (depth > MAX_DEPTH) return unknown;
  const node = valueOf(w.model, expr) ?? expr;
  if (node.id !== expr.id && expr.type === 'identifier') via ??= expr.text;
  if (isStringLike(node)) {
    const value = stringValue(node);
    if (value === undefined || isFString(node)) return { kind: 'unknown', node, file: w.file };
    return { kind: 'literal', value, node, file: w.file, via };
  }
  if (node.type === 'subscript') {
    // `os.environ["X"]`
    if (isEnviron(w.model, node.childForFieldName('value'))) {
      return { kind: 'env', style: 'environ-index', variable: stringValue(node.childForFieldName('subscript')), node, file: w.file, via };
    }
    return unknown;
  }
  if (node.type === 'call') return originOfCall(w, node, depth, via);
  if (node.type === 'identifier' || node.type === 'attribute') return originOfName(w, node, depth, via);
  return { kind: 'unknown', node, file: w.file };
}

function isEnviron(model: ModuleModel, node: Node | null | undefined): boolean {
  return model.resolve(node) === 'os.environ';
}

function originOfCall(w: Where, call: Node, depth: number, via: string | undefined): KeyOrigin {
  const fn = call.childForFieldName('function');
  const args = callArguments(call);
  const callee = w.model.resolveInstance(fn) ?? '';
  // Wrappers that keep the value: `SECRET.encode()`, `str(x)`, `bytes(x, "utf-8")`, `x.get_secret_value()`, `x.strip()`.
  if (fn?.type === 'attribute') {
    const method = fn.childForFieldName('attribute')?.text ?? '';
    const object = fn.childForFieldName('object');
    if (object && ['encode', 'get_secret_value', 'strip', 'decode'].includes(method)) return origin(w, object, depth + 1, via);
  }
  if ((callee === 'str' || callee === 'bytes' || callee === 'SecretStr' || callee.endsWith('.SecretStr')) && args.positional[0]) {
    return origin(w, args.positional[0], depth + 1, via);
  }
  if (callee === 'os.getenv' || callee === 'os.environ.get') {
    const fallback = args.keywords.get('default') ?? args.positional[1];
    return env(w, call, callee === 'os.getenv' ? 'getenv' : 'environ-get', stringValue(args.keywords.get('key') ?? args.positional[0]), fallback, via);
  }
  // python-decouple `config("X", default=...)`, Starlette `Config(".env")("X", default=...)`, environs `env.str("X", "d")`.
  if (callee === 'decouple.config' || /(^|\.)(Config|AutoConfig|RepositoryEnv)\(\)$/.test(callee) || /^environs\.Env\(\)(\.(str|bytes))?$/.test(callee)) {
    const fallback = args.keywords.get('default') ?? (callee.startsWith('environs') ? args.positional[1] : undefined);
    return env(w, call, 'config', stringValue(args.positional[0]), fallback, via);
  }
  if (/^jwt\.(PyJWK|api_jwk\.PyJWK)(\.from_json|\.from_dict)?$/.test(callee) || /^jose\.jwk\.construct$/.test(callee)) {
    return { kind: 'jwk', node: call, file: w.file };
  }
  if (/PyJWKClient\(\)\.get_signing_key(_from_jwt)?$/.test(callee) || /\.get_signing_key_from_jwt$/.test(callee)) return { kind: 'jwk', node: call, file: w.file };
  return { kind: 'unknown', node: call, file: w.file };
}

function env(w: Where, call: Node, style: EnvStyle, variable: string | undefined, fallback: Node | undefined, via: string | undefined): KeyOrigin {
  const value = fallback ? valueOf(w.model, fallback) : undefined;
  const literal = value && isStringLike(value) && !isFString(value) ? stringValue(value) : undefined;
  return {
    kind: 'env',
    style,
    variable,
    fallback: literal !== undefined ? fallback : undefined,
    fallbackValue: literal,
    node: call,
    file: w.file,
    via,
  };
}

/** `SECRET_KEY`, `settings.SECRET_KEY`, `Config.SECRET`, `get_settings().jwt_secret`, `signing_key.key`. */
function originOfName(w: Where, node: Node, depth: number, via: string | undefined): KeyOrigin {
  const unknown: KeyOrigin = { kind: 'unknown', node, file: w.file };
  // `signing_key.key` where `signing_key = jwks_client.get_signing_key_from_jwt(token)`.
  if (node.type === 'attribute') {
    const object = node.childForFieldName('object');
    const attr = node.childForFieldName('attribute')?.text;
    if (!object || !attr) return unknown;
    const objectValue = valueOf(w.model, object);
    if (objectValue && objectValue.id !== object.id && objectValue.type === 'call') {
      const inner = originOfCall(w, objectValue, depth + 1, via);
      if (inner.kind === 'jwk') return inner;
      // `Settings().SECRET` / `get_settings().SECRET` through a local.
      return memberOfCall(w, objectValue, attr, node, depth, via ?? node.text);
    }
    if (object.type === 'call') return memberOfCall(w, object, attr, node, depth, via ?? node.text);
  }
  const dotted = dottedName(node);
  if (!dotted) return unknown;
  const parts = dotted.split('.');
  // A parameter (or `self`) shadows module names: its value comes from the caller.
  if (parts[0] === 'self' || parts[0] === 'cls' || isParameter(w.model, node, parts[0])) return unknown;
  return member(w, parts[0], parts.slice(1), node, depth, via ?? (parts.length > 1 ? dotted : via));
}

function isParameter(model: ModuleModel, node: Node, name: string): boolean {
  for (let fn = enclosingFunction(node); fn; fn = enclosingFunction(fn)) {
    if (model.functionAt(fn)?.params.some((p) => p.name === name)) return true;
  }
  return false;
}

/** `X().attr` / `get_settings().attr`: the class constructed or returned, then its field. */
function memberOfCall(w: Where, call: Node, attr: string, node: Node, depth: number, via: string | undefined): KeyOrigin {
  const target = classOfCall(w, call, depth);
  if (!target) return { kind: 'unknown', node, file: w.file };
  return classField({ ws: w.ws, model: target.model, file: target.file }, target.cls, attr, node, depth, via);
}

/** Resolves `head.rest...` in module `w` to the origin of its value. */
function member(w: Where, head: string, rest: string[], node: Node, depth: number, via: string | undefined): KeyOrigin {
  const unknown: KeyOrigin = { kind: 'unknown', node, file: w.file };
  if (depth > MAX_DEPTH) return unknown;
  const binding = w.model.imports.get(head);
  if (binding) return qualified(w.ws, [binding.target, ...rest].join('.'), node, w.file, depth + 1, via);
  const cls = w.model.topLevelClass(head);
  if (cls) return rest.length === 1 ? classField(w, cls, rest[0], node, depth, via) : unknown;
  const assignment = w.model.lastAssignment(head);
  if (!assignment) return unknown;
  if (rest.length === 0) return origin(w, assignment.value, depth + 1, via ?? head);
  const value = valueOf(w.model, assignment.value) ?? assignment.value;
  if (value.type === 'call' && rest.length === 1) return memberOfCall(w, value, rest[0], node, depth + 1, via);
  if (value.type === 'identifier' || value.type === 'attribute') {
    const d = dottedName(value);
    if (d) {
      const parts = d.split('.');
      return member(w, parts[0], [...parts.slice(1), ...rest], node, depth + 1, via);
    }
  }
  return unknown;
}

/** A qualified name in some workspace module (`app.core.config.settings.SECRET_KEY`). */
function qualified(ws: Workspace, name: string, node: Node, fromFile: string, depth: number, via: string | undefined): KeyOrigin {
  const unknown: KeyOrigin = { kind: 'unknown', node, file: fromFile };
  const located = ws.locate(name);
  if (!located || !located.member) return unknown;
  const model = ws.model(located.file.path);
  if (!model) return unknown;
  const parts = located.member.split('.');
  const result = member({ ws, model, file: located.file.path }, parts[0], parts.slice(1), node, depth + 1, via);
  // The node we could not follow lives in the other file; report unknowns at the use.
  return result.kind === 'unknown' ? unknown : result;
}

/** The class a call constructs (`Settings()`) or that a factory returns (`get_settings()` -> `return Settings()`). */
function classOfCall(w: Where, call: Node, depth: number): { cls: ClassInfo; model: ModuleModel; file: string } | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const fn = call.childForFieldName('function');
  const dotted = dottedName(fn);
  if (!dotted) return undefined;
  const parts = dotted.split('.');
  const found = definition(w, parts[0], parts.slice(1), depth);
  if (!found) return undefined;
  if (found.cls) return { cls: found.cls, model: found.model, file: found.file };
  if (found.fn) {
    // A settings factory: `@lru_cache def get_settings() -> Settings: return Settings()`.
    for (const ret of found.fn.descendantsOfType('return_statement')) {
      const value = ret ? children(ret)[0] : undefined;
      if (value?.type === 'call') {
        const inner = classOfCall({ ws: w.ws, model: found.model, file: found.file }, value, depth + 1);
        if (inner) return inner;
      }
    }
  }
  return undefined;
}

/** Finds the class or function a name refers to, in this module or (through imports) another. */
function definition(w: Where, head: string, rest: string[], depth: number): { cls?: ClassInfo; fn?: Node; model: ModuleModel; file: string } | undefined {
  if (depth > MAX_DEPTH) return undefined;
  const binding = w.model.imports.get(head);
  if (binding) {
    const located = w.ws.locate([binding.target, ...rest].join('.'));
    if (!located || !located.member) return undefined;
    const model = w.ws.model(located.file.path);
    if (!model) return undefined;
    const parts = located.member.split('.');
    return definition({ ws: w.ws, model, file: located.file.path }, parts[0], parts.slice(1), depth + 1);
  }
  if (rest.length) return undefined;
  const cls = w.model.topLevelClass(head);
  if (cls) return { cls, model: w.model, file: w.file };
  const fn = w.model.topLevelFunction(head);
  if (fn) return { fn: fn.body, model: w.model, file: w.file };
  return undefined;
}

/** True for pydantic / pydantic-settings `BaseSettings` subclasses (directly or through a workspace base). */
export function isSettingsClass(ws: Workspace, model: ModuleModel, cls: ClassInfo, depth = 0): boolean {
  if (depth > 4) return false;
  for (const base of cls.baseNames) {
    if (/(^|\.)BaseSettings$/.test(base)) return true;
    const parts = base.split('.');
    const found = definition({ ws, model, file: '' }, parts[0], parts.slice(1), depth);
    const local = found?.cls ?? (model.topLevelClass(base) ?? undefined);
    if (local && local !== cls && isSettingsClass(ws, found?.model ?? model, local, depth + 1)) return true;
  }
  return false;
}

function classField(w: Where, cls: ClassInfo, attr: string, node: Node, depth: number, via: string | undefined): KeyOrigin {
  const field = cls.fields.get(attr);
  const settings = isSettingsClass(w.ws, w.model, cls);
  if (!field) return { kind: 'unknown', node, file: w.file };
  let value = field.value;
  // `SECRET: str = Field(default="x", env="JWT_SECRET")` / `Field("x")`.
  let envName = settings ? attr : undefined;
  if (value?.type === 'call' && /(^|\.)Field$/.test(w.model.callee(value) ?? '')) {
    const args = callArguments(value);
    const alias = stringValue(args.keywords.get('env') ?? args.keywords.get('validation_alias') ?? args.keywords.get('alias'));
    // An alias names the variable exactly: no prefix applies.
    if (alias) envName = `=${alias}`;
    value = args.keywords.get('default') ?? args.positional[0];
    if (value && value.type === 'ellipsis') value = undefined;
  }
  if (settings) {
    const fallback = value ? valueOf(w.model, value) : undefined;
    const literal = fallback && isStringLike(fallback) && !isFString(fallback) ? stringValue(fallback) : undefined;
    if (value && literal === undefined) {
      // A computed default (`secrets.token_urlsafe(32)`): the env var still wins; say what the default is.
      const inner = origin(w, value, depth + 1, via);
      if (inner.kind === 'literal') return { ...inner, settingsField: true };
    }
    return {
      kind: 'env',
      style: 'settings-field',
      variable: envName?.startsWith('=') ? envName.slice(1) : envName ? (envPrefix(w.model, cls) + envName).toUpperCase() : undefined,
      fallback: literal !== undefined ? value : undefined,
      fallbackValue: literal,
      node: field.node,
      file: w.file,
      via,
    };
  }
  if (!value) return { kind: 'unknown', node, file: w.file };
  return origin(w, value, depth + 1, via);
}

/** `model_config = SettingsConfigDict(env_prefix="APP_")` / `class Config: env_prefix = "APP_"`. */
function envPrefix(model: ModuleModel, cls: ClassInfo): string {
  const config = cls.fields.get('model_config')?.value;
  if (config?.type === 'call') {
    const prefix = stringValue(callArguments(config).keywords.get('env_prefix'));
    if (prefix) return prefix;
  }
  const inner = model.classes.find((c) => c.name === 'Config' && c.node.parent && cls.node.childForFieldName('body')?.id === c.node.parent.id);
  return stringValue(inner?.fields.get('env_prefix')?.value) ?? '';
}

// ---- workspace index --------------------------------------------------------------------------

export interface KeyUse {
  file: WorkspaceFile;
  call: JwtCallArgs;
  key: Node;
  origin: KeyOrigin;
}

/** Every key passed to a JWT decode/encode in the workspace, with its origin. Memoized per workspace state. */
export function jwtKeyUses(ws: Workspace): KeyUse[] {
  return ws.memo('jwt-values:key-uses', () => {
    const out: KeyUse[] = [];
    // Files that never say `jwt` or `jose` call no JWT library (verdicts cached by content: an edit re-tests one file).
    for (const file of ws.filesMentioning(JWT_LIBRARY_TEXT)) {
      const model = safeModel(ws, file.path);
      if (!model) continue;
      for (const jwt of allJwtCalls(model)) {
        if (jwt.kind !== 'decode' && jwt.kind !== 'encode') continue;
        const call = jwtArguments(jwt);
        if (!call.key) continue;
        out.push({ file, call, key: call.key, origin: keyOrigin(ws, file.path, call.key) });
      }
    }
    return out;
  });
}

// ---- names ------------------------------------------------------------------------------------

/** Names that hold a signing secret (`SECRET_KEY`, `jwt_secret`, `BETTER_AUTH_SECRET`, `PRIVATE_KEY`). */
export function isSecretLikeName(name: string): boolean {
  const n = name.toLowerCase();
  if (/(^|_)(algorithm|alg|name|url|uri|file|path|env|var|header|prefix|id|length|len|ttl|expire|expires|minutes|days)$/.test(n)) return false;
  return /secret/.test(n) || /(^|_)(jwt|signing|private|hmac|auth|token|encryption)_?key$/.test(n) || n === 'key' || /^jwt_?key/.test(n);
}

/**
 * A cheap text test for prescans: could `text` write a name other than a bare `key` that `isSecretLikeName`
 * accepts (an identifier, or a string used as a name: a dict key, `os.getenv("JWT_SECRET")`)? A superset: each
 * word of the text is tested without the exclusions. A bare `key` is everywhere (`sorted(key=...)`), so callers
 * test it where it counts for them. Python joins adjacent string literals (`"JWT_" "SECRET"`), so the words are
 * also read with such seams removed (`withoutStringSeams`). `/iu` because `toLowerCase` maps the Kelvin sign to `k`.
 */
export function textMayNameSecret(text: string): boolean {
  return hasSecretWord(text) || (STRING_SEAM.test(text) && hasSecretWord(withoutStringSeams(text)));
}

/** `text` with the seams between implicitly joined string literals removed: `"JWT_" "SECRET"` reads `"JWT_SECRET"`. */
export function withoutStringSeams(text: string): string {
  return text.replace(STRING_SEAM_G, '');
}

/** `isSecretLikeName`'s positive patterns but a bare `key`, on a word and without its exclusions. */
const SECRET_WORD = /secret|(^|_)(jwt|signing|private|hmac|auth|token|encryption)_?key$|^jwt_?key/iu;
const SECRET_OR_KEY = /secret|key/giu;
/** A character Python allows in an identifier after the first (letters, digits, marks, connectors). */
const WORD_CHAR = /[\p{L}\p{N}\p{M}\p{Pc}]/u;
/**
 * A closing quote, then what may separate implicitly joined literals (blanks, newlines, backslash continuations,
 * comments), then an opening quote with its prefix. Each repetition starts with its own character (a comment runs
 * to its newline), so a failed try backtracks linearly, never over every split of `#####`.
 */
const STRING_SEAM_SOURCE = `["'](?:[ \\t\\f\\r\\n\\\\]|#[^\\r\\n]*(?=[\\r\\n]))*[rRbBuUfF]{0,2}["']`;
const STRING_SEAM = new RegExp(STRING_SEAM_SOURCE);
const STRING_SEAM_G = new RegExp(STRING_SEAM_SOURCE, 'g');

/**
 * Whether a whole word around some `secret`/`key` of `text` passes SECRET_WORD. Linear: each word is read once.
 * The word class may be narrower than Python's identifiers, never wider: a shorter word only passes more often.
 */
function hasSecretWord(text: string): boolean {
  const re = new RegExp(SECRET_OR_KEY.source, SECRET_OR_KEY.flags);
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let start = m.index;
    let end = m.index + m[0].length;
    for (let w = wordCharBefore(text, start); w > 0; w = wordCharBefore(text, start)) start -= w;
    for (let w = wordCharAt(text, end); w > 0; w = wordCharAt(text, end)) end += w;
    if (SECRET_WORD.test(text.slice(start, end))) return true;
    re.lastIndex = end;
  }
  return false;
}

/** The length (1 or 2 code units) of the word character starting at `i`, or 0. */
function wordCharAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  if (c < 128) return isAsciiWordChar(c) ? 1 : 0;
  const cp = text.codePointAt(i)!;
  return WORD_CHAR.test(String.fromCodePoint(cp)) ? (cp > 0xffff ? 2 : 1) : 0;
}

/** The length of the word character ending just before `i`, or 0. */
function wordCharBefore(text: string, i: number): number {
  if (i <= 0) return 0;
  const c = text.charCodeAt(i - 1);
  if (c < 128) return isAsciiWordChar(c) ? 1 : 0;
  const pair = c >= 0xdc00 && c <= 0xdfff && i >= 2 && text.charCodeAt(i - 2) >= 0xd800 && text.charCodeAt(i - 2) <= 0xdbff;
  return wordCharAt(text, pair ? i - 2 : i - 1) === (pair ? 2 : 1) ? (pair ? 2 : 1) : 0;
}

function isAsciiWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Placeholder / documentation keys that must never sign real tokens. */
export const SAMPLE_SECRETS: ReadonlySet<string> = new Set([
  '09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7',
  'secret',
  'secret-key',
  'secret_key',
  'secretkey',
  'mysecret',
  'my-secret',
  'my_secret',
  'mysecretkey',
  'my-secret-key',
  'my_secret_key',
  'supersecret',
  'super-secret',
  'super-secret-key',
  'super_secret_key',
  'changeme',
  'change-me',
  'change_me',
  'changethis',
  'change-this',
  'your-secret-key',
  'your_secret_key',
  'your-secret',
  'yoursecretkey',
  'your-256-bit-secret',
  'jwt-secret',
  'jwt_secret',
  'jwtsecret',
  'dev',
  'development',
  'dev-secret',
  'devsecret',
  'test',
  'testing',
  'test-secret',
  'password',
  'default',
  'insecure',
  'xxx',
  'todo',
  'replace-me',
]);

const SAMPLE_TEXT = new RegExp(
  `["'](${[...SAMPLE_SECRETS].map((s) => s.replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')).join('|')}|(change|replace)[-_ ]?(me|this)[^"']*|your[-_ ]?(jwt[-_ ]?)?secret[^"']*|django-insecure-[^"']*)["']`,
  'i',
);

/** A cheap text test: could any string literal in `text` be a sample secret? */
export function textMayHoldSampleSecret(text: string): boolean {
  return SAMPLE_TEXT.test(text);
}

/** Sample values that are also ordinary words (`"test"`, `"dev"`, `"default"`): secrets only by a secret's name. */
const WEAK_SAMPLES: ReadonlySet<string> = new Set(['dev', 'development', 'test', 'testing', 'default', 'password', 'xxx', 'todo', 'insecure']);

/**
 * A cheap text test for a sample secret that is not also an ordinary word: a quoted literal whose trimmed content
 * `isSampleSecret` accepts and `isWeakSampleSecret` does not (what a bare `key` must be assigned to count). `/iu`:
 * the value is lower-cased first, and the Kelvin sign lower-cases to `k`.
 */
export function textMayHoldStrongSampleSecret(text: string): boolean {
  return STRONG_SAMPLE_TEXT.test(text);
}

const STRONG_SAMPLE_TEXT = new RegExp(
  `["']\\s*((${[...SAMPLE_SECRETS].filter((s) => !WEAK_SAMPLES.has(s)).map((s) => s.replace(/[.*+?^\${}()|[\]\\]/g, '\\$&')).join('|')})\\s*["']|(change|replace)[-_ ]?(me|this)|your[-_ ]?(jwt[-_ ]?)?secret|django-insecure-)`,
  'iu',
);

export function isWeakSampleSecret(value: string): boolean {
  return WEAK_SAMPLES.has(value.trim().toLowerCase());
}

export function isSampleSecret(value: string): boolean {
  const v = value.trim().toLowerCase();
  return SAMPLE_SECRETS.has(v) || /^(change|replace)[-_ ]?(me|this)/.test(v) || /^your[-_ ]?(jwt[-_ ]?)?secret/.test(v) || /^django-insecure-/.test(v);
}
