/**
 * The rules' text prescans may only skip work, never change results: every fixture workspace and the example app
 * give identical findings with and without them.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { FIXTURES, REPO_ROOT, loadWorkspace } from '../support';
import { RULES } from '../../server/src/rules/index';

function workspaceDirs(): string[] {
  const dirs: string[] = [];
  for (const group of ['rules', 'projects']) {
    const dir = path.join(FIXTURES, group);
    if (fs.existsSync(dir)) for (const d of fs.readdirSync(dir)) dirs.push(path.join(dir, d));
  }
  const example = path.join(REPO_ROOT, 'examples', 'todo-api');
  if (fs.existsSync(example)) dirs.push(example);
  return dirs.filter((d) => fs.statSync(d).isDirectory());
}

before(async () => {
  await initParser();
});

describe('rule prescans', () => {
  it('at least one rule declares a prescan (the test can fail)', () => {
    assert.ok(RULES.some((r) => r.prescan));
  });

  for (const dir of workspaceDirs()) {
    it(`change nothing in ${path.relative(REPO_ROOT, dir)}`, () => {
      const run = (noPrescan: boolean) => {
        const ws = loadWorkspace(dir);
        try {
          return JSON.stringify(analyzeWorkspace(ws, { noPrescan, reportUnusedSuppressions: true }).findings);
        } finally {
          ws.dispose();
        }
      };
      assert.equal(run(false), run(true));
    });
  }
});
