/**
 * The one normalizer for configuration from every source (pyproject `[tool.jwt-api-security]`, editor settings,
 * CLI flags), with the defaults in one place. Knows nothing of where the values were read from.
 */
import type { Severity } from './types';

export interface Settings {
  /** Rule codes or prefixes to run (`JWT`, `ISO203`); undefined means all. */
  select?: string[];
  ignore: string[];
  /** Severity overrides by code. */
  severity: Record<string, Severity>;
  /** Glob patterns (gitignore style) of paths not to analyse. */
  exclude: string[];
  /** Report findings in tests (`tests/`, `test_*.py`, `*_test.py`, `conftest.py`). */
  includeTests: boolean;
  /** The environment variable that holds the JWT secret; used in fixes. */
  secretEnvVar: string;
  /** Algorithms a decode must pin; used for fixes. Undefined: inferred from the workspace. */
  expectedAlgorithms?: string[];
  ownerColumns: string[];
  /** Extra auth dependencies the analysis cannot see, as `module:function`. */
  authDependencies: string[];
  /** Files larger than this (bytes) are skipped with a notice. */
  maxFileSize: number;
}

export const DEFAULT_OWNER_COLUMNS = ['user_id', 'owner_id', 'author_id', 'created_by', 'account_id', 'tenant_id'];

export function defaultSettings(): Settings {
  return {
    select: undefined,
    ignore: [],
    severity: {},
    exclude: [],
    includeTests: false,
    secretEnvVar: 'BETTER_AUTH_SECRET',
    expectedAlgorithms: undefined,
    ownerColumns: [...DEFAULT_OWNER_COLUMNS],
    authDependencies: [],
    maxFileSize: 2 * 1024 * 1024,
  };
}

export class SettingsError extends Error {
  constructor(readonly source: string, readonly key: string, detail: string) {
    super(`${source}: \`${key}\` ${detail}`);
  }
}

const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'suggestion'];

type Reader = (settings: Settings, value: unknown, fail: (detail: string) => never) => void;

const stringList = (value: unknown, fail: (d: string) => never): string[] => {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) fail('must be a list of strings');
  return value as string[];
};

const codeList = (value: unknown, fail: (d: string) => never): string[] => {
  const list = stringList(value, fail).map((s) => s.trim().toUpperCase());
  const bad = list.find((c) => !/^(JWT|ISO|SEC|SUP)\d{0,3}$|^ALL$/.test(c));
  if (bad !== undefined) fail(`has an unknown rule code or prefix "${bad}"`);
  return list;
};

/** Readers by kebab-case key; camelCase keys are accepted by converting them first. */
const READERS: Record<string, Reader> = {
  select: (s, v, fail) => {
    s.select = codeList(v, fail);
  },
  ignore: (s, v, fail) => {
    s.ignore = codeList(v, fail);
  },
  severity: (s, v, fail) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('must be a table of CODE = "critical" | "warning" | "suggestion"');
    const out: Record<string, Severity> = {};
    for (const [code, sev] of Object.entries(v as Record<string, unknown>)) {
      if (!/^(JWT|ISO|SEC|SUP)\d{3}$/.test(code)) fail(`has an unknown rule code "${code}"`);
      if (!SEVERITIES.includes(sev as Severity)) fail(`for ${code} must be one of ${SEVERITIES.join(', ')}`);
      out[code] = sev as Severity;
    }
    s.severity = out;
  },
  exclude: (s, v, fail) => {
    s.exclude = stringList(v, fail);
  },
  'include-tests': (s, v, fail) => {
    if (typeof v !== 'boolean') fail('must be true or false');
    s.includeTests = v as boolean;
  },
  'secret-env-var': (s, v, fail) => {
    if (typeof v !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) fail('must be an environment variable name');
    s.secretEnvVar = v as string;
  },
  'expected-algorithms': (s, v, fail) => {
    const list = stringList(v, fail);
    if (list.length === 0) fail('must name at least one algorithm');
    const bad = list.find((a) => !/^(HS|RS|PS|ES)(256|384|512)$|^EdDSA$|^ES256K$/.test(a));
    if (bad !== undefined) fail(`has an unknown algorithm "${bad}"`);
    s.expectedAlgorithms = list;
  },
  'owner-columns': (s, v, fail) => {
    const list = stringList(v, fail);
    if (list.length === 0) fail('must name at least one column');
    s.ownerColumns = list;
  },
  'auth-dependencies': (s, v, fail) => {
    const list = stringList(v, fail);
    const bad = list.find((d) => !/^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$/.test(d));
    if (bad !== undefined) fail(`entry "${bad}" must look like "package.module:function"`);
    s.authDependencies = list;
  },
  'max-file-size': (s, v, fail) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail('must be a positive number of bytes');
    s.maxFileSize = v as number;
  },
};

export const SETTING_KEYS = Object.keys(READERS);

export function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * Layers `raw` (kebab-case or camelCase keys) over `base`. Throws SettingsError naming the source and key
 * for an unknown key or a bad value; `undefined`/`null` values leave the base value.
 */
export function normalizeSettings(raw: Record<string, unknown>, source: string, base: Settings = defaultSettings()): Settings {
  const settings: Settings = { ...base, severity: { ...base.severity } };
  for (const [key, value] of Object.entries(raw)) {
    const kebab = kebabCase(key);
    const reader = READERS[kebab];
    if (!reader) throw new SettingsError(source, key, `is not a setting (known: ${SETTING_KEYS.join(', ')})`);
    if (value === undefined || value === null) continue;
    reader(settings, value, (detail) => {
      throw new SettingsError(source, kebab, detail);
    });
  }
  return settings;
}

/** True when rule `code` runs under `settings`: select/ignore by code or prefix, the more specific entry wins, ignore on a tie (like Ruff). */
export function isRuleEnabled(code: string, settings: Settings): boolean {
  const specificity = (list: string[]) =>
    Math.max(-1, ...list.filter((p) => p === 'ALL' || code.startsWith(p)).map((p) => (p === 'ALL' ? 0 : p.length)));
  const selected = settings.select ? specificity(settings.select) : 0;
  if (selected < 0) return false;
  return selected > specificity(settings.ignore);
}
