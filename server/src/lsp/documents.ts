/**
 * The editor's open documents: their text, version and parse tree, kept current from LSP content changes by
 * editing the previous tree (`tree.edit`) and re-parsing incrementally. Owns the trees it holds; hands the
 * analyzer a copy. Knows nothing of rules, settings or the connection.
 */
import { fileURLToPath } from 'url';
import { editFor, parsePython, type Tree } from '../python/parser';
import { LineIndex } from '../core/text';

/** One LSP content change: a ranged replacement, or (no range) the whole new text. */
export interface ContentChange {
  range?: { start: { line: number; character: number }; end: { line: number; character: number } };
  text: string;
}

export interface OpenDocument {
  uri: string;
  /** Absolute file path, or undefined for a URI that is not a file (untitled, git, ...). */
  path: string | undefined;
  languageId: string;
  version: number;
  text: string;
  /** The current parse of `text`; undefined while parsing failed (then the analyzer parses on its own). */
  tree: Tree | undefined;
}

export function pathOfUri(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export class DocumentStore {
  private readonly docs = new Map<string, OpenDocument>();

  open(uri: string, languageId: string, version: number, text: string): OpenDocument {
    this.close(uri);
    const doc: OpenDocument = { uri, path: pathOfUri(uri), languageId, version, text, tree: safeParse(text) };
    this.docs.set(uri, doc);
    return doc;
  }

  /**
   * Applies changes in order. Each ranged change edits the tree so the next parse reuses every unchanged
   * subtree; a whole-text change drops the tree (nothing to reuse).
   */
  change(uri: string, version: number, changes: readonly ContentChange[]): OpenDocument | undefined {
    const doc = this.docs.get(uri);
    if (!doc) return undefined;
    let text = doc.text;
    let tree = doc.tree;
    for (const change of changes) {
      if (!change.range) {
        tree?.delete();
        tree = undefined;
        text = change.text;
        continue;
      }
      const index = new LineIndex(text);
      const start = index.offsetAt(change.range.start);
      const end = Math.max(start, index.offsetAt(change.range.end));
      tree?.edit(editFor(text, start, end, change.text));
      text = text.slice(0, start) + change.text + text.slice(end);
    }
    doc.text = text;
    doc.version = version;
    doc.tree = safeParse(text, tree);
    if (tree && tree !== doc.tree) tree.delete();
    return doc;
  }

  close(uri: string): void {
    const doc = this.docs.get(uri);
    if (!doc) return;
    doc.tree?.delete();
    this.docs.delete(uri);
  }

  get(uri: string): OpenDocument | undefined {
    return this.docs.get(uri);
  }

  byPath(filePath: string): OpenDocument | undefined {
    for (const doc of this.docs.values()) if (doc.path === filePath) return doc;
    return undefined;
  }

  all(): OpenDocument[] {
    return [...this.docs.values()];
  }

  dispose(): void {
    for (const uri of [...this.docs.keys()]) this.close(uri);
  }
}

/**
 * Buffers longer than this are not parsed as they change: far above the default max-file-size, so such a buffer is
 * not analysed either, and re-parsing megabytes on every keystroke would only make typing slow.
 */
export const MAX_PARSED_LENGTH = 4 * 1024 * 1024;

/** A parse never takes the server down: on failure the analyzer falls back to its own full parse. */
function safeParse(text: string, previous?: Tree): Tree | undefined {
  if (text.length > MAX_PARSED_LENGTH) return undefined;
  try {
    return parsePython(text, previous);
  } catch {
    return undefined;
  }
}
