/**
 * The `jwt-api-security` command: reads argv, loads configuration, discovers and reads files, runs the same
 * `audit()` the editor runs, applies fixes when asked, renders the chosen format, and turns the outcome into an
 * exit code (0 clean, 1 findings, 2 usage or configuration error). The only module that writes to stdout.
 */
import * as fs from 'fs';
import * as path from 'path';
import { type AuditResult } from '../core/audit';
import { parallelAudit } from '../core/parallel-audit';
import { ConfigError, ConfigResolver } from '../core/config';
import { readSourceFile, walk, type ReadFile } from '../core/discover';
import { renderRuleDoc } from '../core/rule-docs';
import { normalizeSettings, SettingsError, type Settings } from '../core/settings';
import { SEVERITY_ORDER, type Finding, type Notice } from '../core/types';
import { initParser } from '../python/parser';
import { ALL_RULES, ruleByCode } from '../rules/index';
import { Workspace } from '../workspace/workspace';
import { HELP, parseArgs, UsageError, type CliOptions } from './args';
import { displayPath, type OutputContext } from './context';
import { applyFixes } from './fix-files';
import { renderJson } from './formats/json';
import { renderReport } from './formats/report';
import { renderSarif } from './formats/sarif';
import { renderNotice, renderStatisticsText, renderText } from './formats/text';
import { packageInfo, type PackageInfo } from './package-info';
import { Progress } from './progress';

export interface OutputStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  cwd: string;
  env: Record<string, string | undefined>;
}

/** Exit codes, as documented in --help and the README. */
export const EXIT = { clean: 0, findings: 1, error: 2 } as const;

class CliError extends Error {}

export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let options: CliOptions;
  try {
    options = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\nRun \`jwt-api-security --help\` for usage.\n`);
      return EXIT.error;
    }
    throw err;
  }
  const pkg = packageInfo();
  if (options.command === 'help') {
    io.stdout.write(HELP);
    return EXIT.clean;
  }
  if (options.command === 'version') {
    io.stdout.write(`jwt-api-security ${pkg.version}\n`);
    return EXIT.clean;
  }
  if (options.command === 'rule') return showRule(options.ruleCode, io);
  // A well-formed code that names no rule (`--ignore JWT199`) is a typo that would silently select nothing.
  const unknown = [...(options.select ?? []), ...(options.ignore ?? [])].find((c) => c !== 'ALL' && !ALL_RULES.some((r) => r.code.startsWith(c)));
  if (unknown) {
    io.stderr.write(`error: no rule matches "${unknown}"; \`jwt-api-security rule\` lists them\n`);
    return EXIT.error;
  }
  try {
    return await check(options, io, pkg, argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`error: ${err.describe(displayPath(err.file, io.cwd))}\n`);
      return EXIT.error;
    }
    if (err instanceof CliError) {
      io.stderr.write(`error: ${err.message}\n`);
      return EXIT.error;
    }
    throw err;
  }
}

function showRule(code: string | undefined, io: CliIo): number {
  if (code === undefined) {
    const width = Math.max(...ALL_RULES.map((r) => r.name.length));
    for (const r of ALL_RULES) io.stdout.write(`${r.code}  ${r.name.padEnd(width)}  ${r.severity}${r.fix === 'none' ? '' : '  (fix)'}\n`);
    return EXIT.clean;
  }
  const rule = ruleByCode(code);
  if (!rule) {
    io.stderr.write(`error: unknown rule code "${code}"; \`jwt-api-security rule\` lists them\n`);
    return EXIT.error;
  }
  io.stdout.write(renderRuleDoc(rule));
  return EXIT.clean;
}

