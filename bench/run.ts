/**
 * `npm run bench`: measures the audit against tree-sitter parse-only and the peers (Ruff's WASM build with its `S`
 * rules, Bandit when installed) on the same files in one run, prints a table and writes bench/results.md.
 * Corpora: the CPython standard library on this machine, a generated FastAPI-heavy workspace, and any directory
 * given on the command line. Not part of `npm test`: figures, not assertions.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initParser, parsePython } from '../server/src/python/parser';
import { generateFastapiWorkspace } from './generate-fastapi';

/** The repository: the first folder above this file with a package.json (out/bench, .out/<id>/bench or bench). */
const ROOT = (() => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
/** The CLI compiled next to this file, so a build into `.out/<id>` measures that build, not `out/`. */
const CLI_MAIN = path.resolve(__dirname, '..', 'server', 'src', 'cli', 'main.js');
const CLI_LAUNCH = `require(${JSON.stringify(CLI_MAIN)}).run(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;

interface Corpus {
  name: string;
  dir: string;
  files: string[];
  lines: number;
  bytes: number;
}

interface Measure {
  wallMs: number;
  cpuMs: number;
  rssMb?: number;
  note?: string;
}

interface Row {
  corpus: Corpus;
  parse: Measure;
  audit?: Measure;
  ruff?: Measure;
  bandit?: Measure;
  /** Bandit was not run on purpose (BENCH_SKIP_BANDIT, or a corpus above BENCH_BANDIT_MAX_LINES). */
  banditSkipped?: boolean;
  findings?: number;
}

/** Bandit takes minutes per 100k lines: BENCH_BANDIT_MAX_LINES skips it on larger corpora (the standard library). */
const BANDIT_MAX_LINES = Number(process.env.BENCH_BANDIT_MAX_LINES ?? Infinity);

function pythonFiles(dir: string, skip: (p: string) => boolean): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (skip(full)) continue;
      if (e.isDirectory()) visit(full);
      else if (e.isFile() && e.name.endsWith('.py')) out.push(full);
    }
  };
  visit(dir);
  return out.sort();
}

function corpus(name: string, dir: string, skip: (p: string) => boolean = () => false): Corpus {
  const files = pythonFiles(dir, skip);
  let lines = 0;
  let bytes = 0;
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    bytes += text.length;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
  }
  return { name, dir, files, lines, bytes };
}

function timeInProcess(run: () => void): Measure {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  run();
  const cpu = process.cpuUsage(cpu0);
  return { wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function parseOnly(c: Corpus): Measure {
  const texts = c.files.map((f) => fs.readFileSync(f, 'utf8'));
  return timeInProcess(() => {
    for (const t of texts) parsePython(t).delete();
  });
}

function ruff(c: Corpus): Measure | undefined {
  let mod: typeof import('@astral-sh/ruff-wasm-nodejs');
  try {
    mod = require('@astral-sh/ruff-wasm-nodejs');
  } catch {
    return undefined;
  }
  const ws = new mod.Workspace({ lint: { select: ['S'] } }, mod.PositionEncoding.Utf16);
  const texts = c.files.map((f) => fs.readFileSync(f, 'utf8'));
  let count = 0;
  const m = timeInProcess(() => {
    for (const t of texts) count += (ws.check(t) as unknown[]).length;
  });
  ws.free();
  return { ...m, note: `${count} findings` };
}

/** Runs a command under /usr/bin/time -v and reads wall, CPU and peak RSS from its report. */
function timed(cmd: string, args: string[]): Measure & { status: number | null; stdout: string } {
  const r = spawnSync('/usr/bin/time', ['-v', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const field = (re: RegExp) => Number(re.exec(r.stderr)?.[1] ?? NaN);
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const wallMs = wall ? ((Number(wall[1] ?? 0) * 60 + Number(wall[2])) * 60 + Number(wall[3])) * 1000 : NaN;
  return {
    wallMs,
    cpuMs: (field(/User time \(seconds\): ([\d.]+)/) + field(/System time \(seconds\): ([\d.]+)/)) * 1000,
    rssMb: field(/Maximum resident set size \(kbytes\): (\d+)/) / 1024,
    status: r.status,
    stdout: r.stdout,
  };
}

function audit(c: Corpus): { measure: Measure; findings: number } | undefined {
  if (!fs.existsSync(CLI_MAIN)) return undefined;
  const out = path.join(os.tmpdir(), `jwt-api-security-bench-${process.pid}.json`);
  const m = timed(process.execPath, ['-e', CLI_LAUNCH, c.dir, '--format', 'json', '--output', out, '--exit-zero', '--include-tests', '--no-gitignore']);
  let findings = NaN;
  try {
    const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { findings?: unknown[] };
    findings = json.findings?.length ?? NaN;
  } catch {
    m.note = `exit ${m.status}`;
  }
  fs.rmSync(out, { force: true });
  return { measure: m, findings };
}

function bandit(c: Corpus): Measure | undefined {
  try {
    execFileSync('bandit', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const out = path.join(os.tmpdir(), `bandit-bench-${process.pid}.json`);
  const m = timed('bandit', ['-r', '-q', '-f', 'json', '-o', out, c.dir]);
  fs.rmSync(out, { force: true });
  return m;
}

const s = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? 'n/a' : `${(a / b).toFixed(2)}×`);

function table(rows: Row[]): string {
  const head = '| corpus | files | lines | parse-only | audit wall | audit CPU | audit RSS | lines/s (wall) | audit CPU ÷ parse | Ruff-WASM S | audit wall ÷ Ruff | Bandit | findings |';
  const sep = '|' + '---|'.repeat(13);
  const body = rows.map((r) =>
    [
      r.corpus.name,
      r.corpus.files.length,
      r.corpus.lines.toLocaleString('en-US'),
      s(r.parse.cpuMs),
      s(r.audit?.wallMs),
      s(r.audit?.cpuMs),
      r.audit?.rssMb ? `${r.audit.rssMb.toFixed(0)} MB` : 'n/a',
      r.audit ? Math.round(r.corpus.lines / (r.audit.wallMs / 1000)).toLocaleString('en-US') : 'n/a',
      ratio(r.audit?.cpuMs, r.parse.cpuMs),
      r.ruff ? s(r.ruff.cpuMs) : 'absent',
      ratio(r.audit?.wallMs, r.ruff?.cpuMs),
      r.bandit ? s(r.bandit.wallMs) : r.banditSkipped ? 'skipped' : 'absent',
      r.findings ?? 'n/a',
    ].join(' | '),
  );
  return [head, sep, ...body.map((b) => `| ${b} |`)].join('\n');
}

async function main(): Promise<void> {
  await initParser();
  const stdlib = execFileSync('python3', ['-c', "import sysconfig; print(sysconfig.get_paths()['stdlib'])"], { encoding: 'utf8' }).trim();
  const generated = path.join(ROOT, 'bench', 'corpus', 'fastapi-heavy');
  const modules = generateFastapiWorkspace(generated);
  const corpora: Corpus[] = [
    corpus('CPython stdlib', stdlib, (p) => p.includes(`${path.sep}site-packages`)),
    corpus(`generated FastAPI (${modules} modules)`, generated),
    ...process.argv.slice(2).map((d) => corpus(path.basename(path.resolve(d)), path.resolve(d))),
  ];
  const rows: Row[] = [];
  for (const c of corpora) {
    process.stderr.write(`bench: ${c.name}: ${c.files.length} files, ${c.lines} lines\n`);
    const row: Row = { corpus: c, parse: parseOnly(c) };
    const a = audit(c);
    row.audit = a?.measure;
    row.findings = a?.findings;
    row.ruff = ruff(c);
    row.banditSkipped = !!process.env.BENCH_SKIP_BANDIT || c.lines > BANDIT_MAX_LINES;
    if (!row.banditSkipped) row.bandit = bandit(c);
    rows.push(row);
    process.stderr.write(table([row]).split('\n')[2] + '\n');
  }
  const cpu = os.cpus();
  const result = `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}.
