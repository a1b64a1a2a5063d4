/**
 * The human-readable output, in Ruff's style: `path:line:col: CODE [*] message`, the source line with a caret
 * underline, the fix as a help line, then a summary with the fixable count. Columns are 1-based UTF-16 code
 * units, what VS Code's terminal links expect. Colour only when the context says so (a TTY without NO_COLOR).
 */
import { LineIndex } from '../../core/text';
import type { Finding, Notice, Severity } from '../../core/types';
import { displayPath, fixCounts, statistics, type OutputContext } from '../context';

const ESC = '\u001b[';
type Style = 'bold' | 'red' | 'yellow' | 'cyan' | 'blue' | 'green' | 'dim';
const CODES: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  cyan: [36, 39],
};

function painter(color: boolean) {
  return (style: Style, text: string) => (color ? `${ESC}${CODES[style][0]}m${text}${ESC}${CODES[style][1]}m` : text);
}

const SEVERITY_STYLE: Record<Severity, Style> = { critical: 'red', warning: 'yellow', suggestion: 'cyan' };

/** One finding: the location line, the source excerpt with carets, and the fix hint. */
export function renderFinding(f: Finding, ctx: OutputContext): string {
  const paint = painter(ctx.color);
  const where = `${displayPath(f.file, ctx.cwd)}:${f.range.start.line + 1}:${f.range.start.character + 1}:`;
  const fixable = f.fix && f.fix.edits.length > 0 && f.fix.safety === 'safe' ? ` ${paint('cyan', '[*]')}` : '';
  const lines = [`${paint('bold', where)} ${paint(SEVERITY_STYLE[f.severity], paint('bold', f.code))}${fixable} ${f.message}`];
  const excerpt = sourceExcerpt(f, ctx);
  if (excerpt) lines.push(...excerpt);
  const hints: string[] = [];
  // A display-only fix with no edits is still advice worth printing.
  if (f.fix) {
    const note = f.fix.safety === 'unsafe' ? ' [--unsafe-fixes]' : f.fix.safety === 'display-only' || f.fix.edits.length === 0 ? ' [apply by hand]' : '';
    hints.push(`= help: ${f.fix.title}${note}`);
  }
  for (const r of f.related) {
    hints.push(`= note: ${displayPath(r.file, ctx.cwd)}:${r.range.start.line + 1}:${r.range.start.character + 1}: ${r.message}`);
  }
  const gutter = excerpt ? ' '.repeat(String(f.range.start.line + 1).length + 1) : '';
  for (const h of hints) lines.push(`${gutter}${paint('blue', h.slice(0, 1))}${h.slice(1)}`);
  return lines.join('\n');
}

function sourceExcerpt(f: Finding, ctx: OutputContext): string[] | undefined {
  const text = ctx.textOf(f.file);
  if (text === undefined) return undefined;
  const index = new LineIndex(text);
  const line = f.range.start.line;
  if (line < 0 || line >= index.lineCount) return undefined;
  const source = index.lineText(line).replace(/\r$/, '');
  if (source.trim() === '' && f.range.start.line === f.range.end.line && f.range.start.character === f.range.end.character) return undefined;
  const paint = painter(ctx.color);
  const number = String(line + 1);
  const pad = ' '.repeat(number.length);
  const start = Math.min(f.range.start.character, source.length);
  const end = f.range.end.line === line ? Math.min(Math.max(f.range.end.character, start + 1), Math.max(source.length, start + 1)) : Math.max(source.length, start + 1);
  // Keep tabs under tabs so the carets line up however the terminal expands them.
  const lead = [...source.slice(0, start)].map((c) => (c === '\t' ? '\t' : ' ')).join('');
  const width = Math.max(1, [...source.slice(start, end)].length);
  const carets = paint(SEVERITY_STYLE[f.severity], `${'^'.repeat(width)} ${f.code} (${f.severity})`);
  return [`${pad} ${paint('blue', '|')}`, `${paint('blue', `${number} |`)} ${source}`, `${pad} ${paint('blue', '|')} ${lead}${carets}`, `${pad} ${paint('blue', '|')}`];
}

export interface TextSummary {
  /** Findings listed (at or above the threshold). */
  findings: readonly Finding[];
  /** Findings fixed by --fix in this run. */
  fixed?: number;
  /** Findings below the threshold that were not listed. */
  hidden: number;
}

export function renderSummary(summary: TextSummary, ctx: OutputContext): string {
  const paint = painter(ctx.color);
  const { findings, fixed = 0 } = summary;
  const out: string[] = [];
  if (findings.length === 0) {
    out.push(fixed > 0 ? `Found ${plural(fixed, 'finding')} (${fixed} fixed, 0 remaining).` : paint('green', 'No findings.'));
  } else {
    const bySeverity = (['critical', 'warning', 'suggestion'] as Severity[])
      .map((s) => [s, findings.filter((f) => f.severity === s).length] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    const total = findings.length + fixed;
    out.push(
      fixed > 0
        ? `Found ${plural(total, 'finding')} (${fixed} fixed, ${findings.length} remaining: ${bySeverity}).`
        : `Found ${plural(findings.length, 'finding')} (${bySeverity}).`,
    );
    const fixes = fixCounts(findings);
    if (fixes.safe > 0 || fixes.unsafe > 0) {
      const hidden = fixes.unsafe > 0 ? ` (${plural(fixes.unsafe, 'more fix', 'more fixes')} available with \`--unsafe-fixes\`)` : '';
      out.push(fixes.safe > 0 ? `${paint('cyan', '[*]')} ${fixes.safe} fixable with the \`--fix\` option${hidden}.` : `No fixes available${hidden}.`);
    }
  }
  if (summary.hidden > 0) out.push(`${plural(summary.hidden, 'finding')} below the \`--severity ${ctx.threshold}\` threshold not shown.`);
  return out.join('\n');
}

export function renderText(findings: readonly Finding[], summary: TextSummary, ctx: OutputContext, quiet: boolean): string {
  const blocks = findings.map((f) => renderFinding(f, ctx));
  const body = blocks.join('\n\n');
  if (quiet) return body ? `${body}\n` : '';
  return `${body ? `${body}\n\n` : ''}${renderSummary(summary, ctx)}\n`;
}

export function renderStatisticsText(findings: readonly Finding[], ctx: OutputContext): string {
  const paint = painter(ctx.color);
  const rows = statistics(findings);
  if (rows.length === 0) return '';
  const width = Math.max(...rows.map((r) => String(r.count).length));
  return (
    rows
      .map((r) => `${String(r.count).padStart(width)}\t${paint('bold', r.code)}\t${r.fixable === r.count ? paint('cyan', '[*]') : r.fixable > 0 ? paint('cyan', '[-]') : '[ ]'} ${r.name}`)
      .join('\n') + '\n'
  );
}

/** A notice for stderr: `warning: path: message`. */
export function renderNotice(n: Notice, ctx: OutputContext): string {
  const paint = painter(ctx.color);
  const label = n.level === 'error' ? paint('red', 'error') : n.level === 'warning' ? paint('yellow', 'warning') : 'info';
  return `${paint('bold', label)}: ${n.file ? `${displayPath(n.file, ctx.cwd)}: ` : ''}${n.message}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
