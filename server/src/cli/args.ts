/**
 * Parses the command line into CliOptions, and holds the help text. Pure: argv in, options or a UsageError out;
 * it does not read files or the environment.
 */
import type { Severity } from '../core/types';

export type Format = 'text' | 'json' | 'sarif' | 'report';

export const FORMATS: readonly Format[] = ['text', 'json', 'sarif', 'report'];
const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'suggestion'];

export interface CliOptions {
  command: 'check' | 'rule' | 'help' | 'version';
  paths: string[];
  /** For `rule CODE`; undefined lists every rule. */
  ruleCode?: string;
  format: Format;
  output?: string;
  select?: string[];
  ignore?: string[];
  fix: boolean;
  unsafeFixes: boolean;
  diff: boolean;
  exitZero: boolean;
  /** Findings below this are neither listed nor counted for the exit code. */
  severity: Severity;
  quiet: boolean;
  statistics: boolean;
  includeTests: boolean;
  config?: string;
  noGitignore: boolean;
  /** Threads for the audit (`--jobs N`); undefined: one. */
  jobs?: number;
}

export class UsageError extends Error {}

type Spec = { kind: 'flag'; apply: (o: CliOptions) => void } | { kind: 'value'; apply: (o: CliOptions, value: string) => void };

const codeList = (flag: string, value: string): string[] => {
  const list = value
    .split(',')
    .map((s) => s.trim().toUpperCase())
    .filter(Boolean);
  if (list.length === 0) throw new UsageError(`${flag} needs a comma-separated list of rule codes or prefixes`);
  const bad = list.find((c) => !/^(JWT|ISO|SEC|SUP)\d{0,3}$|^ALL$/.test(c));
  if (bad) throw new UsageError(`${flag}: unknown rule code or prefix "${bad}"`);
  return list;
};

const SPECS: Record<string, Spec> = {
  '--format': {
    kind: 'value',
    apply: (o, v) => {
      if (!FORMATS.includes(v as Format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')} (got "${v}")`);
      o.format = v as Format;
    },
  },
  '--output': { kind: 'value', apply: (o, v) => (o.output = v) },
  '--select': { kind: 'value', apply: (o, v) => (o.select = [...(o.select ?? []), ...codeList('--select', v)]) },
  '--ignore': { kind: 'value', apply: (o, v) => (o.ignore = [...(o.ignore ?? []), ...codeList('--ignore', v)]) },
  '--fix': { kind: 'flag', apply: (o) => (o.fix = true) },
  '--unsafe-fixes': { kind: 'flag', apply: (o) => (o.unsafeFixes = true) },
  '--diff': { kind: 'flag', apply: (o) => (o.diff = true) },
  '--exit-zero': { kind: 'flag', apply: (o) => (o.exitZero = true) },
  '--severity': {
    kind: 'value',
    apply: (o, v) => {
      if (!SEVERITIES.includes(v as Severity)) throw new UsageError(`--severity must be one of ${SEVERITIES.join(', ')} (got "${v}")`);
      o.severity = v as Severity;
    },
  },
  '--quiet': { kind: 'flag', apply: (o) => (o.quiet = true) },
  '--statistics': { kind: 'flag', apply: (o) => (o.statistics = true) },
  '--include-tests': { kind: 'flag', apply: (o) => (o.includeTests = true) },
  '--config': { kind: 'value', apply: (o, v) => (o.config = v) },
  '--no-gitignore': { kind: 'flag', apply: (o) => (o.noGitignore = true) },
  '--jobs': {
    kind: 'value',
    apply: (o, v) => {
      if (!/^[1-9]\d{0,2}$/.test(v)) throw new UsageError(`--jobs must be a whole number from 1 to 999 (got "${v}")`);
      o.jobs = Number(v);
    },
  },
  '--version': { kind: 'flag', apply: (o) => (o.command = 'version') },
  '--help': { kind: 'flag', apply: (o) => (o.command = 'help') },
};

const SHORT: Record<string, string> = { '-j': '--jobs', '-o': '--output', '-q': '--quiet', '-h': '--help', '-V': '--version', '-f': '--format' };

export function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = {
    command: 'check',
    paths: [],
    format: 'text',
    fix: false,
    unsafeFixes: false,
    diff: false,
    exitZero: false,
    severity: 'suggestion',
    quiet: false,
    statistics: false,
    includeTests: false,
    noGitignore: false,
  };
  const positional: string[] = [];
  let onlyPositional = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (onlyPositional || !arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    if (arg === '--') {
      onlyPositional = true;
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const rawName = eq === -1 ? arg : arg.slice(0, eq);
    const name = SHORT[rawName] ?? rawName;
    const spec = SPECS[name];
    if (!spec) throw new UsageError(`unknown option ${rawName}${suggest(rawName)}`);
    if (spec.kind === 'flag') {
      if (eq !== -1) throw new UsageError(`${name} takes no value`);
      spec.apply(options);
    } else {
      const value = eq !== -1 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`${name} needs a value`);
      spec.apply(options, value);
    }
  }
  if (options.command === 'help' || options.command === 'version') return options;
  if (positional[0] === 'rule') {
    if (positional.length > 2) throw new UsageError('`rule` takes one rule code');
    options.command = 'rule';
    options.ruleCode = positional[1]?.toUpperCase();
    return options;
  }
  options.paths = positional.length ? positional : ['.'];
  if (options.unsafeFixes && !options.fix && !options.diff) throw new UsageError('--unsafe-fixes needs --fix or --diff');
  if (options.fix && options.diff) throw new UsageError('--fix and --diff cannot be combined: --diff shows the fixes without writing them');
  if (options.statistics && (options.format === 'sarif' || options.format === 'report')) {
    throw new UsageError(`--statistics works with --format text or json, not ${options.format}`);
  }
  return options;
}

function suggest(flag: string): string {
  const names = [...Object.keys(SPECS), ...Object.keys(SHORT)];
  let best: string | undefined;
  let bestDistance = 3;
  for (const n of names) {
    const d = editDistance(flag, n);
    if (d < bestDistance) {
      best = n;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j];
      row[j] = next;
    }
  }
  return row[b.length];
}