/** Command-line flags as a settings layer over the file's configuration; `--select` resets `ignore`, as in Ruff. */
function cliLayer(options: CliOptions): ((s: Settings) => Settings) | undefined {
  if (!options.select && !options.ignore && !options.includeTests) return undefined;
  return (base) => {
    const raw: Record<string, unknown> = {};
    if (options.select) raw.select = options.select;
    const ignoreBase = options.select ? [] : base.ignore;
    if (options.select || options.ignore) raw.ignore = [...ignoreBase, ...(options.ignore ?? [])];
    if (options.includeTests) raw['include-tests'] = true;
    return normalizeSettings(raw, 'command line', base);
  };
}

async function check(options: CliOptions, io: CliIo, pkg: PackageInfo, argv: readonly string[]): Promise<number> {
  const startTime = new Date();
  const progress = new Progress(io.stderr, !!io.stderr.isTTY && !options.quiet);
  const inputs = options.paths.map((p) => path.resolve(io.cwd, p));
  for (const input of inputs) {
    if (!fs.existsSync(input)) throw new CliError(`${displayPath(input, io.cwd)}: no such file or folder`);
  }
  const resolver = new ConfigResolver({
    configFile: options.config ? path.resolve(io.cwd, options.config) : undefined,
    override: wrapLayer(cliLayer(options)),
    defaultBaseDir: io.cwd,
  });
  // Read every configuration that applies to the inputs first, so a broken one stops the run before any work.
  for (const input of inputs) resolver.forDirectory(isDirectory(input) ? input : path.dirname(input));

  const walked = walk(inputs, {
    respectGitignore: !options.noGitignore,
    excludeFor: (dir) => {
      const c = resolver.forDirectory(dir);
      return { patterns: c.settings.exclude, baseDir: c.baseDir };
    },
    onProgress: (n) => progress.update('finding files', n),
  });
  const notices: Notice[] = [...walked.notices];
  const sources = new Map<string, ReadFile>();
  walked.files.forEach((f, i) => {
    progress.update('reading files', i + 1, walked.files.length);
    const result = readSourceFile(f.path, f.kind, resolver.settingsFor(f.path).maxFileSize);
    if (result.notice) notices.push(result.notice);
    if (result.ok) sources.set(f.path, result.file);
  });

  await initParser();
  const root = workspaceRoot(inputs);
  const ws = new Workspace(root, (file) => resolver.settingsFor(file));
  for (const file of sources.values()) ws.setFile(file.path, file.source.text);

  const auditProgress = (done: number, total: number) => progress.update('analysing', done, total);
  // audit() reports progress as it can; a big workspace gets its phase shown up front in any case.
  const fileCount = ws.allFiles().length;
  if (fileCount >= 200) progress.update(`analysing ${fileCount} files`, undefined, undefined, true);
  const auditOptions = { onProgress: auditProgress, jobs: options.jobs };
  let result = await parallelAudit(ws, auditOptions);
  const threshold = SEVERITY_ORDER[options.severity];
  const listed = (r: AuditResult) => r.findings.filter((f) => SEVERITY_ORDER[f.severity] <= threshold);

  const ctx: OutputContext = {
    cwd: io.cwd,
    version: pkg.version,
    color: false,
    threshold: options.severity,
    textOf: (file) => ws.file(file)?.text ?? ws.auxFile(file),
  };

  let fixed = 0;
  if (options.fix || options.diff) {
    const outcome = applyFixes(ws, listed(result), sources, options, io.cwd, notices);
    progress.clear();
    if (options.diff) {
      writeOutput(outcome.diff, options, io);
      printNotices([...notices, ...result.notices], options, io, ctx);
      const files = outcome.filesChanged;
      if (!options.quiet) io.stderr.write(files === 0 ? 'No fixes to apply.\n' : `Would fix ${outcome.applied} finding(s) in ${files} file(s).\n`);
      return files > 0 && !options.exitZero ? EXIT.findings : EXIT.clean;
    }
    fixed = outcome.applied;
    if (outcome.filesChanged > 0) result = await parallelAudit(ws, auditOptions);
  }
  progress.clear();

  const shown = listed(result);
  const allNotices = [...notices, ...result.notices];
  result = { ...result, notices: allNotices };
  const toFile = options.output !== undefined;
  ctx.color = !toFile && options.format === 'text' && useColor(io.stdout, io.env);

  let output: string;
  switch (options.format) {
    case 'json':
      output = renderJson(result, { findings: shown, fixed, statisticsOnly: options.statistics }, ctx);
      break;
    case 'sarif':
      output = renderSarif(result, { findings: shown, docsBase: { repositoryUrl: pkg.repositoryUrl, localDir: pkg.docsDir }, commandLine: ['jwt-api-security', ...argv].join(' '), startTime }, ctx);
      break;
    case 'report':
      output = renderReport({ ...result, findings: shown, counts: countBySeverity(shown) }, root);
      break;
    default:
      output = options.statistics
        ? renderStatisticsText(shown, ctx)
        : renderText(shown, { findings: shown, fixed, hidden: result.findings.length - shown.length }, ctx, options.quiet);
  }
  const noticeCtx = { ...ctx, color: useColor(io.stderr, io.env) };
  printNotices(allNotices, options, io, noticeCtx);
  writeOutput(output, options, io);
  if (toFile && !options.quiet) io.stderr.write(`Wrote ${options.format} output to ${displayPath(path.resolve(io.cwd, options.output!), io.cwd)} (${shown.length} finding(s)).\n`);
  return shown.length > 0 && !options.exitZero ? EXIT.findings : EXIT.clean;
}

