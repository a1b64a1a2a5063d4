/**
 * Configuration from disk: `[tool.jwt-api-security]` in the nearest `pyproject.toml` above each file (or one file
 * named explicitly), normalized by settings.ts, with an optional layer on top (the CLI's flags). Results are cached
 * per directory and per pyproject. Knows nothing of argv, output formats or the editor.
 *
 * Like Ruff, a `pyproject.toml` with no `[tool.jwt-api-security]` table does not count and the search goes on
 * upward; but one that is not valid TOML stops everything with an error, since a CI gate must not pass on a
 * configuration it could not read.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { defaultSettings, normalizeSettings, SettingsError, type Settings } from './settings';

export const TOOL_TABLE = 'jwt-api-security';

/** A configuration that could not be used: names the file and, where there is one, the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    readonly detail: string,
  ) {
    super(key ? `${file}: \`${key}\` ${detail}` : `${file}: ${detail}`);
  }

  /** The same message with `file` shown as `display` (e.g. relative to the working directory). */
  describe(display: string): string {
    return this.key ? `${display}: \`${this.key}\` ${this.detail}` : `${display}: ${this.detail}`;
  }
}

export interface ResolvedConfig {
  settings: Settings;
  /** The file the settings came from; undefined when defaults apply. */
  file?: string;
  /** The folder relative paths in the configuration (`exclude`) are resolved against. */
  baseDir: string;
}

export interface ConfigOptions {
  /** Use this file for every path instead of searching (`--config`). */
  configFile?: string;
  /** A layer applied over whatever was read (the CLI's flags). May throw SettingsError. */
  override?: (settings: Settings) => Settings;
  /** The folder relative `exclude` patterns use when no file is found (defaults to the working directory). */
  defaultBaseDir?: string;
}

/** The settings table of a file and the prefix its keys are named with in errors (`tool.jwt-api-security.`). */
type TableResult = { table: Record<string, unknown>; prefix: string } | { table: undefined; prefix: string };

export class ConfigResolver {
  private readonly byDir = new Map<string, ResolvedConfig>();
  private readonly tables = new Map<string, TableResult>();
  private explicit: ResolvedConfig | undefined;

  constructor(private readonly options: ConfigOptions = {}) {}

  /** Settings for a file: from the nearest configuration above it. Throws ConfigError. */
  settingsFor(file: string): Settings {
    return this.forDirectory(path.dirname(path.resolve(file))).settings;
  }

  /** The configuration that applies to files in `dir`. Throws ConfigError. */
  forDirectory(dir: string): ResolvedConfig {
    if (this.options.configFile) return (this.explicit ??= this.fromExplicitFile(path.resolve(this.options.configFile)));
    const abs = path.resolve(dir);
    const cached = this.byDir.get(abs);
    if (cached) return cached;
    const resolved = this.search(abs);
    this.byDir.set(abs, resolved);
    return resolved;
  }

  private search(dir: string): ResolvedConfig {
    const candidate = path.join(dir, 'pyproject.toml');
    const table = isFile(candidate) ? this.readTable(candidate, true) : undefined;
    if (table?.table !== undefined) return this.build(table.table, candidate, dir, table.prefix);
    const parent = path.dirname(dir);
    if (parent === dir) return this.build(undefined, undefined, this.options.defaultBaseDir ?? process.cwd(), '');
    return this.forDirectory(parent);
  }

  private fromExplicitFile(file: string): ResolvedConfig {
    if (!isFile(file)) throw new ConfigError(file, undefined, 'configuration file not found');
    const result = this.readTable(file, path.basename(file) === 'pyproject.toml');
    return this.build(result.table ?? {}, file, path.dirname(file), result.prefix);
  }

  /**
   * The `[tool.jwt-api-security]` table of a pyproject, or, for an explicit file that has no `tool` table, the
   * whole file (a dedicated configuration file holds the keys at the top level).
   */
  private readTable(file: string, isPyproject: boolean): TableResult {
    const cached = this.tables.get(file);
    if (cached) return cached;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
    } catch (err) {
      throw new ConfigError(file, undefined, `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof TomlError) {
        const first = err.message.split('\n')[0].replace(/^Invalid TOML document:\s*/i, '');
        throw new ConfigError(file, undefined, `is not valid TOML (line ${err.line}, column ${err.column}): ${first}`);
      }
      throw new ConfigError(file, undefined, `is not valid TOML: ${(err as Error).message}`);
    }
    const tool = doc.tool;
    let result: TableResult;
    if (tool !== undefined && (typeof tool !== 'object' || tool === null || Array.isArray(tool))) {
      throw new ConfigError(file, 'tool', 'must be a table');
    }
    const section = (tool as Record<string, unknown> | undefined)?.[TOOL_TABLE];
    const prefix = `tool.${TOOL_TABLE}.`;
    if (section === undefined) {
      // A dedicated file (not a pyproject, no `tool` table) holds the keys at the top level.
      result = isPyproject || tool !== undefined ? { table: undefined, prefix } : { table: doc, prefix: '' };
    } else if (typeof section !== 'object' || section === null || Array.isArray(section)) {
      throw new ConfigError(file, `tool.${TOOL_TABLE}`, 'must be a table');
    } else {
      result = { table: section as Record<string, unknown>, prefix };
    }
    this.tables.set(file, result);
    return result;
  }

  private build(table: Record<string, unknown> | undefined, file: string | undefined, baseDir: string, prefix: string): ResolvedConfig {
    let settings: Settings;
    try {
      settings = table ? normalizeSettings(table, file ?? 'configuration') : defaultSettings();
    } catch (err) {
      if (err instanceof SettingsError) throw new ConfigError(file ?? err.source, `${prefix}${err.key}`, detailOf(err));
      throw err;
    }
    if (this.options.override) {
      try {
        settings = this.options.override(settings);
      } catch (err) {
        if (err instanceof SettingsError) throw new ConfigError(err.source, err.key, detailOf(err));
        throw err;
      }
    }
    return { settings, file, baseDir };
  }
}

/** SettingsError's message is "<source>: `<key>` <detail>"; the detail is what follows the key. */
function detailOf(err: SettingsError): string {
  const marker = `\`${err.key}\` `;
  const at = err.message.indexOf(marker);
  if (at !== -1) return err.message.slice(at + marker.length);
  // normalizeSettings names an unknown key as spelled (camelCase), not kebab-cased.
  const m = /^[^`]*`[^`]*` (.*)$/s.exec(err.message);
  return m ? m[1] : err.message;
}

function isFile(file: string): boolean {
  try {
    // No exception for the common case (most folders have no pyproject.toml): this runs for every folder walked.
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}
