/**
 * The Workspace: the set of Python files under a root with their texts, module names, lazily built module
 * models, pinned package versions, and memoized cross-file indexes (routes, auth dependencies, owned models)
 * that other workspace modules compute through `memo`. Knows nothing of LSP, argv or output formats.
 * Invariant: a derived value never outlives a change to anything it was computed from, so queries never see stale
 * facts. Memos record what they read (memo-deps.ts); a change to a Python file drops only the memos that read it
 * (its text or model, a pattern whose verdict for it changed, the file set, or every file); a change to settings
 * or to a non-Python file drops them all.
 *
 * Why a kept memo never holds a Node of a freed tree: trees reach the analysis only through `model(path)` (the one
 * place a WorkspaceFile's text is parsed; `setFile`'s trees become models there). `model(X)` records X, so a memo
 * holding a Node of X's tree read X, directly or through a child memo (children propagate staleness), or got it
 * from a volatile cache (then it is volatile itself). `setFile(X)`/`removeFile(X)` frees X's tree only together
 * with dropping every memo that read X; `dispose()` frees every tree and drops every memo.
 */
import * as path from 'path';
import { createHash } from 'crypto';
import { ModuleModel } from '../python/module-model';
import { parsePython, type Tree } from '../python/parser';
import { defaultSettings, type Settings } from '../core/settings';
import { mergePins, normalizePackageName, pinsFromFile, VERSION_FILE_PATTERN, type PinnedVersion } from './pinned-versions';
import { MemoTable, type MemoStats } from './memo-deps';

/**
 * Dependency keys recorded by the accessors (see memo-deps.ts). `FILE + path`: that file's text (and model), also its
 * presence; `PATTERN + key`: which files a `filesMentioning` pattern matches; `FILE_SET`: the set of Python files
 * and their module names; `EVERY_FILE`: the text of every file (what `allFiles()` hands out).
 */
const FILE = 'f:';
const PATTERN = 'p:';
const FILE_SET = 's';
const EVERY_FILE = '*';

export interface WorkspaceFile {
  /** Absolute path. */
  path: string;
  text: string;
  /** Dotted module name derived from the path (`app.api.deps`). */
  moduleName: string;
  isPackage: boolean;
  hash: string;
}

export class Workspace {
  private readonly files = new Map<string, WorkspaceFile>();
  private readonly models = new Map<string, ModuleModel>();
  /** Trees handed in by `setFile` (the language server's incremental parses), waiting to become models. */
  private readonly parsed = new Map<string, Tree>();
  private readonly auxFiles = new Map<string, string>();
  private readonly memos = new MemoTable();
  /** `filesMentioning` verdicts by pattern, then by content hash: an edit re-tests only the edited file. */
  private readonly mentions = new Map<string, Map<string, boolean>>();
  /** The patterns behind `mentions` (flags without g/y), to re-test an edited file. */
  private readonly patterns = new Map<string, RegExp>();
  private moduleIndex: Map<string, string[]> | undefined;
  /**
   * Per built model, the import root chosen for each absolute import it made (`rootImport`): the choice depends on
   * the file set, so a file appearing or disappearing re-decides them and drops the models whose choice changed.
   */
  private readonly importRoots = new Map<string, Map<string, string>>();
  /** `allFiles()` in path order; the workspace-wide indexes ask for it many times per analysis. */
  private sorted: WorkspaceFile[] | undefined;
  private pins: Map<string, PinnedVersion> | undefined;
  /** How many module models were built (parses), for the benchmarks and the prescan check. */
  modelsBuilt = 0;
  /** Settings for a file; the CLI and server install a resolver that reads the nearest pyproject. */
  settingsFor: (file: string) => Settings;

  constructor(readonly root: string, settingsFor?: (file: string) => Settings) {
    const defaults = defaultSettings();
    this.settingsFor = settingsFor ?? (() => defaults);
  }

  // ---- files ------------------------------------------------------------------------------------