function countBySeverity(findings: readonly Finding[]): AuditResult['counts'] {
  const counts = { critical: 0, warning: 0, suggestion: 0 };
  for (const f of findings) counts[f.severity]++;
  return counts;
}

/** SettingsError from the CLI layer is a usage problem, reported as coming from the command line. */
function wrapLayer(layer: ((s: Settings) => Settings) | undefined): ((s: Settings) => Settings) | undefined {
  if (!layer) return undefined;
  return (s) => {
    try {
      return layer(s);
    } catch (err) {
      if (err instanceof SettingsError) throw new CliError(err.message);
      throw err;
    }
  };
}

function printNotices(notices: readonly Notice[], options: CliOptions, io: CliIo, ctx: OutputContext): void {
  for (const n of notices) {
    if (options.quiet && n.level === 'info') continue;
    io.stderr.write(`${renderNotice(n, ctx)}\n`);
  }
}

function writeOutput(text: string, options: CliOptions, io: CliIo): void {
  if (options.output === undefined) {
    io.stdout.write(text);
    return;
  }
  const file = path.resolve(io.cwd, options.output);
  try {
    fs.writeFileSync(file, text);
  } catch (err) {
    throw new CliError(`cannot write ${displayPath(file, io.cwd)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Colour on a TTY unless NO_COLOR is set (https://no-color.org); FORCE_COLOR turns it on anywhere. */
export function useColor(stream: OutputStream, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return !!stream.isTTY && env.TERM !== 'dumb';
}

/**
 * The folder module names are computed from: the common ancestor of the inputs, raised out of Python packages
 * (a folder with `__init__.py`), so auditing `backend/app` still names modules `app.api.deps` as its imports do.
 */
export function workspaceRoot(inputs: readonly string[]): string {
  const dirs = inputs.map((p) => (isDirectory(p) ? p : path.dirname(p)));
  let root = dirs[0] ?? process.cwd();
  for (const d of dirs.slice(1)) {
    while (root !== path.dirname(root) && d !== root && !d.startsWith(root + path.sep)) root = path.dirname(root);
  }
  while (fs.existsSync(path.join(root, '__init__.py')) && path.dirname(root) !== root) root = path.dirname(root);
  return root;
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env };
}

if (require.main === module) {
  // A closed pipe (`jwt-api-security | head`) ends the output; it is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`jwt-api-security: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = EXIT.error;
    },
  );
}