export const HELP = `jwt-api-security: audit FastAPI backends for JWT-authentication and per-user data-isolation flaws

Usage:
  jwt-api-security [OPTIONS] [PATHS...]     audit files and folders (default: .)
  jwt-api-security rule [CODE]              print a rule's documentation (no CODE: list the rules)

Output:
  -f, --format FORMAT     text (default), json, sarif (SARIF 2.1.0) or report (Markdown audit report)
  -o, --output FILE       write the report to FILE instead of standard output
      --severity LEVEL    only list and count findings at or above LEVEL: critical, warning, suggestion (default)
      --statistics        print the number of findings per rule instead of the findings (text, json)
  -q, --quiet             print findings only: no summary, no progress, no informational notices

Rules:
      --select CODES      run only these rules (comma-separated codes or prefixes: JWT,ISO203); replaces the
                          configured select and ignore, as in Ruff
      --ignore CODES      do not run these rules (added to the configured ignore)
      --include-tests     also report findings in tests (tests/, test_*.py, *_test.py, conftest.py)
      --config FILE       read settings from FILE (a pyproject.toml, or a TOML file with the keys at the top level)
                          instead of the nearest pyproject.toml above each file
      --no-gitignore      also audit files that .gitignore files exclude
  -j, --jobs N            audit on N threads (default 1; workspaces under 200 files use one); the
                          result does not depend on N

Fixes:
      --fix               apply safe fixes and report what remains
      --unsafe-fixes      with --fix or --diff, apply unsafe fixes too
      --diff              print the fixes as a unified diff; change nothing

Exit status:
      --exit-zero         exit 0 even when there are findings
  0  no findings at or above the --severity threshold (with --diff: nothing to fix)
  1  findings at or above the threshold (with --diff: there are fixes to apply)
  2  usage or configuration error (unknown option, bad pyproject.toml value, path not found)

Other:
  -h, --help              show this help
  -V, --version           show the version
`;
