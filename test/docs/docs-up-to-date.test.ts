/**
 * docs/rules/ is generated from the rules' own metadata and docs; this fails when a rule changed and the pages
 * were not regenerated (`npm run docs`), and checks that `generate-docs check` itself notices stale pages.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { REPO_ROOT } from '../support';
import { compareDocs, expectedDocs, writeDocs } from '../../server/src/tools/generate-docs';
import { ALL_RULES } from '../../server/src/rules/index';
import { docSection, renderRuleDoc } from '../../server/src/core/rule-docs';

const GENERATOR = path.resolve(__dirname, '..', '..', 'server', 'src', 'tools', 'generate-docs.js');
const temps: string[] = [];
after(() => temps.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('docs/rules', () => {
  it('is up to date with the rules (run `npm run docs` when this fails)', () => {
    const diff = compareDocs(path.join(REPO_ROOT, 'docs', 'rules'));
    assert.deepEqual(diff, { missing: [], stale: [], extra: [] });
  });

  it('has one page per rule, holding its docs and metadata, and an index linking them all', () => {
    const pages = expectedDocs();
    assert.equal(pages.size, ALL_RULES.length + 1);
    for (const rule of ALL_RULES) {
      const page = pages.get(`${rule.code}-${rule.name}.md`);
      assert.ok(page, rule.code);
      assert.ok(page.startsWith(`# ${rule.code}: ${rule.name}\n`));
      assert.ok(page.includes(rule.docs.trim()));
      assert.ok(page.includes(`| Severity | ${rule.severity}`));
      assert.ok(pages.get('README.md')!.includes(`[${rule.code}](${rule.code}-${rule.name}.md)`));
    }
    assert.equal(renderRuleDoc(ALL_RULES[0]), pages.get(`${ALL_RULES[0].code}-${ALL_RULES[0].name}.md`));
  });

  it('docSection extracts one section of a rule\'s docs', () => {
    const docs = '## What it does\nFinds x.\n\n## Why is this bad?\nBecause.\n';
    assert.equal(docSection(docs, 'What it does'), 'Finds x.');
    assert.equal(docSection(docs, 'Why is this bad?'), 'Because.');
    assert.equal(docSection(docs, 'Example'), '');
  });

  it('`generate-docs check` fails on a stale, a missing or a stray page, and `write` repairs them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-api-security-docs-'));
    temps.push(dir);
    writeDocs(dir);
    const check = () => spawnSync(process.execPath, [GENERATOR, 'check', dir], { encoding: 'utf8' });
    assert.equal(check().status, 0, check().stderr);
    const first = `${ALL_RULES[0].code}-${ALL_RULES[0].name}.md`;
    fs.appendFileSync(path.join(dir, first), 'hand edit\n');
    fs.unlinkSync(path.join(dir, 'README.md'));
    fs.writeFileSync(path.join(dir, 'JWT000-gone.md'), '# old\n');
    const r = check();
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`out of date: ${first}`));
    assert.match(r.stderr, /missing: README\.md/);
    assert.match(r.stderr, /not generated from any rule: JWT000-gone\.md/);
    const w = spawnSync(process.execPath, [GENERATOR, 'write', dir], { encoding: 'utf8' });
    assert.equal(w.status, 0, w.stderr);
    assert.equal(check().status, 0);
  });
});
