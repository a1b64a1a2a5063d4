/**
 * The client's view of the `jwtApiSecurity.*` settings: what the server gets when it asks for configuration
 * (analysis keys only where the user set them, so they layer over pyproject.toml instead of hiding it behind
 * defaults; the switches with their effective values), and the keys whose change means a restart.
 * Knows nothing of the server's logic or the views.
 */
import * as vscode from 'vscode';

export const SECTION = 'jwtApiSecurity';

/** The analysis keys, mirroring `[tool.jwt-api-security]` (camelCase here, kebab-case in pyproject). */
export const ANALYSIS_KEYS = [
  'select',
  'ignore',
  'severity',
  'exclude',
  'includeTests',
  'secretEnvVar',
  'expectedAlgorithms',
  'ownerColumns',
  'authDependencies',
  'maxFileSize',
] as const;

/** Settings the server reads with their effective value (defaults included). */
const SWITCH_KEYS = ['enable', 'run'] as const;

/** The section as sent to the server for `scope` (a folder or file URI, or undefined for the window). */
export function serverSettings(scope: vscode.Uri | undefined): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope ?? null);
  const out: Record<string, unknown> = {};
  for (const key of SWITCH_KEYS) out[key] = config.get(key);
  for (const key of ANALYSIS_KEYS) {
    const inspected = config.inspect(key);
    // The most specific value the user set; defaults are left to the server (pyproject, then built-in defaults).
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export function isEnabled(): boolean {
  return vscode.workspace.getConfiguration(SECTION).get<boolean>('enable', true);
}
