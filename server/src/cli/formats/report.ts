/**
 * The audit report as Markdown, in the shape of a security review: a title naming the workspace, a summary line,
 * findings grouped by severity (critical, warning, suggestion) each with its place, what is wrong, why it matters
 * and the concrete fix for this code base (a before/after block built from the file's own text), the twelve-item
 * checklist, and the strengths (items that hold, with the line that shows it).
 * Owns presentation only: it reads the AuditResult and file texts; it never runs rules or decides what holds.
 * Invariant: the output carries no date, time or absolute path, so snapshots of it are stable.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { AuditResult, ChecklistItem } from '../../core/audit';
import { applyEdits, LineIndex } from '../../core/text';
import type { Finding, RelatedLocation, Severity, TextEdit } from '../../core/types';
import { ruleByCode } from '../../rules/index';
import { docSection, firstSentence } from '../../core/rule-docs';

export interface ReportOptions {
  /** Reads a file's current text (the editor passes open buffers); defaults to the disk. */
  readFile?: (absolutePath: string) => string | undefined;
}

const SECTIONS: { severity: Severity; title: string; empty: string }[] = [
  { severity: 'critical', title: '🔴 Critical Security Issues', empty: 'No critical issues found.' },
  { severity: 'warning', title: '🟡 Authentication Logic Warnings', empty: 'No authentication logic warnings.' },
  { severity: 'suggestion', title: '🟢 Best Practice Suggestions', empty: 'No suggestions.' },
];

const STATUS_LABEL: Record<ChecklistItem['status'], string> = {
  holds: '✅ holds',
  fails: '❌ fails',
  'not-applicable': '➖ not applicable',
};

