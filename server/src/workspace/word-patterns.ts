/**
 * The text test of the name closures (model bases in owned-models.ts, auth callables in auth-candidates.ts): does a
 * text name any of these identifiers as a whole word? Names that are not plain `\w` words are left out.
 */
export function wordsPattern(names: Iterable<string>): RegExp | undefined {
  const list = [...new Set(names)].filter((n) => /^\w+$/.test(n)).sort();
  return list.length ? new RegExp(`\\b(?:${list.join('|')})\\b`) : undefined;
}