  /**
   * Adds or updates a file. `tree`, when given, is the parse of `text` (the language server re-parses edited
   * buffers incrementally); the workspace takes ownership of it and deletes it when it is no longer needed.
   */
  setFile(filePath: string, text: string, tree?: Tree): void {
    const abs = path.resolve(filePath);
    if (!abs.endsWith('.py')) {
      tree?.delete();
      if (this.auxFiles.get(abs) === text) return;
      this.auxFiles.set(abs, text);
      this.pins = undefined;
      // Non-Python files feed pinned versions and whatever settings resolvers read: rare edits, drop everything.
      this.memos.clear();
      return;
    }
    const hash = createHash('sha1').update(text).digest('hex');
    const prev = this.files.get(abs);
    if (prev?.hash === hash) {
      tree?.delete();
      return;
    }
    const { moduleName, isPackage } = moduleNameFor(this.root, abs);
    const next: WorkspaceFile = { path: abs, text, moduleName, isPackage, hash };
    const changed = this.changedBy(prev, next);
    this.files.set(abs, next);
    this.sorted = undefined;
    const rerooted = prev ? [] : this.fileSetChanged();
    for (const p of rerooted) changed.add(FILE + p);
    // Memos first: a memo that read the old model is dropped before its tree is freed.
    this.memos.invalidate(changed);
    this.dropModel(abs);
    for (const p of rerooted) this.dropModel(p);
    if (tree) this.parsed.set(abs, tree);
  }

  /**
   * Adds a Python file by its content hash, its text read by `load` on first use: the language server's start-up
   * with a persistent index cache that vouches for the hash (lsp/index-cache.ts) need not read files the analysis
   * never asks for. `load` must not throw; what it returns is the file's text from then on (a file changed on disk
   * meanwhile is reported by the watcher and set again). Replacing a file that is present takes the ordinary path.
   */
  setFileLazy(filePath: string, hash: string, load: () => string): void {
    const abs = path.resolve(filePath);
    if (!abs.endsWith('.py') || this.files.has(abs)) return this.setFile(abs, load());
    const { moduleName, isPackage } = moduleNameFor(this.root, abs);
    let text: string | undefined;
    this.files.set(abs, { path: abs, get text() { return (text ??= load()); }, moduleName, isPackage, hash });
    this.sorted = undefined;
    const rerooted = this.fileSetChanged();
    // A new file: instead of working out which pattern verdicts it flips (that needs its text), every memo goes
    // (an index adds files before any analysis, so there are none).
    this.memos.clear();
    for (const p of rerooted) this.dropModel(p);
  }

  removeFile(filePath: string): void {
    const abs = path.resolve(filePath);
    if (this.auxFiles.delete(abs)) {
      this.pins = undefined;
      this.memos.clear();
    }
    const prev = this.files.get(abs);
    if (prev) {
      const changed = this.changedBy(prev, undefined);
      this.files.delete(abs);
      this.sorted = undefined;
      const rerooted = this.fileSetChanged();
      for (const p of rerooted) changed.add(FILE + p);
      this.memos.invalidate(changed);
      for (const p of rerooted) this.dropModel(p);
    }
    this.dropModel(abs);
  }

  /**
   * The dependency keys a change of one Python file touches: its content, every file (as `allFiles()` users see
   * them), the file set when it appears or disappears, and each tracked pattern whose verdict for it flips.
   */
  private changedBy(prev: WorkspaceFile | undefined, next: WorkspaceFile | undefined): Set<string> {
    const abs = (prev ?? next)!.path;
    const changed = new Set<string>([FILE + abs, EVERY_FILE]);
    if (!prev || !next) changed.add(FILE_SET);
    for (const [key, re] of this.patterns) {
      if (!this.memos.has(mentioningKey(key))) continue; // no live list, so nothing depends on the pattern
      if (this.verdict(key, re, prev) !== this.verdict(key, re, next)) changed.add(PATTERN + key);
    }
    return changed;
  }

  /** Whether `file` matches the pattern `key` (cached by content hash); an absent file matches nothing. */
  private verdict(key: string, re: RegExp, file: WorkspaceFile | undefined): boolean {
    if (!file) return false;
    let byHash = this.mentions.get(key);
    if (!byHash) this.mentions.set(key, (byHash = new Map()));
    let hit = byHash.get(file.hash);
    if (hit === undefined) byHash.set(file.hash, (hit = re.test(file.text)));
    return hit;
  }

  /** Non-Python files the analysis reads (`requirements*.txt`, `pyproject.toml`, locks, `.env`, `.gitignore`). */
  auxFile(filePath: string): string | undefined {
    return this.auxFiles.get(path.resolve(filePath));
  }

  auxFilePaths(): string[] {
    return [...this.auxFiles.keys()].sort();
  }

