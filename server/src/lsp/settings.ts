/**
 * Settings per workspace folder for the server: the editor's `jwtApiSecurity.*` values (fetched with
 * `workspace/configuration`; the client sends only the ones the user set) layered over the nearest pyproject.toml
 * (core/config.ts, the same resolver the CLI uses), plus the server-only switches (`enable`, `run`).
 * Knows nothing of the connection: the caller fetches the raw values and shows the errors.
 * Invariant: a configuration error never stops analysis; the folder falls back to defaults under the editor
 * settings, and each distinct error is handed out once.
 */
import * as path from 'path';
import { ConfigError, ConfigResolver } from '../core/config';
import { defaultSettings, kebabCase, normalizeSettings, SETTING_KEYS, type Settings } from '../core/settings';

export type RunMode = 'onType' | 'onSave';

export interface ServerSwitches {
  enable: boolean;
  run: RunMode;
}

const EDITOR_SOURCE = 'VS Code settings (jwtApiSecurity.*)';

/** Splits the raw `jwtApiSecurity` section into server switches and analysis settings (camelCase keys). */
export function splitEditorSettings(raw: unknown): { switches: ServerSwitches; analysis: Record<string, unknown> } {
  const section = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const switches: ServerSwitches = {
    enable: section.enable !== false,
    run: section.run === 'onSave' ? 'onSave' : 'onType',
  };
  const known = new Set(SETTING_KEYS);
  const analysis: Record<string, unknown> = {};
  // Other keys (enable, run, trace, view state) belong to the server switches or the client.
  for (const [key, value] of Object.entries(section)) if (known.has(kebabCase(key))) analysis[key] = value;
  return { switches, analysis };
}

export interface ResolvedFolderSettings {
  settings: Settings;
  /** The folder `exclude` patterns are relative to. */
  baseDir: string;
}

/** Settings of one workspace folder; rebuild it when the editor settings or a pyproject.toml change. */
export class FolderSettings {
  private readonly resolver: ConfigResolver;
  private readonly fallback = new Map<string, ResolvedFolderSettings>();
  private readonly errors: string[] = [];
  private readonly editorLayer: (base: Settings) => Settings;

  constructor(
    readonly root: string,
    editor: Record<string, unknown>,
  ) {
    this.editorLayer = (base) => {
      try {
        return normalizeSettings(editor, EDITOR_SOURCE, base);
      } catch (err) {
        this.error((err as Error).message);
        return base;
      }
    };
    this.resolver = new ConfigResolver({ override: this.editorLayer, defaultBaseDir: root });
  }

  /** Configuration errors met since the last call, each once. */
  takeErrors(): string[] {
    return this.errors.splice(0);
  }

  settingsFor(file: string): Settings {
    return this.forDirectory(path.dirname(path.resolve(file))).settings;
  }

  forDirectory(dir: string): ResolvedFolderSettings {
    // Checked first: the resolver does not cache failures, and this is on the analysis hot path.
    const failed = this.fallback.get(dir);
    if (failed) return failed;
    try {
      const resolved = this.resolver.forDirectory(dir);
      return { settings: resolved.settings, baseDir: resolved.baseDir };
    } catch (err) {
      // A pyproject that cannot be read or has wrong values: say so once, analyse with defaults.
      this.error(err instanceof ConfigError ? `${err.message}; analysing with default settings` : String(err));
      const resolved = { settings: this.editorLayer(defaultSettings()), baseDir: this.root };
      this.fallback.set(dir, resolved);
      return resolved;
    }
  }

  private error(message: string): void {
    if (!this.errors.includes(message)) this.errors.push(message);
  }
}
