/**
 * The files that can define an auth dependency, found without parsing the others: what the workspace-wide
 * questions "which functions are auth dependencies?" (checklist evidence, the preferred dependency for fixes) need.
 * A callable verifies a credential only if it decodes a JWT, looks up an opaque session token, asks the issuer over
 * HTTP, is configured or comes from fastapi-users (the seeds), or calls / depends on a callable that does, which
 * its text names. So the candidates are the seed files, then every file naming a verifying callable found so far,
 * (or a class holding one, or a module-level alias of one), until nothing new appears. Knows nothing of rules.
 */
import type { Workspace, WorkspaceFile } from './workspace';
import type { ModuleModel } from '../python/module-model';
import { mayUseJwtLibrary } from '../python/jwt-libs';
import { functionVerdict } from './auth';

/** Each clause is a text superset of one seed in auth.ts's verdicts (session lookup, issuer call, fastapi-users). */
function isSeed(file: WorkspaceFile, configuredNames: RegExp | undefined): boolean {
  const text = file.text;
  if (mayUseJwtLibrary(text)) return true;
  if (/expir/i.test(text) && /(\.token|token\s*==|token=|"token"|api_key)/.test(text)) return true;
  if (/\b(httpx|requests|aiohttp)\b/.test(text) && text.includes('401')) return true;
  if (/fastapi_users|FastAPIUsers|current_user/.test(text) || file.moduleName.startsWith('fastapi_users')) return true;
  return !!configuredNames && configuredNames.test(text);
}

function wordsPattern(names: Iterable<string>): RegExp | undefined {
  const list = [...new Set(names)].filter((n) => /^\w+$/.test(n)).sort();
  return list.length ? new RegExp(`\\b(?:${list.join('|')})\\b`) : undefined;
}

/** Functions of `model` that verify a credential (their verdict is exact: it follows calls into any file). */
function verifyingFunctionNames(ws: Workspace, file: string, model: ModuleModel): string[] {
  const out: string[] = [];
  for (const fn of model.functions) {
    if (functionVerdict(ws, { fn, model, file, qualified: `${model.moduleName}.${fn.qualname}` }) === 'none') continue;
    out.push(fn.name);
    // `Depends(JWTBearer())`: the class is what callers name.
    if (fn.className) out.push(fn.className);
  }
  return out;
}

/** `CurrentUser = Annotated[User, Depends(get_current_user)]`, `auth = JWTBearer()`: module-level names of them. */
function aliasNames(model: ModuleModel, names: RegExp): string[] {
  const out: string[] = [];
  for (const [name, list] of model.assignments) if (list.some((a) => names.test(a.value.text))) out.push(name);
  return out;
}

function safeModel(ws: Workspace, file: string): ModuleModel | undefined {
  try {
    return ws.model(file);
  } catch {
    return undefined;
  }
}

/** The candidate files, sorted by path; memoized per workspace state. */
export function authCandidateFiles(ws: Workspace): WorkspaceFile[] {
  return ws.memo('auth:candidate-files', () => {
    const configured = ws.settingsFor(ws.root).authDependencies.map((e) => e.split(/[.:]/).pop() ?? '');
    const configuredNames = wordsPattern(configured);
    const chosen = new Map<string, WorkspaceFile>();
    const names = new Set<string>();
    let frontier = ws.allFiles().filter((f) => isSeed(f, configuredNames));
    // Each round adds at least one new name, so this ends; files already chosen are looked at again only for aliases
    // of the new names.
    while (frontier.length) {
      for (const f of frontier) chosen.set(f.path, f);
      const before = names.size;
      for (const f of frontier) {
        const model = safeModel(ws, f.path);
        if (model) for (const n of verifyingFunctionNames(ws, f.path, model)) names.add(n);
      }
      const all = wordsPattern(names);
      if (all) {
        for (const f of frontier) {
          const model = safeModel(ws, f.path);
          if (model) for (const n of aliasNames(model, all)) names.add(n);
        }
      }
      if (names.size === before) break;
      const fresh = wordsPattern([...names].slice(before));
      frontier = fresh ? ws.allFiles().filter((f) => fresh.test(f.text)) : [];
    }
    return [...chosen.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  });
}
