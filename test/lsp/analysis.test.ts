/**
 * The server's analysis wrapper (server/src/lsp/analysis.ts): analyzer notices are logged once per rule and
 * file however often the file is re-analysed, and a slow file is reported against the budget once.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Analyzer, type Logger } from '../../server/src/lsp/analysis';
import { initParser } from '../../server/src/python/parser';
import { Workspace } from '../../server/src/workspace/workspace';

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
}

before(() => initParser());

describe('analysis notices', () => {
  it('logs a failing rule once per rule and file', () => {
    const log = recorder();
    const analyzer = new Analyzer(log);
    const failure = (file: string, code: string, detail: string) => ({ level: 'error' as const, file, message: `rule ${code} failed on this file: ${detail}` });
    for (let i = 0; i < 5; i++) analyzer.notices([failure('/ws/a.py', 'JWT101', `TypeError at step ${i}`), failure('/ws/a.py', 'ISO203', 'boom')]);
    analyzer.notices([failure('/ws/b.py', 'JWT101', 'TypeError')]);
    assert.equal(log.lines.length, 3, log.lines.join('\n'));
    assert.ok(log.lines.every((l) => l.startsWith('error ')));
  });

  it('logs other notices once per message', () => {
    const log = recorder();
    const analyzer = new Analyzer(log);
    analyzer.notices([{ level: 'warning', file: '/ws/big.py', message: 'skipped' }, { level: 'warning', file: '/ws/big.py', message: 'skipped' }]);
    assert.deepEqual(log.lines, ['warn /ws/big.py: skipped']);
  });

  it('reports a file over the time budget once, and still returns its findings', () => {
    const log = recorder();
    const analyzer = new Analyzer(log, -1);
    const ws = new Workspace('/ws');
    ws.setFile('/ws/app.py', 'from fastapi import FastAPI\napp = FastAPI(debug=True)\n');
    const first = analyzer.file(ws, '/ws/app.py');
    analyzer.file(ws, '/ws/app.py');
    assert.ok(first.findings.some((f) => f.code === 'SEC305'));
    assert.equal(log.lines.filter((l) => l.includes('budget')).length, 1);
  });

  it('never throws for a file that is not in the workspace', () => {
    const analyzer = new Analyzer(recorder());
    assert.deepEqual(analyzer.file(new Workspace('/ws'), '/ws/missing.py').findings, []);
  });
});
