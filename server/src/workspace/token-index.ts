/**
 * Cross-file facts about tokens: where the workspace issues tokens (with the claims each payload gets, including
 * claims passed in by callers of `create_access_token(data={...})`), which key signs them, what kind of token each
 * issuer makes (`{"type": "refresh"}` or a `create_refresh_token` function), where tokens are decoded and with which
 * key, and which functions return decoded claims (`verify_token(token) -> payload`). Memoized per workspace state.
 * Knows nothing of rules or of how findings are reported.
 */
import type { Node } from 'web-tree-sitter';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { classifyJwtCall, JWT_LIBRARY_TEXT } from '../python/jwt-libs';
import { jwtCallArgsIn, valueOf, type JwtCallArgs } from '../python/jwt-decode';
import { collectPayload, emptyPayload, tokenIssues, type PayloadEntry, type TokenIssue } from '../python/token-issue';
import { KIND_CLAIMS, claimReadsIn } from '../python/token-claims';
import { callArguments, children, descendantsInScope, dottedName, enclosingFunction, literalValue, stringValue } from '../python/syntax';
import { isRouteHandler } from './auth-routes';
import type { Workspace } from './workspace';

export interface FunctionRef {
  file: string;
  model: ModuleModel;
  fn: FunctionInfo;
}

/** The workspace function a qualified name denotes (`app.core.security.create_access_token`, `Auth.verify`). */
export function findFunction(ws: Workspace, qualified: string | undefined, depth = 0): FunctionRef | undefined {
  if (!qualified || depth > 4) return undefined;
  const loc = ws.locate(qualified);
  if (!loc || !loc.member) return undefined;
  const model = ws.model(loc.file.path);
  if (!model) return undefined;
  const [head, ...rest] = loc.member.split('.');
  const binding = model.imports.get(head);
  if (binding && !model.definesLocally(head)) {
    const target = [binding.target, ...rest].join('.');
    return target === qualified ? undefined : findFunction(ws, target, depth + 1);
  }
  const fn = model.functions.find((f) => f.qualname === loc.member && (f.topLevel || f.className));
  return fn ? { file: loc.file.path, model, fn } : undefined;
}

/** The workspace function a call invokes (a module function, an imported one, `self.method`). */
export function calledFunction(ws: Workspace, file: string, model: ModuleModel, call: Node): FunctionRef | undefined {
  const callee = call.childForFieldName('function');
  return callee ? functionNamed(ws, file, model, callee) : undefined;
}

/** The workspace function an expression names (`get_current_user`, `deps.verify`, `self.check`). */
export function functionNamed(ws: Workspace, file: string, model: ModuleModel, callee: Node): FunctionRef | undefined {
  if (callee.type === 'attribute' && callee.childForFieldName('object')?.text === 'self') {
    const owner = enclosingFunction(callee);
    const cls = owner ? model.functionAt(owner)?.className : undefined;
    const method = cls ? model.classes.find((c) => c.name === cls)?.methods.get(callee.childForFieldName('attribute')?.text ?? '') : undefined;
    return method ? { file, model, fn: method } : undefined;
  }
  const name = dottedName(callee);
  if (!name) return undefined;
  if (!name.includes('.') && model.definesLocally(name)) {
    const fn = model.topLevelFunction(name);
    return fn ? { file, model, fn } : undefined;
  }
  return findFunction(ws, model.resolveDotted(name));
}

export function functionKey(ref: { file: string; fn: FunctionInfo }): string {
  return `${ref.file}#${ref.fn.qualname}`;
}

// ---- keys -------------------------------------------------------------------------------------

/**
 * A stable identity for a signing/verification key expression, so that an encode and a decode in different files
 * can be recognised as using the same key: `env:JWT_SECRET` for environment reads (directly or through a module
 * constant or settings field), `attr:secret_key` for settings attributes, `lit:...` for literals.
 * A private/public key pair counts as one key (`attr:pair_key`): what one signs, the other verifies.
 */
