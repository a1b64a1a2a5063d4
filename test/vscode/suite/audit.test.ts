/**
 * Audit Workspace: the command's work, read through the extension's test API, fills the Findings and Checklist
 * views and writes the report; diagnostics appear for files that were never opened.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as vscode from 'vscode';
import type { TreeSnapshot } from '../../../client/src/api';
import { extensionApi, fileUri, flattenLabels, ourDiagnostics, waitFor } from './helpers';

function find(nodes: TreeSnapshot[], predicate: (n: TreeSnapshot) => boolean): TreeSnapshot | undefined {
  for (const node of nodes) {
    if (predicate(node)) return node;
    const inner = find(node.children, predicate);
    if (inner) return inner;
  }
  return undefined;
}

function text(node: TreeSnapshot): string {
  return flattenLabels([node]).join('\n');
}

suite('audit workspace', () => {
  let report = '';
  let findings: TreeSnapshot[] = [];
  let checklist: TreeSnapshot[] = [];

  suiteSetup(async () => {
    const api = await extensionApi();
    const { reportPath } = await api.auditWorkspace();
    assert.ok(fs.existsSync(reportPath), `the report was not written at ${reportPath}`);
    report = fs.readFileSync(reportPath, 'utf8');
    findings = api.findingsTree();
    checklist = api.checklistTree();
  });

  test('the report lists the findings under the catalog sections', () => {
    assert.match(report, /Critical Security Issues/);
    assert.match(report, /Best Practice Suggestions/);
    for (const code of ['SEC301', 'JWT101', 'SEC305']) assert.ok(report.includes(code), `${code} missing from the report`);
    for (const file of ['app/main.py', 'app/auth.py', 'app/dev.py']) assert.ok(report.includes(file), `${file} missing from the report`);
  });

  test('the Findings view shows every finding, by file, with counts', () => {
    const all = flattenLabels(findings).join('\n');
    assert.ok(findings.length > 0, 'the Findings view is empty');
    for (const code of ['SEC301', 'JWT101', 'SEC305']) assert.ok(all.includes(code), `${code} missing from the Findings view:\n${all}`);
    for (const file of ['main.py', 'auth.py', 'dev.py']) assert.ok(all.includes(file), `${file} missing from the Findings view:\n${all}`);
    assert.ok(!all.includes('models.py'), `models.py has no finding but is listed:\n${all}`);
    // Group nodes say how many findings they hold.
    assert.ok(findings.some((n) => /\d/.test(`${n.label} ${n.description ?? ''}`)), `no count on the top-level groups:\n${all}`);
  });

  test('the Checklist view has the twelve items: failing ones point at their findings, holding ones at evidence', () => {
    const all = flattenLabels(checklist).join('\n');
    assert.strictEqual(checklist.length, 12, `expected 12 checklist items:\n${all}`);
    // Item 2 fails: the decode in auth.py turns signature verification off (JWT101).
    const signature = find(checklist, (n) => /Signature verified/i.test(n.label));
    assert.ok(signature, `no "Signature verified" item:\n${all}`);
    assert.match(signature.description ?? '', /fails/, `item 2 fails (JWT101):\n${text(signature)}`);
    assert.match(text(signature), /auth\.py/);
    // Item 10 holds: the secret is read with os.environ["BETTER_AUTH_SECRET"] (auth.py line 7).
    const secrets = find(checklist, (n) => /Secrets only in environment variables/i.test(n.label));
    assert.ok(secrets, `no "Secrets only in environment variables" item:\n${all}`);
    assert.match(secrets.description ?? '', /holds/, `item 10 holds:\n${text(secrets)}`);
    assert.notStrictEqual(secrets.icon, signature.icon, 'holding and failing items look different');
    assert.ok(secrets.children.length > 0, 'a holding item expands to its evidence');
    assert.match(text(secrets), /auth\.py/);
  });

  test('files never opened get their diagnostics too', async () => {
    // routes.py is not opened by any test before this one.
    const routes = fileUri('app/routes.py');
    assert.ok(!vscode.workspace.textDocuments.some((d) => d.uri.toString() === routes.toString()));
    const dev = fileUri('app/dev.py');
    await waitFor('SEC305 on dev.py after the audit', () => (ourDiagnostics(dev, 'SEC305').length >= 3 ? true : undefined));
  });

  test('the Problems count the API reports matches the diagnostics VS Code holds', async () => {
    const api = await extensionApi();
    const held = vscode.languages.getDiagnostics().reduce((n, [, list]) => n + list.filter((d) => d.source === 'jwt-api-security').length, 0);
    assert.ok(held > 0);
    assert.strictEqual(api.diagnosticsCount(), held);
  });
});
