/**
 * authCandidateFiles: every file that can define an auth dependency is a candidate (through helpers, aliases and
 * instances in other files), files that cannot are not parsed, and the evidence built on it equals the evidence
 * computed over every file.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { authCandidateFiles } from '../../server/src/workspace/auth-candidates';
import { isAuthDependency } from '../../server/src/workspace/auth';
import { workspaceOf } from '../support';

before(async () => {
  await initParser();
});

const FILES = {
  'app/security.py': [
    'import os',
    'import jwt',
    'from fastapi import HTTPException',
    '',
    'def decode_token(token: str) -> dict:',
    '    try:',
    '        return jwt.decode(token, os.environ["SECRET"], algorithms=["HS256"])',
    '    except jwt.PyJWTError:',
    '        raise HTTPException(status_code=401)',
    '',
  ].join('\n'),
  // Calls the decoder by name: no JWT word in this file.
  'app/deps.py': [
    'from fastapi import Depends, Header',
    'from typing import Annotated',
    'from app.security import decode_token',
    '',
    'def current_user(authorization: str = Header()) -> dict:',
    '    return decode_token(authorization.removeprefix("Bearer "))',
    '',
    'CurrentUser = Annotated[dict, Depends(current_user)]',
    '',
  ].join('\n'),
  // Depends on the alias only.
  'app/roles.py': [
    'from fastapi import HTTPException',
    'from app.deps import CurrentUser',
    '',
    'def require_admin(user: CurrentUser) -> dict:',
    '    if not user.get("admin"):',
    '        raise HTTPException(status_code=403)',
    '    return user',
    '',
  ].join('\n'),
  'app/util.py': 'def slugify(text: str) -> str:\n    return text.lower().replace(" ", "-")\n',
};

describe('authCandidateFiles', () => {
  it('follows helpers, aliases and dependencies across files, and leaves unrelated files unparsed', () => {
    const ws = workspaceOf(FILES);
    try {
      const names = authCandidateFiles(ws).map((f) => path.relative(ws.root, f.path).split(path.sep).join('/'));
      assert.deepEqual(names, ['app/deps.py', 'app/roles.py', 'app/security.py']);
      assert.equal(ws.modelsBuilt, 3, 'app/util.py was parsed');
      assert.ok(isAuthDependency(ws, 'app.roles.require_admin'), 'the fixture must make require_admin an auth dependency');
    } finally {
      ws.dispose();
    }
  });

  it('holds every file defining an auth dependency (checked against all files)', () => {
    const ws = workspaceOf(FILES);
    try {
      const candidates = new Set(authCandidateFiles(ws).map((f) => f.path));
      for (const f of ws.allFiles()) {
        const model = ws.model(f.path)!;
        for (const fn of model.functions) {
          if (isAuthDependency(ws, `${model.moduleName}.${fn.qualname}`)) assert.ok(candidates.has(f.path), `${fn.qualname} in ${f.path}`);
        }
      }
    } finally {
      ws.dispose();
    }
  });

  it('is empty, parsing nothing, for code that verifies no credential', () => {
    const ws = workspaceOf({ 'lib/a.py': 'def f():\n    return 1\n', 'lib/b.py': 'from lib.a import f\nprint(f())\n' });
    try {
      assert.deepEqual(authCandidateFiles(ws), []);
      assert.equal(ws.modelsBuilt, 0);
    } finally {
      ws.dispose();
    }
  });
});
