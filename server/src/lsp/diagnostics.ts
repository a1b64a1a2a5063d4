/**
 * Finding -> LSP Diagnostic: code, link to the rule's reference page, source, severity mapping, related
 * information for the evidence, and the fix carried in `data` for code actions. Pure; knows nothing of the
 * connection or of how findings were computed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { Diagnostic, DiagnosticSeverity, DiagnosticTag, type DiagnosticRelatedInformation } from 'vscode-languageserver/node';
import { ruleDocFileName } from '../core/rule-docs';
import type { Finding, Severity } from '../core/types';
import { DIAGNOSTIC_SOURCE, type Counts, type DiagnosticData } from '../protocol';

export const SEVERITY_TO_LSP: Record<Severity, DiagnosticSeverity> = {
  critical: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  suggestion: DiagnosticSeverity.Information,
};

/**
 * The package this server ships in (its folder and version), found by walking up from this module to the
 * package.json that names it: `dist/server/` in the extension, `out/server/src/lsp/` in a development build.
 * The rule reference (`docs/rules/<CODE>-<name>.md`) and the grammars live there.
 */
export function locatePackageRoot(from: string = __dirname): { dir: string; version: string } {
  for (let dir = from, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'jwt-api-security') return { dir, version: manifest.version ?? '0.0.0' };
    } catch {
      // No manifest here: keep walking up.
    }
  }
  return { dir: process.cwd(), version: '0.0.0' };
}

export function docsHref(docsDir: string, code: string, name: string): string {
  return pathToFileURL(path.join(docsDir, ruleDocFileName({ code, name }))).toString();
}

export function toDiagnostic(finding: Finding, version: number | null, docsDir: string): Diagnostic {
  const related: DiagnosticRelatedInformation[] = finding.related.map((r) => ({
    location: { uri: pathToFileURL(r.file).toString(), range: r.range },
    message: r.message,
  }));
  const data: DiagnosticData = { version, severity: finding.severity, name: finding.name, fix: finding.fix };
  const diagnostic: Diagnostic = {
    range: finding.range,
    severity: SEVERITY_TO_LSP[finding.severity],
    code: finding.code,
    codeDescription: { href: docsHref(docsDir, finding.code, finding.name) },
    source: DIAGNOSTIC_SOURCE,
    message: finding.message,
    data,
  };
  if (related.length > 0) diagnostic.relatedInformation = related;
  // An unused suppression is dead text: editors grey it out.
  if (finding.code === 'SUP001') diagnostic.tags = [DiagnosticTag.Unnecessary];
  return diagnostic;
}

export function emptyCounts(): Counts {
  return { critical: 0, warning: 0, suggestion: 0 };
}

/** Counts diagnostics by the finding severity they carry. */
export function countDiagnostics(lists: Iterable<readonly Diagnostic[]>): Counts {
  const counts = emptyCounts();
  for (const list of lists) {
    for (const d of list) {
      const severity = (d.data as DiagnosticData | undefined)?.severity;
      if (severity) counts[severity]++;
    }
  }
  return counts;
}
