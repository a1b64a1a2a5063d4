/**
 * The language server entry: wires the LSP connection (stdio or node IPC) to the documents, the folders and the
 * analyzer. Owns the session state (what is published, what is pending, indexing) and the scheduling policy:
 * a change re-analyses the changed document first and then the other open documents of its folder (routes can
 * depend on any file), after a short debounce, cancelling a run that a newer change overtook.
 * Invariant: nothing a user's file contains can take the process down; every handler catches and logs.
 */
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import {
  CodeActionKind,
  createConnection,
  DidChangeConfigurationNotification,
  DidChangeWatchedFilesNotification,
  FileChangeType,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  type CodeAction,
  type Diagnostic,
  type InitializeParams,
  type InitializeResult,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver/node';
import { initParser } from '../python/parser';
import { fixFile } from '../core/apply-fixes';
import { renderRuleDoc } from '../core/rule-docs';
import { RULES } from '../rules/index';
import {
  AuditRequest,
  ExportSarifRequest,
  FIX_ALL_KIND,
  RuleDocsRequest,
  StatusNotification,
  type AuditParams,
  type AuditResultMessage,
  type DiagnosticData,
  type ExportSarifResult,
  type FolderAudit,
  type RuleDocsParams,
  type RuleDocsResult,
  type StatusParams,
} from '../protocol';
import { Analyzer, type Logger } from './analysis';
import { auditFolder, type AuditRun } from './audit';
import { diagnosticActions, fixAllAction, minimalEdit } from './code-actions';
import { countDiagnostics, locatePackageRoot, toDiagnostic } from './diagnostics';
import { DocumentStore, pathOfUri, type OpenDocument } from './documents';
import { FolderSet, type Folder } from './folders';
import { cacheDirOption } from './index-cache';
import { belongsInIndex, indexFolder, readWatchedFile, yieldToEventLoop } from './indexer';
import { splitEditorSettings, type ServerSwitches } from './settings';
import { exportSarif } from './sarif';

/** Debounce while typing: long enough to skip most intermediate states, short enough to feel immediate. */
const TYPING_DEBOUNCE_MS = 200;
/** Debounce after files change on disk (a branch switch changes many at once). */
const WATCH_DEBOUNCE_MS = 300;

const connection = createConnection(ProposedFeatures.all);

const log: Logger = {
  info: (m) => connection.console.info(m),
  warn: (m) => connection.console.warn(m),
  error: (m) => connection.console.error(m),
};

// Last line of defence: a bug triggered by odd input must not end the session the user is typing in.
process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err}`));
process.on('unhandledRejection', (err) => log.error(`unhandled rejection: ${(err as Error)?.stack ?? err}`));

// The grammar's WebAssembly compiles off the main thread: started now, it overlaps setting up the connection and
// waiting for `initialize`, which awaits it (a failure is reported there, as the initialize error).
const parserReady = initParser();
parserReady.catch(() => undefined);

const documents = new DocumentStore();
const folders = new FolderSet();
const analyzer = new Analyzer(log);
const packageRoot = locatePackageRoot();
const docsDir = path.join(packageRoot.dir, 'docs', 'rules');

interface EditorConfig {
  switches: ServerSwitches;
  analysis: Record<string, unknown>;
}

const session = {
  configurationSupport: false,
  dynamicWatchers: false,
  dynamicConfiguration: false,
  progressSupport: false,
  state: 'starting' as StatusParams['state'],
  /** Editor settings by folder root ('' for files outside every folder). */
  editor: new Map<string, EditorConfig>(),
  /** Settings pushed with didChangeConfiguration, for clients without workspace/configuration. */
  pushedSettings: undefined as unknown,
  indexing: Promise.resolve() as Promise<void>,
  shownErrors: new Set<string>(),
};

// ---- publishing ------------------------------------------------------------------------------------

/** Diagnostics of the file-level analysis and of the workspace-level checks, by URI; published merged. */
const fileDiagnostics = new Map<string, { version: number | null; diagnostics: Diagnostic[] }>();
const workspaceDiagnostics = new Map<string, Diagnostic[]>();
/** URIs whose diagnostics came from Audit Workspace: they stay after their editor closes, like the CLI's report. */
const audited = new Set<string>();

function publish(uri: string): void {
  const own = fileDiagnostics.get(uri);
  const diagnostics = [...(own?.diagnostics ?? []), ...(workspaceDiagnostics.get(uri) ?? [])];
  void connection.sendDiagnostics({ uri, version: own?.version ?? undefined, diagnostics }).catch(() => undefined);
  scheduleStatus();
}

function setFileDiagnostics(uri: string, version: number | null, diagnostics: Diagnostic[]): void {
  if (diagnostics.length === 0 && !fileDiagnostics.has(uri)) {
    if (!workspaceDiagnostics.has(uri)) publish(uri);
    return;
  }
  if (diagnostics.length === 0) fileDiagnostics.delete(uri);
  else fileDiagnostics.set(uri, { version, diagnostics });
  publish(uri);
}

function clearFileDiagnostics(uri: string): void {
  if (fileDiagnostics.delete(uri)) publish(uri);
}

let statusTimer: NodeJS.Timeout | undefined;
function scheduleStatus(): void {
  statusTimer ??= setTimeout(() => {
    statusTimer = undefined;
    sendStatus();
  }, 30);
}

function sendStatus(): void {
  const lists = [...[...fileDiagnostics.values()].map((e) => e.diagnostics), ...workspaceDiagnostics.values()];
  const params: StatusParams = {
    state: session.state,
    files: folders.workspaceFolders().reduce((n, f) => n + f.workspace.allFiles().length, 0),
    counts: countDiagnostics(lists),
  };
  void connection.sendNotification(StatusNotification, params).catch(() => undefined);
}

function showSettingsErrors(folder: Folder): void {
  for (const message of folder.settings.takeErrors()) {
    if (session.shownErrors.has(message)) continue;
    session.shownErrors.add(message);
    log.error(message);
    connection.window.showErrorMessage(`JWT API Security: ${message}`);
  }
}

// ---- documents and folders ---------------------------------------------------------------------------

/** The path a document is analysed under; untitled buffers get a made-up path that is never written. */
function pathFor(doc: OpenDocument): string {
  return doc.path ?? path.join(os.tmpdir(), 'jwt-api-security-unsaved', `${encodeURIComponent(doc.uri)}.py`);
}

function editorFor(root: string): EditorConfig {
  return session.editor.get(root) ?? session.editor.get('') ?? splitEditorSettings(session.pushedSettings);
}

function folderOf(doc: OpenDocument): Folder {
  return folders.folderFor(pathFor(doc), () => editorFor('').analysis);
}

function openDocumentsIn(folder: Folder): OpenDocument[] {
  return documents.all().filter((d) => folderOf(d) === folder);
}

/** Puts the buffer into the folder's workspace (with a copy of its incremental parse, when it has one yet). */
function syncToWorkspace(doc: OpenDocument): void {
  try {
    folderOf(doc).workspace.setFile(pathFor(doc), doc.text, doc.parsedTree?.copy());
  } catch (err) {
    log.error(`could not update ${doc.uri}: ${(err as Error).message}`);
  }
}

async function fetchEditorConfig(root: string | undefined): Promise<EditorConfig> {
  if (!session.configurationSupport) return splitEditorSettings(session.pushedSettings);
  try {
    const raw = await connection.workspace.getConfiguration({ scopeUri: root ? pathToFileURL(root).toString() : undefined, section: 'jwtApiSecurity' });
    return splitEditorSettings(raw);
  } catch (err) {
    log.warn(`could not read the editor settings: ${(err as Error).message}`);
    return splitEditorSettings(undefined);
  }
}

// ---- scheduling -----------------------------------------------------------------------------------------

const pending = new Set<string>();
let runTimer: NodeJS.Timeout | undefined;
let generation = 0;

/** Queues documents for analysis; a newer call restarts the debounce and stops a run in progress. */
function schedule(uris: Iterable<string>, delayMs: number): void {
  for (const uri of uris) pending.add(uri);
  generation++;
  if (runTimer) clearTimeout(runTimer);
  runTimer = setTimeout(() => void runPending(), delayMs);
}

/** The changed document first, then the other open documents of its folder. */
function scheduleAround(doc: OpenDocument, delayMs: number): void {
  const folder = folderOf(doc);
  schedule([doc.uri, ...openDocumentsIn(folder).map((d) => d.uri)], delayMs);
}

async function runPending(): Promise<void> {
  runTimer = undefined;
  const run = generation;
  const batch = [...pending];
  pending.clear();
  for (let i = 0; i < batch.length; i++) {
    if (run !== generation) {
      // A newer change restarted the timer; what this run did not reach goes to the next one.
      for (const uri of batch.slice(i)) pending.add(uri);
      return;
    }
    analyzeDocument(batch[i]);
    await yieldToEventLoop();
  }
  if (session.state === 'ready' && pending.size === 0) {
    codeCacheWarm();
    parseOpenDocuments();
  }
}

/**
 * Parses the open documents not parsed yet (documents.ts parses on demand: a start-up answered from the index
 * cache needs no tree), once the first results are out, so that the first edit re-parses incrementally.
 */
function parseOpenDocuments(): void {
  setImmediate(() => {
    try {
      for (const doc of documents.all()) void doc.tree;
    } catch (err) {
      log.error(`parsing open documents: ${(err as Error).stack ?? err}`);
    }
  });
}

/**
 * Tells the loader (loader.ts) that the server has done its first work (indexed, analysed the open documents):
 * the code that ran is what its V8 code cache should hold. A no-op when the loader has nothing to write. Not
 * called after an index alone: the cache would miss the rules, and its write would fall on the first open.
 */
function codeCacheWarm(): void {
  const hook = (globalThis as Record<symbol, unknown>)[Symbol.for('jwt-api-security.codeCache.warm')];
  if (typeof hook === 'function') hook();
}

function analyzeDocument(uri: string): void {
  const doc = documents.get(uri);
  if (!doc) return;
  const folder = folderOf(doc);
  if (folder.isWorkspaceFolder && !folder.indexed) {
    // Until the index is built, cross-file facts are incomplete and would show false positives; indexing
    // re-queues every open document when it finishes.
    pending.add(uri);
    return;
  }
  const filePath = pathFor(doc);
  const config = editorFor(folder.isWorkspaceFolder ? folder.root : '');
  const resolved = folder.settings.forDirectory(path.dirname(filePath));
  showSettingsErrors(folder);
  if (!config.switches.enable) return setFileDiagnostics(uri, doc.version, []);
  if (folder.isWorkspaceFolder && doc.path && !belongsInIndex(doc.path, folder.root, resolved)) {
    return setFileDiagnostics(uri, doc.version, []);
  }
  if (doc.text.length > resolved.settings.maxFileSize) {
    analyzer.notices([{ level: 'warning', file: filePath, message: `not analysed: larger than max-file-size (${resolved.settings.maxFileSize} bytes)` }]);
    return setFileDiagnostics(uri, doc.version, []);
  }
  // A folder rebuilt or removed since the document was opened has not seen its buffer yet.
  if (folder.workspace.file(filePath)?.text !== doc.text) syncToWorkspace(doc);
  const { findings } = folder.analyze(analyzer, filePath);
  const own = findings.filter((f) => f.file === path.resolve(filePath));
  setFileDiagnostics(uri, doc.version, own.map((f) => toDiagnostic(f, doc.version, docsDir)));
}

function publishWorkspaceLevel(folder: Folder): void {
  const byUri = new Map<string, Diagnostic[]>();
  const config = editorFor(folder.root);
  if (config.switches.enable) {
    for (const f of folder.workspaceLevel(analyzer).findings) {
      const uri = pathToFileURL(f.file).toString();
      const list = byUri.get(uri) ?? [];
      list.push(toDiagnostic(f, null, docsDir));
      byUri.set(uri, list);
    }
  }
  for (const uri of [...workspaceDiagnostics.keys()]) {
    const file = pathOfUri(uri);
    if (file && folders.find(file) === folder && !byUri.has(uri)) {
      workspaceDiagnostics.delete(uri);
      publish(uri);
    }
  }
  for (const [uri, list] of byUri) {
    workspaceDiagnostics.set(uri, list);
    publish(uri);
  }
}

// ---- indexing ---------------------------------------------------------------------------------------------

async function indexFolders(targets: Folder[]): Promise<void> {
  session.state = 'indexing';
  sendStatus();
  let progress: WorkDoneProgressReporter | undefined;
  if (session.progressSupport) {
    try {
      progress = await connection.window.createWorkDoneProgress();
      progress.begin('JWT API Security', 0, 'Indexing the workspace', false);
    } catch {
      progress = undefined;
    }
  }
  for (const folder of targets) {
    const started = Date.now();
    try {
      const count = await indexFolder(folder.root, {
        settingsFor: (dir) => folder.settings.forDirectory(dir),
        onFile: (file, text) => {
          // An open buffer is newer than the disk.
          if (!documents.byPath(file)) folder.workspace.setFile(file, text);
        },
        onNotice: (n) => analyzer.notices([n]),
        onProgress: (done, total) => progress?.report(total ? Math.round((done / total) * 100) : 100, `${path.basename(folder.root)}: ${done}/${total} files`),
        isCancelled: () => folders.find(folder.root) !== folder,
        // With an index cache, files unchanged since the last run are not read until the analysis asks.
        cache: folder.cache,
        onCachedFile: (file, hash, load) => {
          if (!documents.byPath(file)) folder.workspace.setFileLazy(file, hash, load);
        },
      });
      if (folders.find(folder.root) !== folder) continue;
      log.info(`indexed ${folder.root}: ${count} files in ${Date.now() - started} ms`);
    } catch (err) {
      log.error(`indexing ${folder.root} failed: ${(err as Error).stack ?? err}`);
    }
    folder.indexed = true;
    const cacheReport = folder.checkpoint();
    if (cacheReport) log.info(cacheReport);
    showSettingsErrors(folder);
    publishWorkspaceLevel(folder);
    schedule(openDocumentsIn(folder).map((d) => d.uri), 0);
  }
  progress?.done();
  session.state = 'ready';
  sendStatus();
}

/**
 * Replaces folders' state (settings changed: exclusions and limits may change the file set) and re-indexes them.
 * `session.indexing` is what requests needing a complete index wait for; index runs queue one after another.
 */
function rebuildFolders(roots: string[]): Promise<void> {
  const done = (async () => {
    const rebuilt: Folder[] = [];
    for (const root of roots) {
      session.editor.set(root, await fetchEditorConfig(root));
      folders.remove(root);
      rebuilt.push(folders.add(root, editorFor(root).analysis));
    }
    for (const doc of documents.all()) if (rebuilt.includes(folderOf(doc))) syncToWorkspace(doc);
    const run = indexQueue.then(() => indexFolders(rebuilt));
    indexQueue = run.catch(() => undefined);
    await run;
  })();
  session.indexing = done.catch((err) => log.error(`indexing failed: ${(err as Error).stack ?? err}`));
  return done;
}
let indexQueue: Promise<void> = Promise.resolve();

// ---- lifecycle ----------------------------------------------------------------------------------------------

connection.onInitialize(async (params: InitializeParams): Promise<InitializeResult> => {
  const caps = params.capabilities;
  session.configurationSupport = !!caps.workspace?.configuration;
  session.dynamicWatchers = !!caps.workspace?.didChangeWatchedFiles?.dynamicRegistration;
  session.dynamicConfiguration = !!caps.workspace?.didChangeConfiguration?.dynamicRegistration;
  session.progressSupport = !!caps.window?.workDoneProgress;
  session.pushedSettings = (params.initializationOptions as { settings?: unknown } | undefined)?.settings;
  folders.cacheDir = cacheDirOption(params.initializationOptions);
  const codeCache = (globalThis as Record<symbol, unknown>)[Symbol.for('jwt-api-security.codeCache.status')];
  if (typeof codeCache === 'string') log.info(`V8 code cache of the server: ${codeCache}`);
  await parserReady;
  const roots = params.workspaceFolders?.map((f) => pathOfUri(f.uri)).filter((p): p is string => !!p) ??
    (params.rootUri ? [pathOfUri(params.rootUri)].filter((p): p is string => !!p) : []);
  for (const root of roots) folders.add(root, {});
  return {
    capabilities: {
      textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND], resolveProvider: false },
      workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
    },
    serverInfo: { name: 'jwt-api-security', version: packageRoot.version },
  };
});

connection.onInitialized(async () => {
  if (session.dynamicConfiguration) {
    void connection.client.register(DidChangeConfigurationNotification.type, { section: 'jwtApiSecurity' }).catch(() => undefined);
  }
  if (session.dynamicWatchers) {
    const globs = ['**/*.py', '**/pyproject.toml', '**/requirements*.txt', '**/{uv,poetry,Pipfile}.lock', '**/.env', '**/.env.*', '**/.gitignore'];
    void connection.client
      .register(DidChangeWatchedFilesNotification.type, { watchers: globs.map((globPattern) => ({ globPattern })) })
      .catch(() => undefined);
  }
  const roots = folders.workspaceFolders().map((f) => f.root);
  void rebuildFolders(roots).catch((err) => log.error(`start-up failed: ${(err as Error).stack ?? err}`));
  if (roots.length === 0) {
    session.state = 'ready';
    sendStatus();
  }
  connection.workspace.onDidChangeWorkspaceFolders((event) => {
    for (const removed of event.removed) {
      const root = pathOfUri(removed.uri);
      if (root) folders.remove(root);
    }
    const added = event.added.map((f) => pathOfUri(f.uri)).filter((p): p is string => !!p);
    void rebuildFolders(added);
  });
});

connection.onShutdown(() => {
  if (runTimer) clearTimeout(runTimer);
  pending.clear();
  documents.dispose();
  folders.dispose();
});

// ---- text synchronisation --------------------------------------------------------------------------------

connection.onDidOpenTextDocument(({ textDocument }) => {
  try {
    const doc = documents.open(textDocument.uri, textDocument.languageId, textDocument.version, textDocument.text);
    syncToWorkspace(doc);
    schedule([doc.uri], 0);
  } catch (err) {
    log.error(`open ${textDocument.uri}: ${(err as Error).stack ?? err}`);
  }
});

connection.onDidChangeTextDocument(({ textDocument, contentChanges }) => {
  try {
    const doc = documents.change(textDocument.uri, textDocument.version, contentChanges);
    if (!doc) return;
    syncToWorkspace(doc);
    const folder = folderOf(doc);
    if (editorFor(folder.isWorkspaceFolder ? folder.root : '').switches.run === 'onType') scheduleAround(doc, TYPING_DEBOUNCE_MS);
  } catch (err) {
    log.error(`change ${textDocument.uri}: ${(err as Error).stack ?? err}`);
  }
});

connection.onDidSaveTextDocument(({ textDocument }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return;
  const folder = folderOf(doc);
  if (editorFor(folder.isWorkspaceFolder ? folder.root : '').switches.run === 'onSave') scheduleAround(doc, 0);
});

connection.onDidCloseTextDocument(({ textDocument }) => {
  const doc = documents.get(textDocument.uri);
  if (!doc) return;
  const folder = folderOf(doc);
  const filePath = pathFor(doc);
  documents.close(doc.uri);
  try {
    // The workspace goes back to the file on disk (the buffer may have been unsaved, or never a file).
    const resolved = folder.settings.forDirectory(path.dirname(filePath));
    const text = doc.path && folder.isWorkspaceFolder && belongsInIndex(doc.path, folder.root, resolved)
      ? readWatchedFile(doc.path, resolved.settings.maxFileSize, (n) => analyzer.notices([n]))
      : undefined;
    if (text === undefined) folder.workspace.removeFile(filePath);
    else folder.workspace.setFile(filePath, text);
    if (audited.has(doc.uri) && text !== undefined) {
      const { findings } = analyzer.file(folder.workspace, filePath);
      setFileDiagnostics(doc.uri, null, findings.map((f) => toDiagnostic(f, null, docsDir)));
    } else {
      clearFileDiagnostics(doc.uri);
    }
    if (!folder.isWorkspaceFolder && openDocumentsIn(folder).length === 0) folders.remove(folder.root);
    else schedule(openDocumentsIn(folder).map((d) => d.uri), TYPING_DEBOUNCE_MS);
  } catch (err) {
    log.error(`close ${textDocument.uri}: ${(err as Error).stack ?? err}`);
  }
});

// ---- configuration and files on disk -------------------------------------------------------------------

connection.onDidChangeConfiguration((change) => {
  session.pushedSettings = (change.settings as { jwtApiSecurity?: unknown } | undefined)?.jwtApiSecurity ?? session.pushedSettings;
  session.shownErrors.clear();
  void rebuildFolders(folders.workspaceFolders().map((f) => f.root)).then(() => {
    // Files outside every folder: new settings too.
    for (const folder of folders.all().filter((f) => !f.isWorkspaceFolder)) folder.resetSettings(editorFor('').analysis);
    schedule(documents.all().map((d) => d.uri), 0);
  });
});

connection.onDidChangeWatchedFiles(({ changes }) => {
  const affected = new Set<Folder>();
  const reconfigure = new Set<string>();
  for (const change of changes) {
    const file = pathOfUri(change.uri);
    if (!file) continue;
    const folder = folders.find(file);
    if (!folder || !folder.isWorkspaceFolder) continue;
    try {
      if (path.basename(file) === 'pyproject.toml' || path.basename(file) === '.gitignore') reconfigure.add(folder.root);
      const open = documents.byPath(file) !== undefined;
      if (change.type === FileChangeType.Deleted) {
        const under = file + path.sep;
        for (const f of folder.workspace.allFiles()) if (f.path === file || f.path.startsWith(under)) folder.workspace.removeFile(f.path);
        for (const f of folder.workspace.auxFilePaths()) if (f === file || f.startsWith(under)) folder.workspace.removeFile(f);
        if (!open) {
          audited.delete(change.uri);
          clearFileDiagnostics(change.uri);
        }
      } else if (!open) {
        // An open buffer is newer than the disk; otherwise take the file as it is now.
        const resolved = folder.settings.forDirectory(path.dirname(file));
        const text = belongsInIndex(file, folder.root, resolved)
          ? readWatchedFile(file, resolved.settings.maxFileSize, (n) => analyzer.notices([n]))
          : undefined;
        if (text === undefined) folder.workspace.removeFile(file);
        else folder.workspace.setFile(file, text);
      }
      affected.add(folder);
    } catch (err) {
      log.error(`file change ${change.uri}: ${(err as Error).stack ?? err}`);
    }
  }
  if (reconfigure.size > 0) {
    void rebuildFolders([...reconfigure]);
    return;
  }
  for (const folder of affected) {
    if (!folder.indexed) continue;
    publishWorkspaceLevel(folder);
    schedule(openDocumentsIn(folder).map((d) => d.uri), WATCH_DEBOUNCE_MS);
  }
});

// ---- code actions ------------------------------------------------------------------------------------------

connection.onCodeAction((params, token): CodeAction[] => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc || token.isCancellationRequested) return [];
  try {
    const only = params.context.only;
    const actions = diagnosticActions(doc, params.context.diagnostics, only);
    // The lightbulb asks with no `only`: offer fix-all there only when the file has several safe fixes, so a
    // cursor move does not pay for a fix-all computation that cannot add anything over the single quick fix.
    const safeFixes = (fileDiagnostics.get(doc.uri)?.diagnostics ?? []).filter((d) => (d.data as DiagnosticData | undefined)?.fix?.safety === 'safe');
    if (only || safeFixes.length > 1) {
      const fixAll = fixAllAction(doc, only, () => (token.isCancellationRequested ? [] : fixAllEdits(doc)));
      if (fixAll) actions.push(fixAll);
    }
    return actions;
  } catch (err) {
    log.error(`code actions for ${doc.uri}: ${(err as Error).stack ?? err}`);
    return [];
  }
});

/** Every safe fix of the document, applied until stable on the workspace copy, as one minimal edit. */
function fixAllEdits(doc: OpenDocument): ReturnType<typeof minimalEdit> {
  const folder = folderOf(doc);
  if (folder.isWorkspaceFolder && !folder.indexed) return [];
  const filePath = pathFor(doc);
  try {
    const { text } = fixFile(folder.workspace, filePath, {}, { reportUnusedSuppressions: true });
    return minimalEdit(doc.text, text);
  } catch (err) {
    log.error(`fix all in ${doc.uri}: ${(err as Error).stack ?? err}`);
    return [];
  } finally {
    // fixFile updated the workspace as it went; the buffer is still the truth until the editor applies the edit.
    folder.workspace.setFile(filePath, doc.text, doc.parsedTree?.copy());
  }
}

// ---- custom requests ----------------------------------------------------------------------------------------

connection.onRequest(RuleDocsRequest, (params: RuleDocsParams): RuleDocsResult | null => {
  const rule = RULES.find((r) => r.code === String(params?.code ?? '').toUpperCase());
  return rule ? { code: rule.code, name: rule.name, markdown: renderRuleDoc(rule) } : null;
});

async function auditAll(token: { isCancellationRequested: boolean }, progress: WorkDoneProgressReporter | undefined): Promise<{ folder: Folder; run: AuditRun }[]> {
  await session.indexing;
  const targets = folders.workspaceFolders();
  const runs: { folder: Folder; run: AuditRun }[] = [];
  for (const folder of targets) {
    const run = await auditFolder(folder.workspace, analyzer, {
      onProgress: (done, total, file) =>
        progress?.report(total ? Math.round((done / total) * 100) : 100, file ? path.relative(folder.root, file) : `${done}/${total} files`),
      isCancelled: () => token.isCancellationRequested,
      readFile: (file) => analysedText(folder, file),
    });
    if (run.cancelled) throw new ResponseError(LSPErrorCodes.RequestCancelled, 'audit cancelled');
    runs.push({ folder, run });
  }
  return runs;
}

connection.onRequest(AuditRequest, async (params: AuditParams, token): Promise<AuditResultMessage> => {
  const progress = params?.workDoneToken !== undefined ? connection.window.attachWorkDoneProgress(params.workDoneToken) : undefined;
  progress?.begin('Auditing the workspace', 0, undefined, true);
  try {
    const runs = await auditAll(token, progress);
    const result: FolderAudit[] = [];
    for (const { folder, run } of runs) {
      publishAudit(folder, run);
      result.push({
        root: folder.root,
        files: run.result.files,
        counts: run.result.counts,
        checklist: run.result.checklist.map((c) => ({ id: c.id, title: c.title, status: c.status, evidence: c.evidence })),
        notices: run.result.notices,
        report: run.report,
        cancelled: run.cancelled,
      });
    }
    return { folders: result };
  } finally {
    progress?.done();
  }
});

/** Publishes an audit's findings for every file of the folder (open buffers keep their live analysis). */
function publishAudit(folder: Folder, run: AuditRun): void {
  const byUri = new Map<string, Diagnostic[]>();
  for (const f of run.result.findings) {
    const uri = pathToFileURL(f.file).toString();
    if (!folder.workspace.file(f.file)) continue; // workspace-level findings are published separately
    const list = byUri.get(uri) ?? [];
    list.push(toDiagnostic(f, documents.get(uri)?.version ?? null, docsDir));
    byUri.set(uri, list);
  }
  for (const uri of [...audited]) {
    const file = pathOfUri(uri);
    if (file && folders.find(file) === folder && !byUri.has(uri) && !documents.get(uri)) {
      audited.delete(uri);
      clearFileDiagnostics(uri);
    }
  }
  for (const [uri, list] of byUri) {
    audited.add(uri);
    setFileDiagnostics(uri, documents.get(uri)?.version ?? null, list);
  }
  publishWorkspaceLevel(folder);
}

connection.onRequest(ExportSarifRequest, async (_params: unknown, token): Promise<ExportSarifResult> => {
  const runs = await auditAll(token, undefined);
  return {
    folders: runs.map(({ folder, run }) => ({ root: folder.root, sarif: exportSarif(run.result, docsDir, packageRoot.version, (file) => analysedText(folder, file)) })),
  };
});

/** The text the analysis saw (the open buffer or the indexed file), for excerpts in reports. */
function analysedText(folder: Folder, file: string): string | undefined {
  return folder.workspace.file(file)?.text ?? folder.workspace.auxFile(file);
}

connection.listen();
