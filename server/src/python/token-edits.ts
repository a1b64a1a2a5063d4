/**
 * Text edits the token rules' fixes share: dropping a dict entry or keyword argument (a whole line when it stands
 * on its own line), adding a keyword argument to a call, and inserting a guard statement after another statement
 * with the right indentation. Pure functions of text and syntax; knows nothing of rules.
 */
import type { Node } from 'web-tree-sitter';
import type { TextEdit } from '../core/types';
import { offsetRange, removeElementEdit } from './jwt-decode';
import { children, indentOf } from './syntax';

/**
 * Deletes a `pair`, `keyword_argument` or list element with its separating comma. When the element sits alone on
 * its line(s), the whole line goes, so no blank, whitespace-only line is left behind.
 */
export function removeEntryEdit(text: string, element: Node): TextEdit {
  if (element.type !== 'expression_statement') {
    const lineStart = text.lastIndexOf('\n', element.startIndex - 1) + 1;
    const before = text.slice(lineStart, element.startIndex);
    const rest = text.slice(element.endIndex);
    const tail = /^[ \t]*,?[ \t]*(#[^\n]*)?(\r?\n)/.exec(rest);
    if (/^[ \t]*$/.test(before) && tail) {
      return { range: offsetRange(text, lineStart, element.endIndex + tail[0].length), newText: '' };
    }
  }
  return removeElementEdit(text, element);
}

/** Adds `name=value` as the last argument of `call` (after a trailing comma if there is one). */
export function addKeywordEdit(text: string, call: Node, name: string, value: string): TextEdit | undefined {
  const list = call.childForFieldName('arguments');
  if (!list || list.type !== 'argument_list') return undefined;
  const close = list.lastChild;
  if (!close || close.type !== ')') return undefined;
  const args = children(list);
  if (args.length === 0) return { range: offsetRange(text, close.startIndex, close.startIndex), newText: `${name}=${value}` };
  const last = args[args.length - 1];
  const between = text.slice(last.endIndex, close.startIndex);
  if (/,/.test(between)) {
    // `f(\n    a,\n)`: keep the one-argument-per-line layout.
    const m = /\n([ \t]*)\)$/.exec(text.slice(0, close.endIndex));
    const indent = indentOf(text, last);
    if (m) return { range: offsetRange(text, close.startIndex - m[1].length, close.startIndex - m[1].length), newText: `${indent}${name}=${value},\n` };
    return { range: offsetRange(text, last.endIndex + between.indexOf(',') + 1, last.endIndex + between.indexOf(',') + 1), newText: ` ${name}=${value}` };
  }
  return { range: offsetRange(text, last.endIndex, last.endIndex), newText: `, ${name}=${value}` };
}

/** The indentation one level deeper than `stmt`'s block uses, guessed from the file (four spaces by default). */
export function indentUnit(text: string, stmt: Node): string {
  const block = stmt.parent;
  const header = block?.parent;
  if (block?.type === 'block' && header) {
    const inner = indentOf(text, stmt);
    const outer = indentOf(text, header);
    if (inner.startsWith(outer) && inner.length > outer.length) return inner.slice(outer.length);
  }
  return '    ';
}

/**
 * Inserts `lines` (already relative to `stmt`'s indentation, `\n`-separated) on new lines after `stmt`.
 * Undefined when `stmt` does not stand on its own line(s) (a `;`-joined or one-line compound statement).
 */
export function insertAfterStatementEdit(text: string, stmt: Node, lines: string[]): TextEdit | undefined {
  const lineStart = text.lastIndexOf('\n', stmt.startIndex - 1) + 1;
  if (!/^[ \t]*$/.test(text.slice(lineStart, stmt.startIndex))) return undefined;
  const rest = text.slice(stmt.endIndex);
  const tail = /^[ \t]*(#[^\n]*)?(?=\r?\n|$)/.exec(rest);
  if (!tail) return undefined;
  const indent = indentOf(text, stmt);
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const at = stmt.endIndex + tail[0].length;
  return { range: offsetRange(text, at, at), newText: lines.map((l) => `${eol}${indent}${l}`).join('') };
}
