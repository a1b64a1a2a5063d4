/**
 * Runs the rules over workspace files: rule selection, severity overrides, test-file filtering, suppressions
 * and SUP001, isolation of a rule that throws. Returns plain data; knows nothing of LSP, argv or stdout.
 */
import * as path from 'path';
import { RULES, SUP001 } from '../rules/index';
import { formatMessage, mayReport, type Rule, type ReportInput } from '../rules/rule';
import { rangeOf } from '../python/syntax';
import { isRuleEnabled, type Settings } from './settings';
import { applySuppressions, collectSuppressions } from './suppressions';
import { compareFindings, type Finding, type Notice } from './types';
import type { Workspace, WorkspaceFile } from '../workspace/workspace';

export interface AnalyzeOptions {
  /** Report SUP001 for suppressions that silence nothing (the full audit does; the editor can too). */
  reportUnusedSuppressions?: boolean;
  /** Restricts which rules run (on top of settings), e.g. a fixture harness running one rule. */
  onlyRules?: readonly string[];
  /** Run every enabled rule on every file, ignoring the rules' text prescans (the equivalence test does). */
  noPrescan?: boolean;
}

export interface FileAnalysis {
  findings: Finding[];
  notices: Notice[];
}

/** `tests/`, `test/`, `test_*.py`, `*_test.py`, `conftest.py`. */
export function isTestFile(file: string): boolean {
  const parts = file.split(/[\\/]/);
  const base = parts[parts.length - 1];
  return (
    parts.slice(0, -1).some((p) => p === 'tests' || p === 'test') ||
    /^test_.*\.py$/.test(base) ||
    /_test\.py$/.test(base) ||
    base === 'conftest.py'
  );
}

export function enabledRules(settings: Settings, only?: readonly string[]): Rule[] {
  return RULES.filter((r) => isRuleEnabled(r.code, settings) && (!only || only.includes(r.code)));
}

/** Analyses one file of the workspace. Never throws for a user's code: failures become notices. */
export function analyzeFile(ws: Workspace, filePath: string, options: AnalyzeOptions = {}): FileAnalysis {
  const file = ws.file(filePath);
  const notices: Notice[] = [];
  if (!file) return { findings: [], notices: [{ level: 'error', file: filePath, message: 'file is not part of the workspace' }] };
  const settings = ws.settingsFor(file.path);
  if (!settings.includeTests && isTestFile(path.relative(ws.root, file.path))) return { findings: [], notices };
  const enabled = enabledRules(settings, options.onlyRules);
  // Rules whose prescan rejects the text cannot report here; skipping them (and the parse, when none is left)
  // is what makes a workspace audit cheap on code that is not a FastAPI backend.
  const rules = options.noPrescan ? enabled : enabled.filter((r) => mayReport(r, file, ws));
  const hasSuppressions = file.text.includes('jwt-api-security:');
  if (rules.length === 0 && !hasSuppressions) return { findings: [], notices };
  let model;
  try {
    model = ws.model(file.path);
  } catch (err) {
    return { findings: [], notices: [{ level: 'error', file: file.path, message: `could not parse: ${(err as Error).message}` }] };
  }
  if (!model) return { findings: [], notices };

  const raw: Finding[] = [];
  for (const rule of rules) {
    try {
      rule.check({
        file,
        model,
        workspace: ws,
        settings,
        report: (input) => raw.push(toFinding(rule, file, input, settings)),
      });
    } catch (err) {
      notices.push({
        level: 'error',
        file: file.path,
        message: `rule ${rule.code} failed on this file: ${(err as Error).stack?.split('\n').slice(0, 3).join(' ') ?? err}`,
      });
    }
  }
  const suppressions = collectSuppressions(model.root, file.text);
  const findings = applySuppressions(dedupe(raw), suppressions);
  // Like Ruff, fix only code that parses: in a file with a syntax error the tree around the error is a guess, and an
  // edit computed from it can break the file further (the property tests found such cases). The findings stay.
  if (model.root.hasError) for (const f of findings) delete f.fix;
  if (options.reportUnusedSuppressions && isRuleEnabled(SUP001.code, settings)) {
    // A rule skipped by its prescan ran in effect: it could not have reported anything here.
    const ran = new Set(enabled.map((r) => r.code));
    for (const s of suppressions) {
      const unused = s.codes === undefined ? (s.usedAny ? [] : ['(all)']) : s.codes.filter((c) => ran.has(c) && !s.used.has(c));
      if (unused.length === 0) continue;
      findings.push({
        code: SUP001.code,
        name: SUP001.name,
        severity: settings.severity[SUP001.code] ?? SUP001.severity,
        message: formatMessage(SUP001.messages.unused, { codes: unused.join(', ') }),
        file: file.path,
        range: s.range,
        related: [],
        checklist: [],
        fix: { title: 'Remove the unused suppression', safety: 'safe', edits: [{ range: s.range, newText: '' }] },
      });
    }
  }
  return { findings: findings.sort(compareFindings), notices };
}

/** Analyses every file of the workspace, then the workspace-level checks; findings sorted by file and position. */
export function analyzeWorkspace(ws: Workspace, options: AnalyzeOptions = {}): FileAnalysis {
  const findings: Finding[] = [];
  const notices: Notice[] = [];
  for (const file of ws.allFiles()) {
    const result = analyzeFile(ws, file.path, options);
    findings.push(...result.findings);
    notices.push(...result.notices);
  }
  const workspaceLevel = analyzeWorkspaceLevel(ws, options);
  findings.push(...workspaceLevel.findings);
  notices.push(...workspaceLevel.notices);
  return { findings: findings.sort(compareFindings), notices };
}

/** Runs the rules' `checkWorkspace` hooks (findings in non-Python files such as `.env`). */
export function analyzeWorkspaceLevel(ws: Workspace, options: AnalyzeOptions = {}): FileAnalysis {
  const findings: Finding[] = [];
  const notices: Notice[] = [];
  const rootSettings = ws.settingsFor(path.join(ws.root, 'pyproject.toml'));
  for (const rule of enabledRules(rootSettings, options.onlyRules)) {
    if (!rule.checkWorkspace) continue;
    try {
      rule.checkWorkspace({
        workspace: ws,
        settingsFor: (f) => ws.settingsFor(f),
        report: (input) => {
          const settings = ws.settingsFor(input.file);
          if (!isRuleEnabled(rule.code, settings)) return;
          findings.push({ ...toFinding(rule, { path: input.file } as WorkspaceFile, input, settings), file: path.resolve(input.file) });
        },
      });
    } catch (err) {
      notices.push({ level: 'error', message: `rule ${rule.code} failed on the workspace: ${(err as Error).message}` });
    }
  }
  return { findings, notices };
}

function toFinding(rule: Rule, file: WorkspaceFile, input: ReportInput, settings: Settings): Finding {
  const range = input.range ?? (input.node ? rangeOf(input.node) : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } });
  const template = rule.messages[input.messageId] ?? input.messageId;
  return {
    code: rule.code,
    name: rule.name,
    // A configured override wins over the catalog level; a rule's own weaker note level stays a note.
    severity: input.severity ?? settings.severity[rule.code] ?? rule.severity,
    message: formatMessage(template, input.data),
    file: file.path,
    range,
    fix: input.fix,
    related: input.related ?? [],
    checklist: rule.checklist,
  };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.code}:${f.range.start.line}:${f.range.start.character}:${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