export function keyIdentity(ws: Workspace, model: ModuleModel, node: Node | undefined, depth = 0): string | undefined {
  if (!node || depth > 5) return undefined;
  const value = valueOf(model, node);
  if (!value) return undefined;
  const env = envName(model, value);
  if (env) return `env:${env}`;
  const literal = literalValue(value);
  if (typeof literal === 'string') return `lit:${literal}`;
  if (value.type === 'identifier' && value.id !== node.id) return keyIdentity(ws, model, value, depth + 1);
  if (value.type === 'identifier') {
    const qualified = model.resolve(value);
    const loc = qualified ? ws.locate(qualified) : undefined;
    const other = loc?.member && !loc.member.includes('.') ? ws.model(loc.file.path) : undefined;
    const assigned = other?.lastAssignment(loc!.member)?.value;
    if (other && assigned && other !== model) {
      const id = keyIdentity(ws, other, assigned, depth + 1);
      if (id) return id;
    }
    return `name:${normalizeKeyName(value.text)}`;
  }
  if (value.type === 'attribute') return `attr:${normalizeKeyName(value.childForFieldName('attribute')?.text ?? value.text)}`;
  if (value.type === 'call') {
    // `settings.secret.get_secret_value()`, `key.encode()`: the key is the object.
    const callee = value.childForFieldName('function');
    if (callee?.type === 'attribute' && /^(get_secret_value|encode)$/.test(callee.childForFieldName('attribute')?.text ?? '')) {
      return keyIdentity(ws, model, callee.childForFieldName('object') ?? undefined, depth + 1);
    }
  }
  return undefined;
}

function normalizeKeyName(name: string): string {
  return name.toLowerCase().replace(/private|public/g, 'pair');
}

/** `os.environ["X"]`, `os.environ.get("X")`, `os.getenv("X")`, `config("X")`, `env.str("X")` -> X. */
function envName(model: ModuleModel, node: Node): string | undefined {
  if (node.type === 'subscript') {
    const object = model.resolve(node.childForFieldName('value'));
    if (object === 'os.environ') return stringValue(node.childForFieldName('subscript'));
    return undefined;
  }
  if (node.type !== 'call') return undefined;
  const callee = model.callee(node);
  if (!callee) return undefined;
  if (callee === 'os.getenv' || callee === 'os.environ.get' || callee === 'decouple.config' || /^(environs\.)?env\.(str|bytes)$/.test(callee) || callee === 'config') {
    return stringValue(callArguments(node).positional[0]);
  }
  return undefined;
}

// ---- issuing ----------------------------------------------------------------------------------

export interface TokenKind {
  /** `refresh`, `access`, `reset`, `verification`... */
  value: string;
  /** The claim that carries it (`type`), when the payload has one. */
  claim?: string;
  /** Where it shows: the claim's value or the issuing function's name. */
  node: Node;
  file: string;
}

export interface LocatedEntry {
  file: string;
  entry: PayloadEntry;
}

export interface IssueRecord {
  file: string;
  model: ModuleModel;
  issue: TokenIssue;
  key?: string;
  /** What the function is called (`create_refresh_token`), or `<module>` for top-level code. */
  issuer: string;
  kinds: TokenKind[];
  /** Claims of the payload, including those callers pass in (`create_access_token(data={...})`). */
  entries: LocatedEntry[];
  /** Objects dumped whole into the payload, here or by callers. */
  objects: { file: string; model: ModuleModel; fn?: FunctionInfo; object: Node; expression: Node }[];
}

/** The text every file with a JWT library call contains (the gate of `classifyJwtCall`). */

/** Every encode in the workspace, with its payload as far as it can be followed. */
export function issueIndex(ws: Workspace): IssueRecord[] {
  return ws.memo('token-index:issues', () => {
    const records: IssueRecord[] = [];
    const byFunction = new Map<string, IssueRecord[]>();
    // Only a file that says `jwt` or `jose` can hold an encode (classifyJwtCall's own gate).
    for (const file of ws.filesMentioning(JWT_LIBRARY_TEXT)) {
      const model = ws.model(file.path);
      if (!model) continue;
      for (const issue of tokenIssues(model)) {
        const record: IssueRecord = {
          file: file.path,
          model,
          issue,
          key: keyIdentity(ws, model, issue.args.key),
          issuer: issue.fn?.name ?? '<module>',
          kinds: [],
          entries: issue.payload.entries.map((entry) => ({ file: file.path, entry })),
          objects: issue.payload.objects.map((o) => ({ file: file.path, model, fn: issue.fn, ...o })),
        };
        records.push(record);
        if (issue.fn && issue.payload.params.length) {
          const key = functionKey({ file: file.path, fn: issue.fn });
          byFunction.set(key, [...(byFunction.get(key) ?? []), record]);
        }
      }
    }
    // Follow payload parameters to the arguments callers pass, anywhere in the workspace.
    if (byFunction.size) {
      for (const file of ws.allFiles()) {
        const model = ws.model(file.path);
        if (!model) continue;
        for (const call of model.root.descendantsOfType('call')) {
          if (!call || classifyJwtCall(model, call)) continue;
          const target = calledFunction(ws, file.path, model, call);
          const list = target ? byFunction.get(functionKey(target)) : undefined;
          if (!list || !target) continue;
          for (const record of list) addCallerPayload(model, file.path, call, target.fn, record);
        }
      }
    }
    for (const record of records) record.kinds = kindsOf(ws, record);
    return records;
  });
}

