/**
 * The editor's open documents: their text, version and parse tree, kept current from LSP content changes by
 * editing the previous tree (`tree.edit`) and re-parsing incrementally. A document is parsed when its tree is
 * first asked for, not when it opens: a start-up that answers from the index cache needs no parse at all (the
 * server parses the open documents once its first results are out, so the first edit is still incremental).
 * Owns the trees it holds; hands the analyzer a copy. Knows nothing of rules, settings or the connection.
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
  /** The current parse of `text` (parsed on first use); undefined while parsing failed (then the analyzer parses on its own). */
  readonly tree: Tree | undefined;
  /** The tree if the document has been parsed already; never parses. */
  readonly parsedTree: Tree | undefined;
}

/** An open document whose text is parsed on the first read of `tree`. */
class Document implements OpenDocument {
  readonly path: string | undefined;
  private parsed = false;
  private current: Tree | undefined;

  constructor(
    readonly uri: string,
    readonly languageId: string,
    public version: number,
    public text: string,
  ) {
    this.path = pathOfUri(uri);
  }

  get tree(): Tree | undefined {
    if (!this.parsed) {
      this.parsed = true;
      this.current = safeParse(this.text);
    }
    return this.current;
  }

  get parsedTree(): Tree | undefined {
    return this.current;
  }

  /** Replaces the tree (undefined: parse the text when next asked). */
  setTree(tree: Tree | undefined, parsed: boolean): void {
    this.current = tree;
    this.parsed = parsed;
  }
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
  private readonly docs = new Map<string, Document>();

  open(uri: string, languageId: string, version: number, text: string): OpenDocument {
    this.close(uri);
    const doc = new Document(uri, languageId, version, text);
    this.docs.set(uri, doc);
    return doc;
  }

  /**
   * Applies changes in order. Each ranged change edits the tree so the next parse reuses every unchanged
   * subtree; a whole-text change drops the tree (nothing to reuse). A document not parsed yet is parsed afresh.
   */
  change(uri: string, version: number, changes: readonly ContentChange[]): OpenDocument | undefined {
    const doc = this.docs.get(uri);
    if (!doc) return undefined;
    let text = doc.text;
    let tree = doc.parsedTree;
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
    const next = safeParse(text, tree);
    doc.setTree(next, true);
    if (tree && tree !== next) tree.delete();
    return doc;
  }

  close(uri: string): void {
    const doc = this.docs.get(uri);
    if (!doc) return;
    doc.parsedTree?.delete();
    doc.setTree(undefined, true);
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
