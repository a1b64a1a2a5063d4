/**
 * The functions that can be auth dependencies, found without parsing (or following the calls of) the others: what
 * the workspace-wide questions "which functions are auth dependencies?" (checklist evidence, the preferred
 * dependency for fixes) need. In auth.ts a callable verifies a credential only if it decodes a JWT, looks up an
 * opaque session token (looksUpSessionToken: a text test), asks the issuer over HTTP (its file imports an HTTP client and says
 * 401), is configured, or comes from fastapi-users (the seeds), or calls / depends on a callable that verifies,
 * which its text then names (directly, through a module-level alias or instance, an import alias re-exported from
 * another module, or through the class of a callable instance). So the candidates start from the seeds and grow with the names of the verifying callables found, until
 * no new name appears. Knows nothing of rules.
 */
import { safeModel, type Workspace, type WorkspaceFile } from './workspace';
import { wordsPattern } from './word-patterns';
import type { FunctionInfo, ModuleModel } from '../python/module-model';
import { mayUseJwtLibrary } from '../python/jwt-libs';
import { functionVerdict, looksUpSessionToken } from './auth';

export interface AuthCandidate {
  file: string;
  model: ModuleModel;
  fn: FunctionInfo;
}

/** fastapi-users' `current_user(...)` and its instances (auth.ts's isLibraryAuth). */
const LIBRARY_AUTH_TEXT = /fastapi_users|FastAPIUsers|current_user/;
const HTTP_CLIENT_TEXT = /\b(httpx|requests|aiohttp)\b/;
/** How a raise can say 401 (module-model.ts's statusCodeOf reads only the call's own text). */
const UNAUTHORIZED_TEXT = /401|UNAUTHORIZED/;

interface FileFacts {
  /** A JWT library is named: any function may decode through it. */
  jwt: boolean;
  /** An HTTP client and a 401: a function raising a 401 may verify with the issuer. */
  issuer: boolean;
}

function factsOf(file: WorkspaceFile): FileFacts {
  return { jwt: mayUseJwtLibrary(file.text), issuer: HTTP_CLIENT_TEXT.test(file.text) && UNAUTHORIZED_TEXT.test(file.text) };
}

/** A file where some function may verify by itself or by a configured or library dependency. */
function isSeedFile(file: WorkspaceFile, names: RegExp | undefined): boolean {
  const facts = factsOf(file);
  if (facts.jwt || facts.issuer || LIBRARY_AUTH_TEXT.test(file.text)) return true;
  // looksUpSessionToken's text tests, on the whole file.
  if (/expir/i.test(file.text) && /(\.token|token\s*==|token=|"token"|api_key)/.test(file.text)) return true;
  return file.moduleName.startsWith('fastapi_users') || (!!names && names.test(file.text));
}

/** Superset test: `fn` verifies by itself, or names a callable (or alias) in `names`, or a library dependency. */
function mayVerify(fn: FunctionInfo, facts: FileFacts, names: RegExp | undefined): boolean {
  if (facts.jwt || looksUpSessionToken(fn) || (facts.issuer && UNAUTHORIZED_TEXT.test(fn.body.text))) return true;
  const text = fn.node.text;
  return LIBRARY_AUTH_TEXT.test(text) || (!!names && names.test(text));
}

/** Values that can stand for a callable: a name, an attribute, a call (an instance), `Annotated[...]`; not a list. */
const ALIAS_VALUES: ReadonlySet<string> = new Set(['identifier', 'attribute', 'call', 'subscript']);

/**
 * Every function of the workspace that can be an auth dependency (a superset: the caller asks auth.ts of each), in
 * file path order and then the module's order, memoized per workspace state.
 */
export function authCandidates(ws: Workspace): AuthCandidate[] {
  return ws.memo('auth:candidates', () => {
    // Configured dependencies are auth dependencies whatever their body: their names seed the search.
    const names = new Set(ws.settingsFor(ws.root).authDependencies.map((e) => e.split(/[.:]/).pop() ?? ''));
    const chosen = new Map<string, WorkspaceFile>();
    let frontier = ws.allFiles().filter((f) => isSeedFile(f, wordsPattern(names)));
    // Each round adds at least one new name, so this ends. A file named again is looked at again: a function that
    // names a callable found later may verify through it.
    while (frontier.length) {
      const before = names.size;
      const known = wordsPattern(names);
      for (const f of frontier) {
        chosen.set(f.path, f);
        const model = safeModel(ws, f.path);
        if (!model) continue;
        const facts = factsOf(f);
        for (const fn of model.functions) {
          if (!mayVerify(fn, facts, known)) continue;
          if (functionVerdict(ws, { fn, model, file: f.path, qualified: `${model.moduleName}.${fn.qualname}` }) === 'none') continue;
          names.add(fn.name);
          // `Depends(JWTBearer())`: callers name the class of a callable instance.
          if (fn.className) names.add(fn.className);
        }
      }
      // `CurrentUser = Annotated[User, Depends(get_current_user)]`, `auth = JWTBearer()`, `current_active_user =
      // fastapi_users.current_user(active=True)`: module-level names of verifying callables.
      const all = wordsPattern(names);
      for (const f of frontier) {
        const model = safeModel(ws, f.path);
        if (!model) continue;
        for (const [name, list] of model.assignments) {
          if (list.some((a) => ALIAS_VALUES.has(a.value.type) && ((all && all.test(a.value.text)) || LIBRARY_AUTH_TEXT.test(a.value.text)))) names.add(name);
        }
        // `from app.security import decode_token as verify`: files importing it from here say `verify` only.
        for (const b of model.imports.values()) {
          const original = b.target.slice(b.target.lastIndexOf('.') + 1);
          if (b.local !== original && names.has(original)) names.add(b.local);
        }
      }
      if (names.size === before) break;
      const fresh = wordsPattern([...names].slice(before));
      frontier = fresh ? ws.allFiles().filter((f) => fresh.test(f.text)) : [];
    }
    const known = wordsPattern(names);
    const out: AuthCandidate[] = [];
    for (const f of [...chosen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const model = safeModel(ws, f.path);
      if (!model) continue;
      const facts = factsOf(f);
      for (const fn of model.functions) if (mayVerify(fn, facts, known)) out.push({ file: f.path, model, fn });
    }
    return out;
  });
}
