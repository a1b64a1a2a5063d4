/**
 * A seeded mutator of Python source for the property tests: line and token edits, truncation, unbalanced
 * brackets and quotes, whitespace and encoding oddities, non-ASCII names, deep nesting and huge lines.
 * Deterministic for a given seed, so a failure can be replayed from the seed the test prints.
 */

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Mutation = (text: string, rand: () => number) => string;

const pick = <T>(items: readonly T[], rand: () => number): T => items[Math.floor(rand() * items.length)];
const int = (n: number, rand: () => number) => Math.floor(rand() * Math.max(1, n));

function splitLines(text: string): string[] {
  return text.split('\n');
}

const TOKENS = /[A-Za-z_][A-Za-z0-9_]*|\d+|"[^"\n]*"|'[^'\n]*'|\S/g;

function tokenSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const m of text.matchAll(TOKENS)) spans.push([m.index!, m.index! + m[0].length]);
  return spans;
}

export const MUTATIONS: Record<string, Mutation> = {
  deleteLine(text, rand) {
    const lines = splitLines(text);
    lines.splice(int(lines.length, rand), 1);
    return lines.join('\n');
  },
  duplicateLine(text, rand) {
    const lines = splitLines(text);
    const i = int(lines.length, rand);
    lines.splice(i, 0, lines[i] ?? '');
    return lines.join('\n');
  },
  swapLines(text, rand) {
    const lines = splitLines(text);
    const i = int(lines.length, rand);
    const j = int(lines.length, rand);
    [lines[i], lines[j]] = [lines[j], lines[i]];
    return lines.join('\n');
  },
  deleteToken(text, rand) {
    const spans = tokenSpans(text);
    if (!spans.length) return text;
    const [s, e] = pick(spans, rand);
    return text.slice(0, s) + text.slice(e);
  },
  duplicateToken(text, rand) {
    const spans = tokenSpans(text);
    if (!spans.length) return text;
    const [s, e] = pick(spans, rand);
    return text.slice(0, e) + ' ' + text.slice(s, e) + text.slice(e);
  },
  swapTokens(text, rand) {
    const spans = tokenSpans(text);
    if (spans.length < 2) return text;
    let [a, b] = [pick(spans, rand), pick(spans, rand)];
    if (a[0] > b[0]) [a, b] = [b, a];
    if (a[1] > b[0]) return text;
    return text.slice(0, a[0]) + text.slice(b[0], b[1]) + text.slice(a[1], b[0]) + text.slice(a[0], a[1]) + text.slice(b[1]);
  },
  truncate(text, rand) {
    return text.slice(0, int(text.length + 1, rand));
  },
  insertUnbalanced(text, rand) {
    const at = int(text.length + 1, rand);
    return text.slice(0, at) + pick(['(', ')', '[', ']', '{', '}', '"', "'", '"""', "'''", 'f"{', '\\', ':', '@'], rand) + text.slice(at);
  },
  tabsForSpaces(text) {
    return text.replace(/^( {4})+/gm, (m) => '\t'.repeat(m.length / 4));
  },
  mixedIndent(text, rand) {
    const lines = splitLines(text);
    const i = int(lines.length, rand);
    lines[i] = lines[i].replace(/^ {4}/, '\t');
    return lines.join('\n');
  },
  crlf(text) {
    return text.replace(/\r?\n/g, '\r\n');
  },
  bom(text) {
    return '\ufeff' + text;
  },
  nonAsciiIdentifiers(text, rand) {
    const names = ['ñame', 'données', 'пользователь', '用户', 'tâche_id', 'ß', 'x😀'];
    return text.replace(/\b(user|task|token|payload|current_user)\b/g, (m) => (rand() < 0.5 ? pick(names, rand) : m));
  },
  nonAsciiText(text, rand) {
    const at = int(text.length + 1, rand);
    return text.slice(0, at) + pick(['# é 漢字 😀\n', '"ünïcödé"', '𝔘𝔫𝔦', '\u2028', '\u00a0'], rand) + text.slice(at);
  },
  deepNesting(text, rand) {
    const depth = 5000;
    const kind = int(3, rand);
    const expr =
      kind === 0 ? '('.repeat(depth) + 'x' + ')'.repeat(depth) : kind === 1 ? '['.repeat(depth) + ']'.repeat(depth) : 'a' + '.b'.repeat(depth);
    return `${text}\nvalue = ${expr}\n`;
  },
  hugeLine(text) {
    return `${text}\nblob = "${'A'.repeat(5 * 1024 * 1024)}"\n`;
  },
  deepBlocks(text) {
    let out = '';
    for (let i = 0; i < 200; i++) out += `${'    '.repeat(i)}if x:\n`;
    return `${text}\n${out}${'    '.repeat(200)}pass\n`;
  },
};

/** Mutations cheap enough to apply many times per case. */
export const SMALL_MUTATIONS = Object.keys(MUTATIONS).filter((k) => !['deepNesting', 'hugeLine', 'deepBlocks'].includes(k));

/** Applies 1-4 small mutations chosen by `rand`; returns the text and the names applied. */
export function mutate(text: string, rand: () => number): { text: string; applied: string[] } {
  const count = 1 + int(4, rand);
  const applied: string[] = [];
  let out = text;
  for (let i = 0; i < count; i++) {
    const name = pick(SMALL_MUTATIONS, rand);
    out = MUTATIONS[name](out, rand);
    applied.push(name);
  }
  return { text: out, applied };
}
