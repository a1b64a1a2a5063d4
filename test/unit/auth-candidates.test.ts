/**
 * authCandidates: every function that can be an auth dependency is a candidate (through helpers, aliases and
 * instances in other files, configured and library dependencies), and files that cannot hold one are not parsed.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { authCandidates } from '../../server/src/workspace/auth-candidates';
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

/** Library, callable-instance and configured dependencies: verdicts that no decode in the dependent's file shows. */
const INDIRECT = {
  'users/setup.py': [
    'from fastapi_users import FastAPIUsers',
    'fastapi_users = FastAPIUsers(get_user_manager, [backend])',
    'current_active_user = fastapi_users.current_user(active=True)',
    '',
  ].join('\n'),
  'users/deps.py': ['from fastapi import Depends', 'from users.setup import current_active_user', '', 'def get_owner(user=Depends(current_active_user)):', '    return user', ''].join('\n'),
  'lib/bearer.py': [
    'import os',
    'import jwt',
    'from fastapi import HTTPException, Request',
    '',
    'class JWTBearer:',
    '    async def __call__(self, request: Request) -> dict:',
    '        token = request.headers["Authorization"].removeprefix("Bearer ")',
    '        try:',
    '            return jwt.decode(token, os.environ["SECRET"], algorithms=["HS256"])',
    '        except jwt.PyJWTError:',
    '            raise HTTPException(status_code=401)',
    '',
  ].join('\n'),
  'lib/guard.py': 'from lib.bearer import JWTBearer\n\nauth = JWTBearer()\n',
  'lib/deps.py': ['from fastapi import Depends', 'from lib.guard import auth', '', 'def need(claims=Depends(auth)):', '    return claims', ''].join('\n'),
  'cfg/checks.py': 'def opaque_check(value):\n    return value\n',
  'cfg/use.py': ['from fastapi import Depends', 'from cfg.checks import opaque_check', '', 'def uses(v=Depends(opaque_check)):', '    return v', ''].join('\n'),
  'cfg/other.py': 'def unrelated(v):\n    return v\n',
  // A decoder re-exported under another name; the dependent names only the alias.
  'sec/core.py': 'import jwt\n\ndef decode_token(t):\n    return jwt.decode(t, "k", algorithms=["HS256"])\n',
  'sec/api.py': 'from sec.core import decode_token as verify\n',
  'sec/deps.py': ['from fastapi import HTTPException', 'from sec.api import verify', '', 'def checked(t):', '    try:', '        return verify(t)', '    except Exception:', '        raise HTTPException(status_code=401)', ''].join('\n'),
};

describe('authCandidates', () => {
  it('hold library, callable-instance and configured dependencies and their dependents', () => {
    const ws = workspaceOf(INDIRECT, { authDependencies: ['cfg.checks.opaque_check'] });
    try {
      const candidates = new Set(authCandidates(ws).map((c) => `${c.model.moduleName}.${c.fn.qualname}`));
      const auth: string[] = [];
      for (const f of ws.allFiles()) {
        const model = ws.model(f.path)!;
        for (const fn of model.functions) {
          const q = `${model.moduleName}.${fn.qualname}`;
          if (isAuthDependency(ws, q)) auth.push(q);
        }
      }
      // The fixture must exercise each kind (else the test could not fail).
      for (const q of ['users.deps.get_owner', 'lib.deps.need', 'cfg.use.uses', 'cfg.checks.opaque_check', 'sec.deps.checked']) assert.ok(auth.includes(q), `${q} is not an auth dependency`);
      for (const q of auth) assert.ok(candidates.has(q), `${q} is missing from the candidates`);
      assert.ok(!candidates.has('cfg.other.unrelated'));
    } finally {
      ws.dispose();
    }
  });


  it('follows helpers, aliases and dependencies across files, and leaves unrelated files unparsed', () => {
    const ws = workspaceOf(FILES);
    try {
      const names = authCandidates(ws).map((c) => `${path.relative(ws.root, c.file).split(path.sep).join('/')}:${c.fn.name}`);
      assert.deepEqual(names, ['app/deps.py:current_user', 'app/roles.py:require_admin', 'app/security.py:decode_token']);
      assert.equal(ws.modelsBuilt, 3, 'app/util.py was parsed');
      assert.ok(isAuthDependency(ws, 'app.roles.require_admin'), 'the fixture must make require_admin an auth dependency');
    } finally {
      ws.dispose();
    }
  });

  it('holds every file defining an auth dependency (checked against all files)', () => {
    const ws = workspaceOf(FILES);
    try {
      const candidates = new Set(authCandidates(ws).map((c) => `${c.file}#${c.fn.qualname}`));
      for (const f of ws.allFiles()) {
        const model = ws.model(f.path)!;
        for (const fn of model.functions) {
          if (isAuthDependency(ws, `${model.moduleName}.${fn.qualname}`)) assert.ok(candidates.has(`${f.path}#${fn.qualname}`), `${fn.qualname} in ${f.path}`);
        }
      }
    } finally {
      ws.dispose();
    }
  });

  it('is empty, parsing nothing, for code that verifies no credential', () => {
    const ws = workspaceOf({ 'lib/a.py': 'def f():\n    return 1\n', 'lib/b.py': 'from lib.a import f\nprint(f())\n' });
    try {
      assert.deepEqual(authCandidates(ws), []);
      assert.equal(ws.modelsBuilt, 0);
    } finally {
      ws.dispose();
    }
  });
});
