/**
 * The Workspace: the set of Python files under a root with their texts, module names, lazily built module
 * models, pinned package versions, and memoized cross-file indexes (routes, auth dependencies, owned models)
 * that other workspace modules compute through `memo`. Knows nothing of LSP, argv or output formats.
 * Invariant: every derived value is dropped when any file changes, so queries never see stale facts.
 */
import * as path from 'path';
import { createHash } from 'crypto';
import { ModuleModel } from '../python/module-model';
import { parsePython, type Tree } from '../python/parser';
import { defaultSettings, type Settings } from '../core/settings';
import { mergePins, normalizePackageName, pinsFromFile, VERSION_FILE_PATTERN, type PinnedVersion } from './pinned-versions';

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
  private readonly memos = new Map<string, unknown>();
  /** `filesMentioning` verdicts by pattern, then by content hash: an edit re-tests only the edited file. */
  private readonly mentions = new Map<string, Map<string, boolean>>();
  private moduleIndex: Map<string, string[]> | undefined;
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
      this.auxFiles.set(abs, text);
      this.pins = undefined;
      this.invalidate();
      return;
    }
    const hash = createHash('sha1').update(text).digest('hex');
    const prev = this.files.get(abs);
    if (prev?.hash === hash) {
      tree?.delete();
      return;
    }
    const { moduleName, isPackage } = moduleNameFor(this.root, abs);
    this.files.set(abs, { path: abs, text, moduleName, isPackage, hash });
    this.sorted = undefined;
    this.dropModel(abs);
    if (tree) this.parsed.set(abs, tree);
    if (!prev) this.moduleIndex = undefined;
    this.invalidate();
  }

  removeFile(filePath: string): void {
    const abs = path.resolve(filePath);
    if (this.auxFiles.delete(abs)) this.pins = undefined;
    if (this.files.delete(abs)) this.moduleIndex = undefined;
    this.sorted = undefined;
    this.dropModel(abs);
    this.invalidate();
  }

  /** Non-Python files the analysis reads (`requirements*.txt`, `pyproject.toml`, locks, `.env`, `.gitignore`). */
  auxFile(filePath: string): string | undefined {
    return this.auxFiles.get(path.resolve(filePath));
  }

  auxFilePaths(): string[] {
    return [...this.auxFiles.keys()].sort();
  }

  file(filePath: string): WorkspaceFile | undefined {
    return this.files.get(path.resolve(filePath));
  }

  allFiles(): WorkspaceFile[] {
    this.sorted ??= [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    // A copy: callers may sort or filter what they get.
    return this.sorted.slice();
  }

  /**
   * The files (sorted by path) whose text matches `pattern`: the cheap text prefilter of a workspace-wide index,
   * so that an index parses only files that can contribute (a file that never says `jwt` holds no JWT call).
   * Verdicts are cached by content hash and survive edits of other files; the list itself is memoized per state.
   */
  filesMentioning(pattern: RegExp): WorkspaceFile[] {
    const key = `${pattern.source}/${pattern.flags.replace(/[gy]/g, '')}`;
    return this.memo(`workspace:mentioning:${key}`, () => {
      // A sticky or global pattern keeps state between tests; a private copy without those flags does not.
      const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      let byHash = this.mentions.get(key);
      if (!byHash) this.mentions.set(key, (byHash = new Map()));
      // Verdicts of texts that no file has any more are dropped once they outnumber the live ones.
      if (byHash.size > 2 * this.files.size + 64) {
        const live = new Set([...this.files.values()].map((f) => f.hash));
        for (const h of [...byHash.keys()]) if (!live.has(h)) byHash.delete(h);
      }
      const out: WorkspaceFile[] = [];
      for (const f of this.allFiles()) {
        let hit = byHash.get(f.hash);
        if (hit === undefined) byHash.set(f.hash, (hit = re.test(f.text)));
        if (hit) out.push(f);
      }
      return out;
    });
  }

  /** The module model of a file, parsed on first use and kept until the file changes. */
  model(filePath: string): ModuleModel | undefined {
    const abs = path.resolve(filePath);
    const cached = this.models.get(abs);
    if (cached) return cached;
    const file = this.files.get(abs);
    if (!file) return undefined;
    const given = this.parsed.get(abs);
    this.parsed.delete(abs);
    const model = new ModuleModel(given ?? parsePython(file.text), file.text, file.moduleName, file.isPackage);
    this.models.set(abs, model);
    this.modelsBuilt++;
    return model;
  }

  /** Frees every parse tree; models are rebuilt on demand. */
  dispose(): void {
    for (const key of new Set([...this.models.keys(), ...this.parsed.keys()])) this.dropModel(key);
  }

  private dropModel(abs: string): void {
    this.parsed.get(abs)?.delete();
    this.parsed.delete(abs);
    const model = this.models.get(abs);
    if (model) {
      model.tree.delete();
      this.models.delete(abs);
    }
  }

  // ---- modules ----------------------------------------------------------------------------------

  /**
   * The file that defines module `name`. Exact module names win; otherwise a file whose module name ends with
   * `.name` (apps run from a subfolder: `backend/app/main.py` imported as `app.main`), the shortest first.
   */
  fileForModule(name: string): WorkspaceFile | undefined {
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
    const hit = this.moduleIndex.get(name)?.[0];
    return hit ? this.files.get(hit) : undefined;
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
    this.invalidate();
  }

  /** Computes a cross-file fact once per workspace state. */
  memo<T>(key: string, compute: () => T): T {
    if (this.memos.has(key)) return this.memos.get(key) as T;
    const value = compute();
    this.memos.set(key, value);
    return value;
  }

  private invalidate(): void {
    this.memos.clear();
  }
}

/** `root/src/app/api/deps.py` -> `app.api.deps`; `root/app/__init__.py` -> `app` (a package). */
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
