/**
 * The integration scenarios both runners share. One VS Code window opens one folder, so each scenario is one
 * window: a fixture workspace, whether Workspace Trust is granted, and a Mocha grep choosing the suites that
 * belong to it (suite titles start with their scenario tag). Plain data; starts nothing.
 */
import * as path from 'path';
import { FIXTURES } from './paths';

export interface Scenario {
  name: string;
  /** Fixture folder (absolute), copied to a scratch folder before the window opens it. */
  workspace: string;
  /** Workspace Trust enabled and the folder not trusted (VS Code's Restricted Mode). */
  untrusted: boolean;
  /** Mocha grep over full test titles. */
  grep: string;
}

export const SCENARIOS: Scenario[] = [
  { name: 'trusted', workspace: path.join(FIXTURES, 'vulnerable-app'), untrusted: false, grep: '^(?!untrusted)' },
  { name: 'untrusted', workspace: path.join(FIXTURES, 'vulnerable-app'), untrusted: true, grep: '^untrusted' },
];

/** The environment the suite reads inside the extension host (see suite/index.ts). */
export function suiteEnv(scenario: Scenario, folder: string): Record<string, string> {
  return {
    JWT_VSCODE_GREP: scenario.grep,
    JWT_VSCODE_SCENARIO: scenario.name,
    JWT_VSCODE_WORKSPACE: folder,
  };
}

/**
 * `--workspace DIR [--untrusted]` runs one ad-hoc window; otherwise the SCENARIOS run, or those named with
 * `--scenario NAME` (repeatable). `--grep RE` narrows the tests of every window (it is combined with the
 * scenario's own grep, so the untrusted suite never runs in a trusted window).
 */
export function scenariosFromArgs(argv: string[]): { scenarios: Scenario[]; rest: string[] } {
  let workspace: string | undefined;
  let untrusted = false;
  let grep: string | undefined;
  const names: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--workspace' || arg === '--grep' || arg === '--scenario') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      if (arg === '--workspace') workspace = path.resolve(value);
      else if (arg === '--grep') grep = value;
      else names.push(value);
    } else if (arg === '--untrusted') {
      untrusted = true;
    } else {
      rest.push(arg);
    }
  }
  if (workspace) {
    return { scenarios: [{ name: path.basename(workspace) + (untrusted ? '-untrusted' : ''), workspace, untrusted, grep: grep ?? '' }], rest };
  }
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const chosen = names.length > 0 ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  const scenarios = chosen.map((s) => (grep === undefined ? s : { ...s, grep: `^(?=.*(?:${grep}))(?:${s.grep})` }));
  return { scenarios, rest };
}
