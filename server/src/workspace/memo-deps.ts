/**
 * Dependency-tracked memos for the Workspace: while a memo's compute runs, every workspace read it makes (a file's
 * text or model, the file set, a text pattern's verdicts, another memo) is recorded against it; a change then drops
 * only the memos whose recorded reads it touches. Knows nothing of files or Python: dependencies are opaque strings
 * (the Workspace chooses their encoding), and changes arrive as sets of those strings.
 *
 * Soundness rests on three rules, each enforced here or documented at the Workspace API:
 * - Every read goes through a tracked accessor while the memo's frame is on the stack; a memo computed or hit
 *   inside another memo becomes its child, so an outer memo is dropped whenever an inner one is (transitively).
 * - A value that is filled after its compute returned (a lazily filled cache: `memo(k, () => new Map())`, then
 *   `cache.set(...)` by later callers) records nothing useful during compute: its fills read files outside it. Such
 *   values are volatile: dropped on every change, and so is every memo that read one. They are recognised as an
 *   empty Map or Set (or any WeakMap/WeakSet) returned by compute, or declared with `volatile` (the Workspace's
 *   `cache()`); any other Map, Set or array (also one level inside a plain object) that changed size after its
 *   compute is dropped too. A cache of another shape (an object filled later) must be declared: nothing can see it.
 * - A compute closes over nothing but the workspace and the values its key is made of (a compute that captured a
 *   model or file obtained outside would read it untracked). The memos of this code base follow that rule.
 * - A memo being computed when a change happens is not kept (volatile).
 */

/** What one memo read while it was computed. */
export interface MemoEntry {
  key: string;
  value: unknown;
  /** Dependencies read directly (encoded by the owner: a file's content, the file set, a pattern's verdicts). */
  deps: Set<string>;
  /** Memos read while computing this one (computed or hit): this one is stale whenever any of them is. */
  children: Set<MemoEntry>;
  /** Filled after compute returned: its dependencies are unknown, so any change drops it. */
  volatile: boolean;
  /** Sizes of the value's containers when compute returned; a later difference means it was mutated. */
  shape: number[] | undefined;
}

interface Frame {
  deps: Set<string>;
  children: Set<MemoEntry>;
  /** A change happened while this memo was being computed: what it read before may be stale. */
  volatile: boolean;
}

export interface MemoStats {
  computed: number;
  hits: number;
  /** Entries dropped by changes, and kept across them (summed over every change). */
  dropped: number;
  kept: number;
}

export class MemoTable {
  private readonly entries = new Map<string, MemoEntry>();
  private readonly frames: Frame[] = [];
  readonly stats: MemoStats = { computed: 0, hits: 0, dropped: 0, kept: 0 };

  /** Whether a memo is being computed (reads are being recorded). */
  get tracking(): boolean {
    return this.frames.length > 0;
  }

  /** Records a read against the memo being computed, if any. */
  read(dep: string): void {
    if (this.frames.length > 0) this.frames[this.frames.length - 1].deps.add(dep);
  }

  /** Records several reads (cheaper than `read` in a loop when nothing is tracking). */
  readAll(deps: Iterable<string>): void {
    if (this.frames.length === 0) return;
    const top = this.frames[this.frames.length - 1].deps;
    for (const d of deps) top.add(d);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * The memo `key`, computed on first use; `volatile` declares a value filled after compute (see the header). A
   * compute that knows its dependencies better than its reads would say reads through untracked means and
   * declares them with `read`.
   */
  get<T>(key: string, compute: () => T, options: { volatile?: boolean } = {}): T {
    const hit = this.entries.get(key);
    if (hit) {
      this.stats.hits++;
      if (this.frames.length > 0) this.frames[this.frames.length - 1].children.add(hit);
      return hit.value as T;
    }
    const frame: Frame = { deps: new Set(), children: new Set(), volatile: false };
    this.frames.push(frame);
    let value: T;
    try {
      value = compute();
    } catch (err) {
      this.frames.pop();
      // The caller may catch and carry on: what led to the exception is still something it read.
      this.mergeIntoTop(frame);
      throw err;
    }
    this.frames.pop();
    this.stats.computed++;
    const entry: MemoEntry = {
      key,
      value,
      deps: frame.deps,
      children: frame.children,
      volatile: options.volatile === true || frame.volatile || isEmptyContainer(value),
      shape: shapeOf(value),
    };
    this.entries.set(key, entry);
    if (this.frames.length > 0) this.frames[this.frames.length - 1].children.add(entry);
    return value;
  }

  /** Drops every memo (settings changed, a non-Python file changed, trees freed). */
  clear(): void {
    this.changedDuringCompute();
    this.stats.dropped += this.entries.size;
    this.entries.clear();
  }

  /**
   * Drops the memos that read any of `changed` (directly or through a child), the volatile ones and their readers,
   * and any whose value was mutated after compute; keeps the rest.
   */
  invalidate(changed: ReadonlySet<string>): void {
    this.changedDuringCompute();
    if (this.entries.size === 0) return;
    const stale = new Map<MemoEntry, boolean>();
    const isStale = (e: MemoEntry): boolean => {
      const known = stale.get(e);
      if (known !== undefined) return known;
      // Provisionally fresh: a child reached again through another path is answered from this map.
      stale.set(e, false);
      let result = e.volatile || !sameShape(e.shape, shapeOf(e.value));
      if (!result) for (const d of changed) if (e.deps.has(d)) { result = true; break; }
      if (!result) for (const c of e.children) if (isStale(c)) { result = true; break; }
      stale.set(e, result);
      return result;
    };
    for (const [key, entry] of [...this.entries]) {
      if (isStale(entry)) {
        this.entries.delete(key);
        this.stats.dropped++;
      } else {
        this.stats.kept++;
      }
    }
  }

  /** Keys of the live memos (tests and benchmarks look at what survived a change). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** A change made from inside a compute (nothing does that today): the memos being computed are not kept. */
  private changedDuringCompute(): void {
    for (const f of this.frames) f.volatile = true;
  }

  private mergeIntoTop(frame: Frame): void {
    if (this.frames.length === 0) return;
    const top = this.frames[this.frames.length - 1];
    for (const d of frame.deps) top.deps.add(d);
    for (const c of frame.children) top.children.add(c);
    if (frame.volatile) top.volatile = true;
  }
}

/** An empty Map or Set, or any WeakMap or WeakSet (whose contents cannot be seen): the shape of a lazy cache. */
function isEmptyContainer(value: unknown): boolean {
  if (value instanceof WeakMap || value instanceof WeakSet) return true;
  return (value instanceof Map || value instanceof Set) && value.size === 0;
}

/** Sizes of the containers a value is made of: itself, or the containers one level inside a plain object. */
function shapeOf(value: unknown): number[] | undefined {
  const own = sizeOf(value);
  if (own !== undefined) return [own];
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  const sizes: number[] = [];
  for (const v of Object.values(value as Record<string, unknown>)) {
    const s = sizeOf(v);
    if (s !== undefined) sizes.push(s);
  }
  return sizes.length > 0 ? sizes : undefined;
}

function sizeOf(value: unknown): number | undefined {
  if (value instanceof Map || value instanceof Set) return value.size;
  if (Array.isArray(value)) return value.length;
  return undefined;
}

function sameShape(a: number[] | undefined, b: number[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((n, i) => n === b[i]);
}
