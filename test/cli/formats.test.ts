/**
 * The machine formats as the real CLI writes them: JSON positions and fields, SARIF validated against the SARIF
 * 2.1.0 JSON schema (vendored in test/schemas) with ajv, rule metadata, levels, UTF-16 regions, fixes,
 * notifications; and the Markdown report.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import { DEBUG_APP, makeProject, removeProject, runCli } from './helpers';
import { REPO_ROOT } from '../support';
import { ALL_RULES } from '../../server/src/rules/index';

const SCHEMA = path.join(REPO_ROOT, 'test', 'schemas', 'sarif-2.1.0-rtm.5.json');

function sarifValidator() {
  // The schema has a pattern that is invalid under the `u` flag (`...[a-zA-Z]{2}]?$`), so no unicode regexps.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(JSON.parse(fs.readFileSync(SCHEMA, 'utf8')));
}

// An astral emoji before the finding on the same line guards the column conversion: `debug=True` starts at
// UTF-16 offset 27 (column 28); counting code points would give 27 and counting UTF-8 bytes 29.
const UNICODE_APP = 'from fastapi import FastAPI\n\nname = "😀"; app = FastAPI(debug=True)\n';

let dir: string;
before(() => {
  dir = makeProject({
    'app.py': DEBUG_APP,
    'uni.py': UNICODE_APP,
    'blob.py': Buffer.from([0x00, 0x01, 0x02]),
    'tests/test_skip.py': DEBUG_APP,
  });
});
after(() => removeProject(dir));

describe('json output', () => {
  it('carries findings with 1-based locations and 0-based ranges, notices, checklist, counts and version', () => {
    const r = runCli(['--format', 'json'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.equal(doc.version, pkg.version);
    assert.equal(doc.tool, 'jwt-api-security');
    assert.deepEqual(doc.counts, { critical: 0, warning: 0, suggestion: 2 });
    const f = doc.findings.find((x: { file: string }) => x.file === 'app.py');
    assert.equal(f.code, 'SEC305');
    assert.equal(f.severity, 'suggestion');
    assert.deepEqual(f.location, { line: 3, column: 15 });
    assert.deepEqual(f.endLocation, { line: 3, column: 25 });
    assert.deepEqual(f.range, { start: { line: 2, character: 14 }, end: { line: 2, character: 24 } });
    assert.equal(f.absolutePath, path.join(dir, 'app.py'));
    assert.equal(f.fix.safety, 'safe');
    assert.deepEqual(f.fix.edits[0].location, { line: 3, column: 21 });
    assert.equal(f.fix.edits[0].content, 'False');
    const uni = doc.findings.find((x: { file: string }) => x.file === 'uni.py');
    assert.deepEqual(uni.location, { line: 3, column: 28 });
    assert.ok(doc.notices.some((n: { file: string; message: string }) => n.file === 'blob.py' && /binary/.test(n.message)));
    assert.equal(doc.checklist.length, 12);
    assert.ok(doc.checklist.every((c: { status: string }) => ['holds', 'fails', 'not-applicable'].includes(c.status)));
    assert.deepEqual(doc.statistics, [{ code: 'SEC305', name: 'debug-enabled', count: 2, fixable: 2 }]);
  });

  it('with --statistics holds only the counts', () => {
    const doc = JSON.parse(runCli(['--format', 'json', '--statistics'], { cwd: dir }).stdout);
    assert.equal(doc.findings, undefined);
    assert.equal(doc.statistics[0].count, 2);
  });
});

describe('sarif output', () => {
  let log: any;
  before(() => {
    const r = runCli(['--format', 'sarif', '--output', 'results.sarif'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    log = JSON.parse(fs.readFileSync(path.join(dir, 'results.sarif'), 'utf8'));
  });

  it('validates against the SARIF 2.1.0 schema', () => {
    const validate = sarifValidator();
    assert.ok(validate(log), JSON.stringify(validate.errors, null, 2));
  });

  it('the schema check can fail: a log with a bad level is rejected', () => {
    const validate = sarifValidator();
    const broken = JSON.parse(JSON.stringify(log));
    broken.runs[0].results[0].level = 'critical';
    assert.equal(validate(broken), false);
  });

  it('describes every rule in tool.driver', () => {
    const driver = log.runs[0].tool.driver;
    assert.equal(driver.name, 'jwt-api-security');
    assert.deepEqual(driver.rules.map((r: { id: string }) => r.id), ALL_RULES.map((r) => r.code));
    const sec305 = driver.rules.find((r: { id: string }) => r.id === 'SEC305');
    assert.equal(sec305.name, 'debug-enabled');
    assert.match(sec305.shortDescription.text, /^Finds debug mode switched on in code/);
    assert.ok(sec305.fullDescription.text.length > sec305.shortDescription.text.length);
    assert.match(sec305.help.markdown, /## Fix safety/);
    assert.match(sec305.help.text, /Fix safety: Safe/);
    assert.match(sec305.helpUri, /docs\/rules\/SEC305-debug-enabled\.md$/);
    assert.equal(sec305.properties['security-severity'], '3.0');
    assert.ok(sec305.properties.tags.includes('security'));
    const jwt101 = driver.rules.find((r: { id: string }) => r.id === 'JWT101');
    assert.equal(jwt101.defaultConfiguration.level, 'error');
    assert.equal(jwt101.properties['security-severity'], '9.0');
    assert.ok(jwt101.properties.tags.includes('external/cwe/cwe-347'));
  });

  it('reports results with levels, 1-based UTF-16 regions, fixes and fingerprints', () => {
    const run = log.runs[0];
    assert.equal(run.columnKind, 'utf16CodeUnits');
    assert.ok(run.originalUriBaseIds['%SRCROOT%'].uri.startsWith('file://'));
    const byFile = (uri: string) => run.results.find((r: any) => r.locations[0].physicalLocation.artifactLocation.uri === uri);
    const app = byFile('app.py');
    assert.equal(app.ruleId, 'SEC305');
    assert.equal(app.level, 'note');
    assert.equal(run.tool.driver.rules[app.ruleIndex].id, 'SEC305');
    assert.equal(app.locations[0].physicalLocation.artifactLocation.uriBaseId, '%SRCROOT%');
    assert.deepEqual(
      { ...app.locations[0].physicalLocation.region, snippet: undefined },
      { startLine: 3, startColumn: 15, endLine: 3, endColumn: 25, snippet: undefined },
    );
    const replacement = app.fixes[0].artifactChanges[0].replacements[0];
    assert.deepEqual(replacement.deletedRegion, { startLine: 3, startColumn: 21, endLine: 3, endColumn: 25 });
    assert.equal(replacement.insertedContent.text, 'False');
    assert.equal(typeof app.partialFingerprints['jwtApiSecurity/v1'], 'string');
    const uni = byFile('uni.py');
    assert.equal(uni.locations[0].physicalLocation.region.startColumn, 28);
    assert.equal(run.results.length, 2, 'tests/ is not reported by default');
  });

  it('lists the run\'s notices as tool execution notifications', () => {
    const notes = log.runs[0].invocations[0].toolExecutionNotifications;
    const blob = notes.find((n: any) => n.locations?.[0].physicalLocation.artifactLocation.uri === 'blob.py');
    assert.ok(blob, JSON.stringify(notes));
    assert.equal(blob.level, 'warning');
    assert.match(blob.message.text, /binary/);
    assert.equal(log.runs[0].invocations[0].executionSuccessful, true);
  });

  it('a clean run is valid SARIF with no results', () => {
    const clean = makeProject({ 'app.py': 'x = 1\n' });
    try {
      const r = runCli(['--format', 'sarif'], { cwd: clean });
      assert.equal(r.code, 0);
      const doc = JSON.parse(r.stdout);
      assert.deepEqual(doc.runs[0].results, []);
      assert.ok(sarifValidator()(doc));
    } finally {
      removeProject(clean);
    }
  });
});

describe('the example app', () => {
  it('`--format sarif` on examples/todo-api validates against the schema and reports its deliberate flaws', () => {
    const example = path.join(REPO_ROOT, 'examples', 'todo-api');
    const r = runCli([example, '--format', 'sarif'], { cwd: REPO_ROOT });
    assert.equal(r.code, 1, r.stderr);
    const doc: { runs: { results: any[] }[] } = JSON.parse(r.stdout);
    const validate = sarifValidator();
    const valid = validate(structuredClone(doc));
    assert.ok(valid, JSON.stringify(validate.errors, null, 2));
    assert.ok(doc.runs[0].results.length > 0);
    assert.ok(doc.runs[0].results.every((x: any) => x.locations[0].physicalLocation.artifactLocation.uri.startsWith('examples/todo-api/')));
  });
});

describe('report output', () => {
  it('renders the Markdown audit report', () => {
    const r = runCli(['--format', 'report'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^# /);
    assert.match(r.stdout, /SEC305/);
  });
});
