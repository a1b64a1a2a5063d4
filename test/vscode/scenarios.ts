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

/** `--workspace DIR [--untrusted] [--grep RE]` selects one ad-hoc scenario; otherwise all of SCENARIOS run. */
export function scenariosFromArgs(argv: string[]): { scenarios: Scenario[]; rest: string[] } {
  let workspace: string | undefined;
  let untrusted = false;
  let grep: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--workspace' || arg === '--grep') {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      if (arg === '--workspace') workspace = path.resolve(value);
      else grep = value;
    } else if (arg === '--untrusted') {
      untrusted = true;
    } else {
      rest.push(arg);
    }
  }
  const scenarios = workspace
    ? [{ name: path.basename(workspace) + (untrusted ? '-untrusted' : ''), workspace, untrusted, grep: grep ?? '' }]
    : SCENARIOS.map((s) => (grep === undefined ? s : { ...s, grep }));
  return { scenarios, rest };
}