function addCallerPayload(model: ModuleModel, file: string, call: Node, target: FunctionInfo, record: IssueRecord): void {
  const args = callArguments(call);
  const offset = target.className && target.params[0]?.name === 'self' ? 1 : 0;
  for (const param of record.issue.payload.params) {
    const index = target.params.findIndex((p) => p.name === param);
    const arg = args.keywords.get(param) ?? (index >= 0 ? args.positional[index - offset] : undefined);
    if (!arg) continue;
    const fnNode = enclosingFunction(call);
    const fn = fnNode ? model.functionAt(fnNode) : undefined;
    const contents = emptyPayload();
    collectPayload(model, arg, call, fn, contents, new Set());
    record.entries.push(...contents.entries.map((entry) => ({ file, entry })));
    record.objects.push(...contents.objects.map((o) => ({ file, model, fn, ...o })));
  }
}

const NAME_KINDS: [RegExp, string][] = [
  [/refresh/i, 'refresh'],
  [/reset|forgot|recover/i, 'password-reset'],
  [/verif|confirm|activation|activate/i, 'verification'],
  [/invit/i, 'invitation'],
  [/magic|login_link/i, 'magic-link'],
  [/api_?key|service|machine/i, 'service'],
  [/access|auth|login|session|id_token/i, 'access'],
];

/** The token kind a function's name suggests (`create_refresh_token` -> `refresh`), if any. */
export function kindFromName(name: string): string | undefined {
  return NAME_KINDS.find(([re]) => re.test(name))?.[1];
}

function kindsOf(ws: Workspace, record: IssueRecord): TokenKind[] {
  const out: TokenKind[] = [];
  for (const { file, entry } of record.entries) {
    if (!KIND_CLAIMS.includes(entry.claim)) continue;
    const v = literalValue(entry.value);
    if (typeof v === 'string') out.push({ value: v, claim: entry.claim, node: entry.value, file });
    else out.push(...kindsFromCallers(ws, record, entry.claim, entry.value));
  }
  if (out.length) return out;
  const fn = record.issue.fn;
  if (fn) {
    const hit = NAME_KINDS.find(([re]) => re.test(fn.name));
    if (hit) out.push({ value: hit[1], node: fn.node.childForFieldName('name') ?? fn.node, file: record.file });
  }
  return out;
}

/** `create_token(sub, token_type)` with `{"type": token_type}`: the literal kinds its callers pass. */
function kindsFromCallers(ws: Workspace, record: IssueRecord, claim: string, value: Node): TokenKind[] {
  const fn = record.issue.fn;
  if (!fn || value.type !== 'identifier') return [];
  const index = fn.params.findIndex((p) => p.name === value.text);
  if (index < 0) return [];
  const offset = fn.className && fn.params[0]?.name === 'self' ? 1 : 0;
  const out: TokenKind[] = [];
  for (const site of callSites(ws).get(functionKey({ file: record.file, fn })) ?? []) {
    const args = callArguments(site.call);
    const arg = args.keywords.get(value.text) ?? args.positional[index - offset];
    const v = literalValue(arg);
    if (typeof v === 'string' && arg) out.push({ value: v, claim, node: arg, file: site.file });
  }
  const fallback = fn.params[index].default;
  const d = literalValue(fallback);
  if (typeof d === 'string' && fallback) out.push({ value: d, claim, node: fallback, file: record.file });
  return out;
}

// ---- decoding ---------------------------------------------------------------------------------

