/**
 * Code actions for our diagnostics: the rule's quick fix (preferred when safe), "Suppress CODE on this line",
 * "Show documentation for CODE", and the file-wide fix-all (`source.fixAll.jwt-api-security`). Builds LSP
 * actions from the fix data the diagnostics carry and from the document's text and tree; the fix-all edits come
 * from the caller (it needs the workspace). Knows nothing of the connection.
 */
import {
  CodeAction,
  CodeActionKind,
  type Diagnostic,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import { LineIndex } from '../core/text';
import { suppressionComment } from '../core/suppressions';
import { DIAGNOSTIC_SOURCE, FIX_ALL_KIND, SHOW_RULE_DOCS_COMMAND, type DiagnosticData } from '../protocol';
import type { OpenDocument } from './documents';

export const FIX_ALL_TITLE = 'Fix all safely fixable JWT API Security problems';

/** True when a request restricted to `only` wants actions of `kind` (LSP kinds are hierarchical, dot-separated). */
export function wants(only: readonly string[] | undefined, kind: string): boolean {
  if (!only) return true;
  return only.some((o) => o === '' || kind === o || kind.startsWith(`${o}.`));
}

function edit(doc: OpenDocument, edits: TextEdit[]): WorkspaceEdit {
  // Versioned edits: the editor refuses them if the buffer moved on since the diagnostic was computed.
  return { documentChanges: [{ textDocument: { uri: doc.uri, version: doc.version }, edits }] };
}

/** Quick fix, suppress and docs actions for the diagnostics in the request's context. */
export function diagnosticActions(doc: OpenDocument, diagnostics: readonly Diagnostic[], only?: readonly string[]): CodeAction[] {
  if (!wants(only, CodeActionKind.QuickFix)) return [];
  const fixes: CodeAction[] = [];
  const suppress: CodeAction[] = [];
  const docs: CodeAction[] = [];
  const seenSuppress = new Set<string>();
  const seenDocs = new Set<string>();
  const lines = new LineIndex(doc.text);
  for (const d of diagnostics) {
    if (d.source !== DIAGNOSTIC_SOURCE || typeof d.code !== 'string') continue;
    const code = d.code;
    const data = d.data as DiagnosticData | undefined;
    const fix = data?.fix;
    if (fix && fix.safety !== 'display-only' && fix.edits.length > 0 && data.version === doc.version) {
      const unsafe = fix.safety === 'unsafe';
      fixes.push({
        title: unsafe && !/unsafe/i.test(fix.title) ? `${fix.title} (unsafe fix)` : fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [d],
        isPreferred: !unsafe,
        edit: edit(doc, fix.edits),
      });
    }
    const line = d.range.start.line;
    if (code !== 'SUP001' && !seenSuppress.has(`${code}:${line}`)) {
      seenSuppress.add(`${code}:${line}`);
      const edits = suppressEdits(doc, lines, line, code);
      if (edits) suppress.push({ title: `Suppress ${code} on this line`, kind: CodeActionKind.QuickFix, diagnostics: [d], edit: edit(doc, edits) });
    }
    if (!seenDocs.has(code)) {
      seenDocs.add(code);
      docs.push({
        title: `Show documentation for ${code}`,
        kind: CodeActionKind.QuickFix,
        command: { title: `Show documentation for ${code}`, command: SHOW_RULE_DOCS_COMMAND, arguments: [code] },
      });
    }
  }
  return [...fixes, ...suppress, ...docs];
}

/** The fix-all action, when the request asks for it (or for everything) and there is something to fix. */
export function fixAllAction(doc: OpenDocument, only: readonly string[] | undefined, compute: () => TextEdit[]): CodeAction | undefined {
  // `source.fixAll` (what `editor.codeActionsOnSave` asks for) contains our sub-kind, so one kind serves both.
  if (!wants(only, FIX_ALL_KIND)) return undefined;
  const edits = compute();
  if (edits.length === 0) return undefined;
  return { title: FIX_ALL_TITLE, kind: FIX_ALL_KIND, edit: edit(doc, edits) };
}

/**
 * The edits that silence `code` on `line`: extend an existing suppression comment's list, else append a comment
 * at the end of the line, else (the line ends inside a string or with a backslash continuation, where a comment
 * would change the code) put the comment alone on the line above, which suppressions also honour.
 * Undefined when no comment can be placed without changing the code.
 */
export function suppressEdits(doc: OpenDocument, lines: LineIndex, line: number, code: string): TextEdit[] | undefined {
  if (line >= lines.lineCount) return undefined;
  const text = lines.lineText(line);
  const existing = /#\s*jwt-api-security:\s*ignore(\[([^\]]*)\])?/.exec(text);
  if (existing) {
    if (existing[1] === undefined) return undefined; // a bare ignore already silences every code
    const codes = existing[2].split(',').map((c) => c.trim()).filter(Boolean);
    if (codes.includes(code)) return undefined;
    const start = existing.index + existing[0].length - existing[1].length;
    return [
      {
        range: { start: { line, character: start }, end: { line, character: start + existing[1].length } },
        newText: `[${[...codes, code].join(', ')}]`,
      },
    ];
  }
  const endsInsideString = insideMultilineString(doc, lines, line, text.length);
  if (!endsInsideString && !/\\\s*$/.test(text) && text.trim() !== '') {
    const trimmed = text.replace(/\s+$/, '');
    return [
      {
        range: { start: { line, character: trimmed.length }, end: { line, character: text.length } },
        newText: suppressionComment(code),
      },
    ];
  }
  if (insideMultilineString(doc, lines, line, 0)) return undefined;
  const indent = /^[ \t]*/.exec(text)![0];
  return [{ range: { start: { line, character: 0 }, end: { line, character: 0 } }, newText: `${indent}# jwt-api-security: ignore[${code}]\n` }];
}

/** True when (line, character) lies inside a string that spans several lines (a comment there would be text). */
function insideMultilineString(doc: OpenDocument, lines: LineIndex, line: number, character: number): boolean {
  const tree = doc.tree;
  if (!tree) return false;
  const offset = lines.offsetAt({ line, character });
  let node = tree.rootNode.descendantForIndex(Math.max(0, offset - 1), offset);
  while (node) {
    if (node.type === 'string' && node.startPosition.row !== node.endPosition.row) {
      return node.startIndex < offset && offset < node.endIndex;
    }
    node = node.parent;
  }
  return false;
}

/** One edit turning `before` into `after`: the span between their common prefix and suffix (keeps the cursor stable). */
export function minimalEdit(before: string, after: string): TextEdit[] {
  if (before === after) return [];
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (end < max - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
  const index = new LineIndex(before);
  return [{ range: { start: index.positionAt(start), end: index.positionAt(before.length - end) }, newText: after.slice(start, after.length - end) }];
}