  /** The file at a path (its text is a dependency of the memo being computed, as is its absence). */
  file(filePath: string): WorkspaceFile | undefined {
    // Most callers pass a path this workspace handed out (absolute, normalized): no need to resolve it again.
    const known = this.files.get(filePath);
    if (known) {
      this.readFile(filePath);
      return known;
    }
    const abs = path.resolve(filePath);
    this.readFile(abs);
    return this.files.get(abs);
  }

  /** Every Python file, by path. A memo that asks depends on every file's text (callers read `f.text`). */
  allFiles(): WorkspaceFile[] {
    this.memos.read(EVERY_FILE);
    // A copy: callers may sort or filter what they get.
    return this.sortedFiles().slice();
  }

  /** Records that the memo being computed read a file (the check first: most reads happen outside any memo). */
  private readFile(abs: string): void {
    if (this.memos.tracking) this.memos.read(FILE + abs);
  }

  private sortedFiles(): WorkspaceFile[] {
    this.sorted ??= [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.sorted;
  }

  /**
   * The files (sorted by path) whose text matches `pattern`: the cheap text prefilter of a workspace-wide index,
   * so that an index parses only files that can contribute (a file that never says `jwt` holds no JWT call).
   * Verdicts are cached by content hash and survive edits of other files; the list itself is memoized per state.
   * A memo that asks depends on the list (it changes only when some file's verdict flips) and on the text of the
   * files listed, not on the others.
   */
  filesMentioning(pattern: RegExp): WorkspaceFile[] {
    const key = `${pattern.source}/${pattern.flags.replace(/[gy]/g, '')}`;
    return this.memos.get(mentioningKey(key), () => {
      let re = this.patterns.get(key);
      // A sticky or global pattern keeps state between tests; a private copy without those flags does not.
      if (!re) this.patterns.set(key, (re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''))));
      const byHash = this.mentions.get(key);
      // Verdicts of texts that no file has any more are dropped once they outnumber the live ones.
      if (byHash && byHash.size > 2 * this.files.size + 64) {
        const live = new Set([...this.files.values()].map((f) => f.hash));
        for (const h of [...byHash.keys()]) if (!live.has(h)) byHash.delete(h);
      }
      // Untracked reads (the list's dependencies are declared precisely below, not as "every file").
      const out = this.sortedFiles().filter((f) => this.verdict(key, re, f));
      this.memos.read(PATTERN + key);
      this.memos.readAll(out.map((f) => FILE + f.path));
      return out;
    }).slice();
  }

  /** The module model of a file, parsed on first use and kept until the file changes. */
  model(filePath: string): ModuleModel | undefined {
    const known = this.models.get(filePath);
    if (known) {
      this.readFile(filePath);
      return known;
    }
    const abs = path.resolve(filePath);
    this.readFile(abs);
    const cached = this.models.get(abs);
    if (cached) return cached;
    const file = this.files.get(abs);
    if (!file) return undefined;
    const given = this.parsed.get(abs);
    this.parsed.delete(abs);
    const roots = new Map<string, string>();
    const rooter = (dotted: string): string => {
      let root = roots.get(dotted);
      if (root === undefined) roots.set(dotted, (root = this.importRootFor(file, dotted)));
      return root;
    };
    const model = new ModuleModel(given ?? parsePython(file.text), file.text, file.moduleName, file.isPackage, rooter);
    this.models.set(abs, model);
    if (roots.size > 0) this.importRoots.set(abs, roots);
    this.modelsBuilt++;
    return model;
  }

  /** Frees every parse tree; models are rebuilt on demand. Memos go too: they may hold Nodes of those trees. */
  dispose(): void {
    this.memos.clear();
    for (const key of new Set([...this.models.keys(), ...this.parsed.keys()])) this.dropModel(key);
  }

  private dropModel(abs: string): void {
    this.parsed.get(abs)?.delete();
    this.parsed.delete(abs);
    this.importRoots.delete(abs);
    const model = this.models.get(abs);
    if (model) {
      model.tree.delete();
      this.models.delete(abs);
    }
  }

  // ---- modules ----------------------------------------------------------------------------------

  /**
   * The file that defines module `name`. Exact module names win; otherwise a file whose module name ends with
   * `.name` (apps run from a subfolder: `backend/app/main.py` imported as `app.main`), the shortest first, then the
   * first by path. Absolute imports that several projects of a workspace could mean were rooted when their module
   * was modelled (`rootImport`), so the names analysis code passes here are mostly exact already.
   */
  fileForModule(name: string): WorkspaceFile | undefined {
    this.memos.read(FILE_SET);
    const hit = this.candidates(name)?.[0];
    if (hit) this.readFile(hit);
    return hit ? this.files.get(hit) : undefined;
  }

  /** The paths whose module name is `name` or ends with `.name`, best first (`fileForModule`); untracked. */
  private candidates(name: string): string[] | undefined {
    if (!this.moduleIndex) {
      this.moduleIndex = new Map();
      for (const f of this.files.values()) {
        const parts = f.moduleName.split('.');
        for (let i = 0; i < parts.length; i++) {
          const suffix = parts.slice(i).join('.');
          const list = this.moduleIndex.get(suffix) ?? [];
          list.push(f.path);
          this.moduleIndex.set(suffix, list);
        }
      }
      for (const list of this.moduleIndex.values()) {
        list.sort((a, b) => this.files.get(a)!.moduleName.length - this.files.get(b)!.moduleName.length || (a < b ? -1 : 1));
      }
    }
    return this.moduleIndex.get(name);
  }

  /** The file whose module name is exactly `name` (the first by path when several are); untracked. */
  private exactModule(name: string): string | undefined {
    const first = this.candidates(name)?.[0];
    return first !== undefined && this.files.get(first)!.moduleName === name ? first : undefined;
  }

  /**
   * The import root of an absolute import `dotted` made by `importer`, the way Python finds it: the directory on
   * sys.path when the importer runs, so that `from app.crud.task import get_task` in services/orders/app/api/x.py
   * means services/orders/app/crud/task.py and not services/billing/app/crud/task.py. Returns the dotted prefix to
   * put before `dotted` (`services.orders`), or '' to keep it as written; '' whenever the module `dotted` names (its
   * longest prefix that is a workspace module) has one candidate, or the importer's own project holds the one
   * `fileForModule` picks anyway, so a workspace without such an ambiguity is analysed exactly as before. The import
   * root is the parent of the innermost folder among the importer's own that is named like the import's top-level
   * package (services/orders/app/... importing `app.x`); for an importer outside such a folder (services/orders/
   * main.py, tests/), its nearest folder that holds the module, unless that folder lies inside the project of the
   * candidate `fileForModule` picks (two modules of one project, `app/schemas.py` and `app/routers/schemas.py`:
   * `from schemas import X` keeps its usual meaning). Reads the file set untracked: the models made with it are
   * re-decided when the file set changes (`fileSetChanged`).
   */
  private importRootFor(importer: WorkspaceFile, dotted: string): string {
    const parts = dotted.split('.');
    let module = '';
    let list: string[] | undefined;
    for (let depth = parts.length; depth > 0 && !list; depth--) {
      module = parts.slice(0, depth).join('.');
      list = this.candidates(module);
    }
    if (!list || list.length < 2) return '';
    const usual = list[0];
    const dirs = importer.moduleName ? importer.moduleName.split('.') : [];
    if (!importer.isPackage) dirs.pop();
    const choose = (root: string): string | undefined => {
      const hit = this.exactModule(`${root}.${module}`);
      return hit === undefined ? undefined : hit === usual ? '' : root;
    };
    let inside = false;
    for (let i = dirs.length - 1; i >= 1; i--) {
      if (dirs[i] !== parts[0]) continue;
      inside = true;
      const root = choose(dirs.slice(0, i).join('.'));
      if (root !== undefined) return root;
    }
    if (inside) return '';
    const usualName = this.files.get(usual)!.moduleName;
    const usualRoot = usualName.length > module.length ? usualName.slice(0, usualName.length - module.length - 1) : '';
    for (let i = dirs.length; i >= 1; i--) {
      const folder = dirs.slice(0, i).join('.');
      const root = choose(folder);
      if (root === undefined) continue;
      const nested = usualRoot === '' || folder === usualRoot || folder.startsWith(`${usualRoot}.`);
      return nested ? '' : root;
    }
    return '';
  }

  /**
   * The file set changed: the module index is rebuilt on next use, and the models whose import roots it changes
   * are returned, for the caller to drop them with the memos that read them.
   */
  private fileSetChanged(): string[] {
    this.moduleIndex = undefined;
    const out: string[] = [];
    for (const [abs, roots] of this.importRoots) {
      const importer = this.files.get(abs);
      if (!importer) {
        out.push(abs);
        continue;
      }
      for (const [dotted, root] of roots) {
        if (this.importRootFor(importer, dotted) !== root) {
          out.push(abs);
          break;
        }
      }
    }
    return out;
  }

  /**
   * What the absolute name `dotted` (`app.api.deps.CurrentUser`) means when `fromFile` imports it: rooted at that
   * file's import root when several projects hold its module (see `importRootFor`), else `dotted` itself. For code
   * that writes an import into a file (a fix) and must check it names what it means there.
   */
  rootedFrom(fromFile: string, dotted: string): string {
    this.memos.read(FILE_SET);
    const importer = this.files.get(path.resolve(fromFile));
    const root = importer ? this.importRootFor(importer, dotted) : '';
    return root ? `${root}.${dotted}` : dotted;
  }

  /**
   * Splits a qualified name into the workspace module that defines it and the rest:
   * `app.api.deps.get_current_user` -> (file of app.api.deps, "get_current_user").
   */
  locate(qualified: string): { file: WorkspaceFile; member: string } | undefined {
    const parts = qualified.split('.');
    for (let i = parts.length; i > 0; i--) {
      const file = this.fileForModule(parts.slice(0, i).join('.'));
      if (file) return { file, member: parts.slice(i).join('.') };
    }
    return undefined;
  }

  // ---- versions ---------------------------------------------------------------------------------

  pinnedVersion(pkg: string): PinnedVersion | undefined {
    if (!this.pins) {
      const all: PinnedVersion[] = [];
      for (const [file, text] of [...this.auxFiles].sort()) {
        if (VERSION_FILE_PATTERN.test(file)) all.push(...pinsFromFile(file, text));
      }
      this.pins = mergePins(all);
    }
    return this.pins.get(normalizePackageName(pkg));
  }

  // ---- derived facts ----------------------------------------------------------------------------

  /** Drops every derived fact; call when the settings behind `settingsFor` changed (they can feed cross-file facts). */
  settingsChanged(): void {
    this.memos.clear();
  }

  /**
   * Computes a cross-file fact once and keeps it until something it read changes. Reads go through this
   * workspace (`file`, `model`, `allFiles`, `filesMentioning`, `fileForModule`/`locate`, other memos); compute must
   * not close over models or files obtained outside it (they would be read untracked). A value filled after
   * compute returns must be a `cache` (an empty Map or Set returned here is taken as one).
   * Granularity is what makes an edit cheap: a memo that walks `allFiles()` is recomputed after every edit, while
   * an index assembled from one memo per file (`memo(\`idx:${path}\`, ...)`, plain data, over `filesMentioning`)
   * recomputes only the edited file's part.
   */
  memo<T>(key: string, compute: () => T): T {
    return this.memos.get(key, compute);
  }

  /**
   * A value filled lazily by later callers (`cache(k, () => new Map())`, then `get`/`set` by whoever asks): its fills
   * read files outside any compute, so it is dropped on every change, with every memo that read it.
   */
  cache<T>(key: string, create: () => T): T {
    return this.memos.get(key, create, { volatile: true });
  }

  /** Counts of memo work (computed, hits, dropped and kept across changes), for tests and benchmarks. */
  get memoStats(): Readonly<MemoStats> {
    return this.memos.stats;
  }

  /** Keys of the memos alive now (tests check what an edit keeps). */
  memoKeys(): string[] {
    return this.memos.keys();
  }
}

function mentioningKey(patternKey: string): string {
  return `workspace:mentioning:${patternKey}`;
}

/** `root/src/app/api/deps.py` -> `app.api.deps`; `root/app/__init__.py` -> `app` (a package). */
/** `ws.model(file)`, or undefined when building it throws: one bad file must not stop an index over many. */
export function safeModel(ws: Workspace, file: string): ModuleModel | undefined {
  try {
    return ws.model(file);
  } catch {
    return undefined;
  }
}

export function moduleNameFor(root: string, file: string): { moduleName: string; isPackage: boolean } {
  let rel = path.relative(root, file).split(path.sep).join('/');
  if (rel.startsWith('../')) rel = path.basename(file);
  rel = rel.replace(/\.py$/, '');
  const parts = rel.split('/').filter(Boolean);
  if (parts[0] === 'src' && parts.length > 1) parts.shift();
  const isPackage = parts[parts.length - 1] === '__init__';
  if (isPackage) parts.pop();
  return { moduleName: parts.filter((p) => /^[A-Za-z_][\w]*$/.test(p) || p.includes('-')).join('.'), isPackage };
}