export interface DecodeRecord {
  file: string;
  model: ModuleModel;
  args: JwtCallArgs;
  fn?: FunctionInfo;
  key?: string;
  isRoute: boolean;
  /** Kind claims (`type`, `scope`...) the enclosing function reads from the decoded claims. */
  kindClaimsRead: Set<string>;
}

/** Every verifying decode in the workspace. */
export function decodeIndex(ws: Workspace): DecodeRecord[] {
  return ws.memo('token-index:decodes', () => {
    const out: DecodeRecord[] = [];
    for (const file of ws.filesMentioning(JWT_LIBRARY_TEXT)) {
      const model = ws.model(file.path);
      if (!model) continue;
      for (const args of jwtCallArgsIn(model, model.root, ['decode'])) {
        const fnNode = enclosingFunction(args.jwt.call);
        const fn = fnNode ? model.functionAt(fnNode) : undefined;
        const kindClaimsRead = new Set<string>();
        if (fn) for (const read of claimReadsIn(fn.body)) if (KIND_CLAIMS.includes(read.claim)) kindClaimsRead.add(read.claim);
        out.push({
          file: file.path,
          model,
          args,
          fn,
          key: keyIdentity(ws, model, args.key),
          isRoute: !!fn && isRouteHandler(ws, model, fn),
          kindClaimsRead,
        });
      }
    }
    return out;
  });
}

/**
 * Functions that return decoded claims: they decode and `return` the decode's result (directly or through a
 * local). `payload = verify_token(token)` in a caller then holds claims too.
 */
export function claimReturningFunctions(ws: Workspace): Map<string, FunctionRef> {
  return ws.memo('token-index:claim-returning', () => {
    const out = new Map<string, FunctionRef>();
    for (const record of decodeIndex(ws)) {
      if (!record.fn) continue;
      const names = claimNamesIn(record.model, record.fn);
      const returns = descendantsInScope(record.fn.body, 'return_statement');
      const returnsClaims = returns.some((r) => {
        const value = children(r)[0];
        return !!value && (names.has(value.text) || value.id === record.args.jwt.call.id || (value.type === 'await' && children(value)[0]?.id === record.args.jwt.call.id));
      });
      if (returnsClaims) out.set(functionKey({ file: record.file, fn: record.fn }), { file: record.file, model: record.model, fn: record.fn });
    }
    return out;
  });
}

/** Local names bound to a decode's result in `fn` (`payload = jwt.decode(...)`, `claims = await verify(t)`). */
export function claimNamesIn(model: ModuleModel, fn: FunctionInfo, ws?: Workspace, file?: string): Set<string> {
  const names = new Set<string>();
  const verifiers = ws ? claimReturningFunctions(ws) : undefined;
  for (const [name, values] of model.localAssignments(fn.body)) {
    for (let v of values) {
      if (v.type === 'await') v = children(v)[0] ?? v;
      if (v.type !== 'call') continue;
      const jwt = classifyJwtCall(model, v);
      if (jwt?.kind === 'decode' || jwt?.kind === 'unverified-claims') names.add(name);
      else if (ws && file && verifiers) {
        const target = calledFunction(ws, file, model, v);
        if (target && target.fn !== fn && verifiers.has(functionKey(target))) names.add(name);
      }
    }
  }
  return names;
}

// ---- call sites -------------------------------------------------------------------------------

export interface CallSite {
  file: string;
  model: ModuleModel;
  call: Node;
  /** The function the call is in, when it is in one. */
  caller?: FunctionInfo;
}

/** Where each workspace function is called, keyed by `functionKey`. */
export function callSites(ws: Workspace): Map<string, CallSite[]> {
  return ws.memo('token-index:call-sites', () => {
    const out = new Map<string, CallSite[]>();
    for (const file of ws.allFiles()) {
      const model = ws.model(file.path);
      if (!model) continue;
      for (const call of model.root.descendantsOfType('call')) {
        if (!call) continue;
        const target = calledFunction(ws, file.path, model, call);
        if (!target) continue;
        const fnNode = enclosingFunction(call);
        const site: CallSite = { file: file.path, model, call, caller: fnNode ? model.functionAt(fnNode) : undefined };
        const key = functionKey(target);
        out.set(key, [...(out.get(key) ?? []), site]);
      }
    }
    return out;
  });
}
