/**
 * Names through which a file can reach a workspace function that verifies a JWT or returns decoded claims, for
 * rule prescans: a call site names the function it calls (its own name, or an import alias that the importing
 * file's text spells next to that name), so a file whose text contains none of these names cannot call one.
 * Computed from the files that say `jwt`/`jose` and the files that mention the names found so far, never from
 * the whole workspace. Memoized (the workspace records what each computation read); knows nothing of rules.
 * Memo values are wrapped in plain objects: an empty Set returned by a memo reads as a lazily filled cache
 * (memo-deps.ts) and would be recomputed after every edit.
 */
import { JWT_LIBRARY_TEXT, jwtCallsIn } from '../python/jwt-libs';
import { claimReturningFunctions } from './token-index';
import type { Workspace, WorkspaceFile } from './workspace';

/** The kinds `functionDecodesJwt` (jwt-helpers.ts) counts as verifying a token. */
const DECODING_KINDS = new Set(['decode', 'unverified-claims', 'signing-key']);

/**
 * Names of the top-level workspace functions for which `functionDecodesJwt` can be true: those that decode
 * themselves and, as that function follows callees three levels deep, their callers up to three levels, with the
 * aliases they are imported under (a call spells the alias). Name-level, so a superset: a function merely sharing
 * a name with one of them is included too.
 */
export function decodingFunctionNames(ws: Workspace): ReadonlySet<string> {
  return ws.memo('jwt-helper-names:decoding', () => ({ names: computeDecodingNames(ws) })).names;
}

function computeDecodingNames(ws: Workspace): Set<string> {
  const names = new Set<string>();
  for (const file of ws.filesMentioning(JWT_LIBRARY_TEXT)) {
    const model = ws.model(file.path);
    if (!model) continue;
    for (const fn of model.functions) {
      if (fn.topLevel && jwtCallsIn(model, fn.body).some((c) => DECODING_KINDS.has(c.kind))) names.add(fn.name);
    }
  }
  // `functionDecodesJwt(f)` is `decodes(f, 0)`, which follows callees while depth <= 3: a caller chain f0 -> f1
  // -> f2 -> f3 with the decode in f3 is the longest one that counts.
  let frontier = new Set(names);
  for (let level = 1; level <= 3 && frontier.size > 0; level++) {
    const next = new Set<string>();
    // A caller may call through an alias the name is (re-)exported under (`from .auth import verify as check`).
    frontier = withImportAliases(ws, frontier, 4);
    for (const file of ws.filesMentioning(namesPattern(frontier))) {
      const model = ws.model(file.path);
      if (!model) continue;
      for (const fn of model.functions) {
        if (!fn.topLevel || names.has(fn.name) || next.has(fn.name)) continue;
        // `decodes` asks `workspaceFunction(callee)`, whose member is the callee's last component.
        if (model.callsIn(fn.body).some(({ callee }) => !!callee && frontier.has(lastComponent(callee)))) next.add(fn.name);
      }
    }
    for (const name of next) names.add(name);
    frontier = next;
  }
  return withImportAliases(ws, names, 4);
}

/**
 * Names through which `claimNamesIn` / `functionNamed` (token-index.ts) can reach a function that returns decoded
 * claims: the functions' own names, and the aliases under which workspace modules re-export them
 * (`from .security import verify_token as vt`), which `findFunction` follows up to four hops.
 */
export function claimReturningNames(ws: Workspace): ReadonlySet<string> {
  return ws.memo('jwt-helper-names:claim-returning', () => {
    const names = new Set<string>();
    for (const ref of claimReturningFunctions(ws).values()) names.add(ref.fn.name);
    return { names: withImportAliases(ws, names, 4) };
  }).names;
}

/**
 * True when `file`'s text names one of `names` as a whole word. The file's own text is tested (no workspace read,
 * so nothing to go stale); the pattern is built once per names set, which the memos above keep unchanged.
 */
export function mentionsAnyName(_ws: Workspace, file: WorkspaceFile, names: ReadonlySet<string>): boolean {
  if (names.size === 0) return false;
  let pattern = patterns.get(names);
  if (!pattern) patterns.set(names, (pattern = namesPattern(names)));
  return pattern.test(file.text);
}

const patterns = new WeakMap<ReadonlySet<string>, RegExp>();

/** `names` plus the names they are imported as (`import ... name as alias`), followed `hops` times. */
function withImportAliases(ws: Workspace, names: Set<string>, hops: number): Set<string> {
  let frontier = new Set(names);
  for (let hop = 0; hop < hops && frontier.size > 0; hop++) {
    const next = new Set<string>();
    const aliasing = new RegExp(`(?<!\\w)(${[...frontier].map(escape).join('|')})\\s+as\\s+([^\\s,()\\\\#;]+)`, 'g');
    for (const file of ws.filesMentioning(namesPattern(frontier))) {
      for (const m of file.text.matchAll(aliasing)) {
        if (!names.has(m[2])) next.add(m[2]);
      }
    }
    for (const name of next) names.add(name);
    frontier = next;
  }
  return names;
}

/**
 * A whole-word pattern for `names`. The boundaries are ASCII-word ones, so a name preceded by a non-ASCII
 * identifier character still matches: a superset, which is what a prescan may be.
 */
function namesPattern(names: ReadonlySet<string>): RegExp {
  return new RegExp(`(?<!\\w)(?:${[...names].sort().map(escape).join('|')})(?!\\w)`);
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function lastComponent(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf('.') + 1);
}