/** Renders the whole report. `root` is the folder paths are shown relative to (the audited workspace). */
export function renderReport(result: AuditResult, root: string, options: ReportOptions = {}): string {
  const read = options.readFile ?? readFromDisk;
  const texts = new Map<string, string | undefined>();
  const textOf = (file: string): string | undefined => {
    if (!texts.has(file)) texts.set(file, safeRead(read, file));
    return texts.get(file);
  };
  const rel = (file: string) => relativePath(root, file);
  const out: string[] = [];

  const name = path.basename(path.resolve(root)) || root;
  out.push(`# JWT API Security Audit: \`${name}\``, '');
  out.push(summaryLine(result), '');

  let counter = 0;
  // A rule's generic "Use instead" example is shown once; later findings of the rule point back to it.
  const guidanceShown = new Map<string, number>();
  for (const section of SECTIONS) {
    const findings = result.findings.filter((f) => f.severity === section.severity);
    out.push(`## ${section.title}`, '');
    if (findings.length === 0) {
      out.push(section.empty, '');
      continue;
    }
    for (const f of findings) {
      counter++;
      out.push(...renderFinding(counter, f, rel, textOf, guidanceShown), '');
    }
  }

  out.push('## ✅ Security Strengths', '');
  const holding = result.checklist.filter((c) => c.status === 'holds');
  if (holding.length === 0) {
    out.push('No checklist item could be shown to hold.', '');
  } else {
    for (const item of holding) {
      out.push(`- **${item.id}. ${item.title}**`);
      for (const e of item.evidence) out.push(`  - ${locationText(e, rel)}: ${inline(e.message)}`);
    }
    out.push('');
  }

  out.push('## Checklist', '');
  out.push('| # | Item | Status | Evidence |', '|---|---|---|---|');
  for (const item of result.checklist) {
    out.push(`| ${item.id} | ${cell(item.title)} | ${STATUS_LABEL[item.status]} | ${cell(checklistEvidence(item, rel))} |`);
  }
  out.push('');

  const notices = result.notices.filter((n) => n.level !== 'info');
  if (notices.length > 0) {
    out.push('## Analysis notes', '');
    for (const n of notices) out.push(`- ${n.level}${n.file ? ` \`${rel(n.file)}\`` : ''}: ${inline(n.message)}`);
    out.push('');
  }
  return squeezeBlankLines(out.join('\n')).trimEnd() + '\n';
}

/** Runs of blank lines become one, except inside fenced code (a Python example keeps its two blank lines). */
function squeezeBlankLines(text: string): string {
  const out: string[] = [];
  let fenced = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && line.trim() === '' && out.length > 0 && out[out.length - 1].trim() === '') continue;
    out.push(line);
  }
  return out.join('\n');
}

function summaryLine(result: AuditResult): string {
  const total = result.findings.length;
  const c = result.counts;
  const holds = result.checklist.filter((i) => i.status === 'holds').length;
  const fails = result.checklist.filter((i) => i.status === 'fails').length;
  const na = result.checklist.length - holds - fails;
  const files = `${result.files} Python file${result.files === 1 ? '' : 's'}`;
  return (
    `**${total} finding${total === 1 ? '' : 's'}** in ${files}: ${c.critical} critical, ${c.warning} warning${c.warning === 1 ? '' : 's'}, ` +
    `${c.suggestion} suggestion${c.suggestion === 1 ? '' : 's'}. Checklist: ${holds} hold, ${fails} fail, ${na} not applicable.`
  );
}

function renderFinding(
  n: number,
  f: Finding,
  rel: (file: string) => string,
  textOf: (file: string) => string | undefined,
  guidanceShown: Map<string, number>,
): string[] {
  const rule = ruleByCode(f.code);
  const out: string[] = [];
  out.push(`### ${n}. \`${f.code}\` ${f.name}: \`${rel(f.file)}:${f.range.start.line + 1}\``, '');
  out.push(`**What is wrong:** ${inline(f.message)}`, '');
  const why = rule ? whyLine(rule.docs) : undefined;
  if (why) out.push(`**Why it matters:** ${why}`, '');
  for (const r of f.related) out.push(`- See ${locationText(r, rel)}: ${inline(r.message)}`);
  if (f.related.length > 0) out.push('');

  const edits = f.fix?.edits ?? [];
  const text = textOf(f.file);
  const diff = edits.length > 0 && text !== undefined ? renderEdits(text, edits) : undefined;
  if (f.fix && diff) {
    out.push(`**Fix** (${safetyText(f.fix.safety)}): ${inline(f.fix.title)}`, '', ...diff);
  } else {
    if (f.fix) out.push(`**Fix** (${safetyText(f.fix.safety)}): ${inline(f.fix.title)}`, '');
    const guidance = rule ? useInstead(rule.docs) : undefined;
    const shownAt = guidanceShown.get(f.code);
    if (guidance && shownAt !== undefined) out.push(`**Use instead:** see finding ${shownAt} above.`);
    else if (guidance) {
      out.push('**Use instead:**', '', guidance);
      guidanceShown.set(f.code, n);
    }
  }
  return out;
}

function safetyText(safety: string): string {
  if (safety === 'safe') return 'safe, applied by `--fix`';
  if (safety === 'unsafe') return 'unsafe, applied by `--fix --unsafe-fixes` after review';
  return 'manual';
}

/**
 * The fix's edits as `diff` blocks of the real lines they change: nearby edits share one block, distant ones
 * (an import at the top and a change below) get their own, so each block stays small.
 */
export function renderEdits(text: string, edits: readonly TextEdit[]): string[] | undefined {
  const sorted = [...edits].sort((a, b) => a.range.start.line - b.range.start.line || a.range.start.character - b.range.start.character);
  const groups: TextEdit[][] = [];
  for (const e of sorted) {
    const last = groups[groups.length - 1];
    if (last && e.range.start.line - Math.max(...last.map((x) => x.range.end.line)) <= 2) last.push(e);
    else groups.push([e]);
  }
  const index = new LineIndex(text);
  const out: string[] = [];
  for (const group of groups) {
    let after: string;
    try {
      after = applyEdits(text, group);
    } catch {
      return undefined;
    }
    let first = Math.min(...group.map((e) => e.range.start.line));
    const last = Math.max(...group.map((e) => e.range.end.line));
    // A pure insertion (an import) reads better with the line above it as context.
    const insertionOnly = group.every((e) => e.range.start.line === e.range.end.line && e.range.start.character === e.range.end.character);
    if (insertionOnly && first > 0 && group.every((e) => e.range.start.character === 0)) first--;
    const beforeLines: string[] = [];
    for (let l = first; l <= last && l < index.lineCount; l++) beforeLines.push(index.lineText(l));
    // Lines after the group are unchanged, so the group's replacement ends where the original suffix begins.
    const beforeAll = text.split('\n');
    const afterAll = after.split('\n');
    const suffix = beforeAll.length - (last + 1);
    const afterLines = afterAll.slice(first, Math.max(first, afterAll.length - Math.max(0, suffix))).map((l) => l.replace(/\r$/, ''));
    const block = diffLines(beforeLines, afterLines);
    if (block.length === 0) continue;
    out.push('```diff', ...block, '```', '');
  }
  return out.length > 0 ? out : undefined;
}

/** A minimal line diff: shared leading and trailing lines as context, the middle as removed then added. */
function diffLines(before: string[], after: string[]): string[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  const removed = before.slice(head, before.length - tail);
  const added = after.slice(head, after.length - tail);
  if (removed.length === 0 && added.length === 0) return [];
  // Blank context lines at the edges carry nothing.
  const leading = before.slice(0, head);
  while (leading.length && leading[0].trim() === '') leading.shift();
  const trailing = before.slice(before.length - tail);
  while (trailing.length && trailing[trailing.length - 1].trim() === '') trailing.pop();
  return [...leading.map((l) => `  ${l}`), ...removed.map((l) => `- ${l}`), ...added.map((l) => `+ ${l}`), ...trailing.map((l) => `  ${l}`)];
}

function checklistEvidence(item: ChecklistItem, rel: (file: string) => string): string {
  if (item.status === 'fails') {
    const places = item.findings.map((f) => `${f.code} at \`${rel(f.file)}:${f.range.start.line + 1}\``);
    return limitList(places);
  }
  if (item.status === 'holds') return limitList(item.evidence.map((e) => `\`${rel(e.file)}:${e.range.start.line + 1}\``));
  return item.evidence.length > 0 ? inline(item.evidence[0].message) : '—';
}

function limitList(items: string[], max = 4): string {
  const unique = [...new Set(items)];
  if (unique.length <= max) return unique.join(', ');
  return `${unique.slice(0, max).join(', ')} and ${unique.length - max} more`;
}

function locationText(loc: RelatedLocation, rel: (file: string) => string): string {
  return `\`${rel(loc.file)}:${loc.range.start.line + 1}\``;
}

/** The first sentence of the rule's "Why is this bad?" section, as one line of Markdown. */
export function whyLine(docs: string): string | undefined {
  return firstSentence(docSection(docs, 'Why is this bad?'), true) || undefined;
}

/** The rule's "Use instead" section (prose and code) as it stands in the docs. */
export function useInstead(docs: string): string | undefined {
  const body = docSection(docs, 'Use instead');
  return body ? body + '\n' : undefined;
}

function relativePath(root: string, file: string): string {
  const rel = path.relative(path.resolve(root), path.resolve(file));
  const shown = rel === '' ? path.basename(file) : rel.startsWith('..') ? file : rel;
  return shown.split(path.sep).join('/');
}

/** One line of Markdown-safe text: newlines folded. */
function inline(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** A table cell: pipes escaped. */
function cell(text: string): string {
  return inline(text).replace(/\|/g, '\\|');
}

function readFromDisk(file: string): string | undefined {
  return fs.readFileSync(file, 'utf8');
}

function safeRead(read: (file: string) => string | undefined, file: string): string | undefined {
  try {
    return read(file);
  } catch {
    return undefined;
  }
}
