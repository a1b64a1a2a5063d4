/**
 * The summary panel's pure grouping (client/src/views/grouping.ts): findings by severity -> file -> finding and by
 * rule, counts in labels, stable order, the checklist with its evidence, and the API snapshot form.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { checklistNodes, countBySeverity, groupFindings, snapshot, type ChecklistEntry, type FindingItem } from '../../client/src/views/grouping';

function finding(file: string, code: string, severity: FindingItem['severity'], line: number, message = `${code} message`): FindingItem {
  return {
    file: `/ws/${file}`,
    displayPath: file,
    code,
    severity,
    message,
    range: { start: { line, character: 4 }, end: { line, character: 10 } },
    fixable: false,
  };
}

const FINDINGS: FindingItem[] = [
  finding('app/routes.py', 'ISO203', 'critical', 40),
  finding('app/auth.py', 'JWT101', 'critical', 12),
  finding('app/routes.py', 'ISO203', 'critical', 7),
  finding('app/main.py', 'SEC305', 'suggestion', 4),
  finding('app/auth.py', 'JWT103', 'warning', 12),
];

describe('findings grouped by severity', () => {
  const tree = snapshot(groupFindings(FINDINGS, 'severity'));

  it('has one group per severity present, most severe first, with counts', () => {
    assert.deepEqual(tree.map((n) => n.label), ['Critical (3)', 'Warning (1)', 'Suggestion (1)']);
    assert.deepEqual(tree.map((n) => n.icon), ['error', 'warning', 'info']);
  });

  it('groups files by path and findings by position inside a severity', () => {
    const critical = tree[0];
    assert.deepEqual(critical.children.map((f) => [f.label, f.description]), [
      ['app/auth.py', '1 finding'],
      ['app/routes.py', '2 findings'],
    ]);
    assert.deepEqual(critical.children[1].children.map((f) => f.description), ['line 8', 'line 41']);
    assert.equal(critical.children[1].children[0].label, 'ISO203: ISO203 message');
  });

  it('leaves out empty severities', () => {
    const onlyWarnings = groupFindings([finding('a.py', 'JWT103', 'warning', 0)], 'severity');
    assert.deepEqual(snapshot(onlyWarnings).map((n) => n.label), ['Warning (1)']);
    assert.deepEqual(groupFindings([], 'severity'), []);
  });
});

describe('findings grouped by rule', () => {
  const tree = snapshot(groupFindings(FINDINGS, 'rule'));

  it('has one group per code, sorted, with counts and file:line descriptions', () => {
    assert.deepEqual(tree.map((n) => n.label), ['ISO203 (2)', 'JWT101 (1)', 'JWT103 (1)', 'SEC305 (1)']);
    assert.deepEqual(tree[0].children.map((c) => c.description), ['app/routes.py:8', 'app/routes.py:41']);
  });

  it("shows a rule group with its most severe finding's icon", () => {
    const mixed = snapshot(groupFindings([finding('a.py', 'SEC305', 'suggestion', 1), finding('b.py', 'SEC305', 'warning', 1)], 'rule'));
    assert.equal(mixed[0].icon, 'warning');
  });
});

describe('node ids', () => {
  it('are unique across the tree, so the view can keep expansion state', () => {
    const ids: string[] = [];
    const walk = (nodes: ReturnType<typeof groupFindings>) => nodes.forEach((n) => (ids.push(n.id), walk(n.children)));
    walk(groupFindings(FINDINGS, 'severity'));
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('checklist', () => {
  const entries: ChecklistEntry[] = [
    { id: 2, title: 'Signature verified with the secret from the environment', status: 'fails', evidence: [
      { file: '/ws/app/auth.py', displayPath: 'app/auth.py', range: { start: { line: 12, character: 0 }, end: { line: 12, character: 5 } }, message: 'verify_signature off' },
    ] },
    { id: 1, title: 'JWT read only from the `Authorization: Bearer` header', status: 'holds', evidence: [] },
    { id: 11, title: 'Parameterized SQL only', status: 'not-applicable', evidence: [] },
  ];
  const tree = snapshot(checklistNodes(entries));

  it('lists items in order with status icons, plain-text titles', () => {
    assert.deepEqual(tree.map((n) => [n.label, n.icon, n.description]), [
      ['1. JWT read only from the Authorization: Bearer header', 'pass', 'holds'],
      ['2. Signature verified with the secret from the environment', 'error', 'fails · 1 place'],
      ['11. Parameterized SQL only', 'circle-slash', 'not applicable'],
    ]);
  });

  it('expands to evidence with file:line', () => {
    assert.deepEqual(tree[1].children, [{ label: 'verify_signature off', description: 'app/auth.py:13', icon: 'error', children: [] }]);
  });
});

describe('counts', () => {
  it('counts by severity', () => {
    assert.deepEqual(countBySeverity(FINDINGS), { critical: 3, warning: 1, suggestion: 1 });
  });
});
