/**
 * SARIF 2.1.0 output for code-scanning services: every rule's metadata in tool.driver (descriptions, help text and
 * Markdown with the fix, helpUri, security-severity, tags with CWE ids), results with the catalog's level mapping,
 * 1-based regions in UTF-16 code units (declared with columnKind), related locations, fixes as artifact changes,
 * stable partial fingerprints, and the run's notices as toolExecutionNotifications. Paths are relative to
 * %SRCROOT% (the working directory) when inside it, absolute file URIs otherwise.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import { pathToFileURL } from 'url';
import type { AuditResult } from '../../core/audit';
import { docSection, firstSentence, plainText, ruleDocFileName, SARIF_LEVEL } from '../../core/rule-docs';
import { LineIndex } from '../../core/text';
import type { Finding, Notice, Range, Severity } from '../../core/types';
import { ALL_RULES } from '../../rules/index';
import type { Rule } from '../../rules/rule';
import { displayPath, type OutputContext } from '../context';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
const SRCROOT = '%SRCROOT%';

/** GitHub's scale: critical >= 9.0, high 7.0-8.9, medium 4.0-6.9, low < 4.0. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.0', warning: '6.5', suggestion: '3.0' };

/**
 * CWE ids per rule, for the `external/cwe/cwe-N` tags code-scanning services group by. Kept beside the SARIF
 * writer because it is the only consumer; a rule missing here simply gets no CWE tag.
 */
const CWE: Record<string, number[]> = {
  JWT101: [347],
  JWT102: [327, 347],
  JWT103: [613],
  JWT104: [798],
  JWT105: [1188, 798],
  JWT106: [598],
  JWT107: [287, 755],
  JWT108: [287],
  JWT109: [209],
  JWT110: [1041],
  JWT111: [287],
  JWT112: [345],
  JWT113: [287],
  ISO201: [306],
  ISO202: [639],
  ISO203: [639],
  ISO204: [639],
  ISO205: [639],
  ISO206: [639, 915],
  ISO207: [89],
  ISO208: [269, 915],
  SEC301: [942],
  SEC302: [287],
  SEC303: [345],
  SEC304: [538],
  SEC305: [489],
  SEC306: [522],
};

export interface SarifOptions {
  /** Where rule pages live: a repository URL whose `blob/main/docs/rules/` holds them, else a local folder. */
  docsBase: { repositoryUrl?: string; localDir: string };
  /** The findings to report (after the threshold). */
  findings: readonly Finding[];
  commandLine?: string;
  startTime?: Date;
}

export function helpUri(rule: Pick<Rule, 'code' | 'name'>, docsBase: SarifOptions['docsBase']): string {
  const file = ruleDocFileName(rule);
  if (docsBase.repositoryUrl) return `${docsBase.repositoryUrl.replace(/\/+$/, '')}/blob/main/docs/rules/${file}`;
  return pathToFileURL(path.join(docsBase.localDir, file)).href;
}

function ruleDescriptor(rule: Rule, options: SarifOptions) {
  const what = docSection(rule.docs, 'What it does');
  const why = docSection(rule.docs, 'Why is this bad?');
  const fixSafety = docSection(rule.docs, 'Fix safety');
  const family = rule.code.startsWith('JWT') ? 'authentication' : rule.code.startsWith('ISO') ? 'authorization' : 'configuration';
  return {
    id: rule.code,
    name: rule.name,
    shortDescription: { text: firstSentence(what) || rule.name },
    fullDescription: { text: plainText([what, why].filter(Boolean).join('\n\n')) || rule.name },
    help: {
      text: plainText([what, why, fixSafety ? `Fix safety: ${fixSafety}` : ''].filter(Boolean).join('\n\n')) || rule.name,
      markdown: rule.docs.trim(),
    },
    helpUri: helpUri(rule, options.docsBase),
    defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
    properties: {
      'security-severity': SECURITY_SEVERITY[rule.severity],
      precision: 'high',
      'problem.severity': SARIF_LEVEL[rule.severity] === 'note' ? 'recommendation' : SARIF_LEVEL[rule.severity],
      tags: ['security', family, ...(CWE[rule.code] ?? []).map((n) => `external/cwe/cwe-${n}`)],
      severity: rule.severity,
      fix: rule.fix,
    },
  };
}

