/**
 * Reads guard conditions: which expressions an `if`/`while`/`assert`/conditional tests for presence or type
 * (`not x`, `x is None`, `isinstance(x, str)`, `if x:`), whether the test fails on absence (the `if` body is the
 * failure branch) or passes on presence (the `else` is), and the branch that handles the failure.
 * Pure syntax; knows nothing of tokens, other files or rules.
 */
import type { Node } from 'web-tree-sitter';
import { callArguments, children, descendantsInScope, dottedName } from './syntax';

/** Whitespace-free text of an expression, the key used to compare tested expressions with uses. */
export function exprKey(node: Node): string {
  return node.text.replace(/\s+/g, '');
}

/** Expressions a condition tests for presence or type, by `exprKey`. */
export function testedIn(test: Node, out: Set<string> = new Set()): Set<string> {
  const add = (n: Node | null | undefined) => {
    if (!n) return;
    if (n.type === 'parenthesized_expression') return add(children(n)[0]);
    if (n.type === 'named_expression') {
      add(n.childForFieldName('name'));
      add(n.childForFieldName('value'));
      return;
    }
    out.add(exprKey(n));
  };
  switch (test.type) {
    case 'parenthesized_expression':
      children(test).forEach((c) => testedIn(c, out));
      break;
    case 'not_operator': {
      const arg = test.childForFieldName('argument') ?? children(test)[0];
      if (arg) testedIn(arg, out);
      break;
    }
    case 'boolean_operator': {
      const left = test.childForFieldName('left');
      const right = test.childForFieldName('right');
      if (left) testedIn(left, out);
      if (right) testedIn(right, out);
      break;
    }
    case 'comparison_operator': {
      const operands = children(test);
      const literalSide = operands.some((o) => ['none', 'string', 'tuple', 'list', 'set', 'true', 'false'].includes(o.type));
      if (literalSide || /\s(is|in)\s/.test(` ${test.text} `)) operands.forEach(add);
      break;
    }
    case 'call': {
      const callee = dottedName(test.childForFieldName('function'));
      if (callee === 'isinstance' || callee === 'len' || callee === 'bool') add(callArguments(test).positional[0]);
      else add(test);
      break;
    }
    default:
      add(test);
  }
  return out;
}

/** Expressions tested anywhere in `scope` (not in nested functions). */
export function testedInScope(scope: Node): Set<string> {
  const out = new Set<string>();
  for (const n of descendantsInScope(scope, ['if_statement', 'elif_clause', 'while_statement', 'conditional_expression', 'assert_statement'])) {
    const cond = conditionOf(n);
    if (cond) testedIn(cond, out);
  }
  return out;
}

export function conditionOf(n: Node): Node | undefined {
  if (n.type === 'conditional_expression') return children(n)[1];
  if (n.type === 'assert_statement') return children(n)[0];
  return n.childForFieldName('condition') ?? undefined;
}

/**
 * True when the condition holds on failure: `not x`, `x is None`, `x == None`, `x != "Bearer"`, `"sub" not in p`,
 * `not a or not b`. False for positive tests (`x`, `x is not None`, `isinstance(x, str)`), whose failure branch is
 * the `else`.
 */
export function isNegativeTest(test: Node): boolean {
  switch (test.type) {
    case 'parenthesized_expression': {
      const inner = children(test)[0];
      return !!inner && isNegativeTest(inner);
    }
    case 'not_operator':
      return true;
    case 'boolean_operator': {
      const left = test.childForFieldName('left');
      return !!left && isNegativeTest(left);
    }
    case 'comparison_operator':
      return /\bis\s+None\b|==\s*None\b|!=|\bnot\s+in\b/.test(test.text) && !/\bis\s+not\s+None\b/.test(test.text);
    default:
      return false;
  }
}

/** The block that runs when an `if` statement's test fails in the sense of `isNegativeTest`. */
export function failureBranch(ifStmt: Node): Node | undefined {
  const cond = ifStmt.childForFieldName('condition');
  if (!cond) return undefined;
  if (isNegativeTest(cond)) return ifStmt.childForFieldName('consequence') ?? undefined;
  const alternative = ifStmt.childrenForFieldName('alternative').find((a) => a?.type === 'else_clause');
  return alternative?.childForFieldName('body') ?? (alternative ? children(alternative).find((c) => c.type === 'block') : undefined);
}
