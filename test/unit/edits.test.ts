/**
 * ensureImport: the import edit that fixes share. It extends a single-line `from module import ...` in place, adds a
 * new import line otherwise, and must leave valid Python whatever the existing statement looks like.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { ensureImport } from '../../server/src/python/edits';
import { applyEdits } from '../../server/src/core/text';
import { Workspace } from '../../server/src/workspace/workspace';
import { syntaxErrorCount } from '../support';

before(async () => {
  await initParser();
});

const ROOT = path.resolve('/virtual/edits');

/** The text after making `module.name` importable in `text`. */
function withImport(text: string, module: string, name: string): string {
  const file = path.join(ROOT, 'app.py');
  const ws = new Workspace(ROOT);
  try {
    ws.setFile(file, text);
    const { edit } = ensureImport(ws.model(file)!, module, name);
    return edit ? applyEdits(text, [edit]) : text;
  } finally {
    ws.dispose();
  }
}

describe('ensureImport', () => {
  it('extends a single-line import of the module', () => {
    assert.equal(withImport('from datetime import datetime, timedelta\n', 'datetime', 'timezone'), 'from datetime import datetime, timedelta, timezone\n');
  });

  it('completes an import list left with a trailing comma instead of adding a second comma', () => {
    // The grammar accepts `from m import a, b,` (Python does not); `, , timezone` would add a syntax error.
    const fixed = withImport('from datetime import datetime, timedelta, \nx = 1\n', 'datetime', 'timezone');
    assert.equal(fixed, 'from datetime import datetime, timedelta, timezone \nx = 1\n');
    assert.equal(syntaxErrorCount(fixed), 0);
  });

  it('adds a new line when the module is imported in parentheses, and nothing when the name is bound', () => {
    assert.equal(withImport('from datetime import (\n    datetime,\n)\n', 'datetime', 'timezone'), 'from datetime import (\n    datetime,\n)\nfrom datetime import timezone\n');
    assert.equal(withImport('from datetime import timezone\n', 'datetime', 'timezone'), 'from datetime import timezone\n');
  });
});