function artifactLocation(file: string, ctx: OutputContext) {
  const shown = displayPath(file, ctx.cwd);
  if (!path.isAbsolute(shown)) return { uri: shown.split('/').map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
  return { uri: pathToFileURL(file).href };
}

/** SARIF regions are 1-based; endColumn is the column just past the last character. */
function region(range: Range, ctx: OutputContext, file: string, withSnippet: boolean) {
  const r: Record<string, unknown> = {
    startLine: range.start.line + 1,
    startColumn: range.start.character + 1,
    endLine: Math.max(range.end.line, range.start.line) + 1,
    endColumn: range.end.character + 1,
  };
  if (range.end.line < range.start.line || (range.end.line === range.start.line && range.end.character < range.start.character)) {
    r.endLine = r.startLine;
    r.endColumn = r.startColumn;
  }
  if (withSnippet) {
    const text = ctx.textOf(file);
    if (text !== undefined) {
      const index = new LineIndex(text);
      if (range.start.line < index.lineCount) r.snippet = { text: index.lineText(range.start.line) };
    }
  }
  return r;
}

/** A fingerprint that survives unrelated edits: rule, file, the trimmed source line, and its occurrence number. */
function fingerprints(findings: readonly Finding[], ctx: OutputContext): string[] {
  const seen = new Map<string, number>();
  return findings.map((f) => {
    const text = ctx.textOf(f.file);
    const line = text !== undefined ? new LineIndex(text).lineText(f.range.start.line).trim() : '';
    const base = `${f.code}\0${displayPath(f.file, ctx.cwd)}\0${line.replace(/\s+/g, ' ')}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return `${createHash('sha256').update(`${base}\0${n}`).digest('hex').slice(0, 32)}`;
  });
}

function result(f: Finding, ruleIndex: Map<string, number>, fingerprint: string, ctx: OutputContext) {
  const out: Record<string, unknown> = {
    ruleId: f.code,
    level: SARIF_LEVEL[f.severity],
    message: { text: f.message },
    locations: [{ physicalLocation: { artifactLocation: artifactLocation(f.file, ctx), region: region(f.range, ctx, f.file, true) } }],
    partialFingerprints: { 'jwtApiSecurity/v1': fingerprint },
    properties: { severity: f.severity, checklist: f.checklist },
  };
  const index = ruleIndex.get(f.code);
  if (index !== undefined) out.ruleIndex = index;
  if (f.related.length > 0) {
    out.relatedLocations = f.related.map((r, i) => ({
      id: i + 1,
      physicalLocation: { artifactLocation: artifactLocation(r.file, ctx), region: region(r.range, ctx, r.file, false) },
      message: { text: r.message },
    }));
  }
  if (f.fix && f.fix.edits.length > 0) {
    out.fixes = [
      {
        description: { text: f.fix.safety === 'safe' ? f.fix.title : `${f.fix.title} (${f.fix.safety === 'unsafe' ? 'unsafe fix' : 'review before applying'})` },
        artifactChanges: [
          {
            artifactLocation: artifactLocation(f.file, ctx),
            replacements: f.fix.edits.map((e) => ({ deletedRegion: region(e.range, ctx, f.file, false), insertedContent: { text: e.newText } })),
          },
        ],
        properties: { safety: f.fix.safety },
      },
    ];
  }
  return out;
}

function notification(n: Notice, ctx: OutputContext) {
  const out: Record<string, unknown> = {
    level: n.level === 'info' ? 'note' : n.level,
    message: { text: n.message },
  };
  if (n.file) out.locations = [{ physicalLocation: { artifactLocation: artifactLocation(n.file, ctx) } }];
  return out;
}

export function renderSarif(audit: AuditResult, options: SarifOptions, ctx: OutputContext): string {
  const ruleIndex = new Map(ALL_RULES.map((r, i) => [r.code, i] as const));
  const prints = fingerprints(options.findings, ctx);
  const invocation: Record<string, unknown> = {
    executionSuccessful: !audit.notices.some((n) => n.level === 'error' && /^rule \w+ failed/.test(n.message)),
    toolExecutionNotifications: audit.notices.map((n) => notification(n, ctx)),
    workingDirectory: { uri: pathToFileURL(ctx.cwd + path.sep).href },
  };
  if (options.commandLine) invocation.commandLine = options.commandLine;
  if (options.startTime) {
    invocation.startTimeUtc = options.startTime.toISOString();
    invocation.endTimeUtc = new Date().toISOString();
  }
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'jwt-api-security',
            semanticVersion: ctx.version,
            version: ctx.version,
            informationUri: options.docsBase.repositoryUrl ?? pathToFileURL(path.join(options.docsBase.localDir, 'README.md')).href,
            rules: ALL_RULES.map((r) => ruleDescriptor(r, options)),
          },
        },
        invocations: [invocation],
        originalUriBaseIds: { [SRCROOT]: { uri: pathToFileURL(ctx.cwd + path.sep).href } },
        columnKind: 'utf16CodeUnits',
        results: options.findings.map((f, i) => result(f, ruleIndex, prints[i], ctx)),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