Peers: Ruff ${safeVersion(() => require('@astral-sh/ruff-wasm-nodejs').Workspace.version())} (WASM, \`select = ["S"]\`, one thread, in process),
Bandit ${safeVersion(() => execFileSync('bandit', ['--version'], { encoding: 'utf8' }).split('\n')[0])}.
Parse-only is tree-sitter (WASM) parsing every file once in one thread. The audit is the real CLI
(\`jwt-api-security DIR --format json\`) under \`/usr/bin/time -v\`: wall and CPU include Node start-up.

${table(rows)}
`;
  writeResults(path.join(ROOT, 'bench', 'results.md'), result);
  process.stdout.write(result);
}

const BEGIN = '<!-- bench:begin (written by npm run bench) -->';
const END = '<!-- bench:end -->';

/**
 * Puts the measured table between the markers of results.md, keeping the analysis written around it (targets,
 * profiles, what would close a gap); a file without markers gets them appended.
 */
function writeResults(file: string, measured: string): void {
  const block = `${BEGIN}\n${measured.trim()}\n${END}`;
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmark results\n';
  const start = old.indexOf(BEGIN);
  const end = old.indexOf(END);
  const next = start !== -1 && end > start ? old.slice(0, start) + block + old.slice(end + END.length) : `${old.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, next);
}

function safeVersion(get: () => string): string {
  try {
    return get();
  } catch {
    return 'absent';
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
