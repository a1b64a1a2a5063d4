/**
 * What the SEC302 and SEC304 fixture folders cannot show, since each folder is one workspace: SEC302 stays silent
 * in a workspace that never uses JWTs; SEC304 with no `.gitignore` at all, with a deeper `.gitignore` that
 * re-includes `.env`, with a suppression on the line above, and the `.env` reader itself.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { isEnvFile, parseDotenv } from '../../server/src/rules/SEC304-env-file-exposed';
import { workspaceOf } from '../support';

function findings(files: Record<string, string>, code: string) {
  const ws = workspaceOf(files);
  try {
    return analyzeWorkspace(ws, { onlyRules: [code] }).findings.filter((f) => f.code === code);
  } finally {
    ws.dispose();
  }
}

const SESSION_APP = [
  'import os',
  'from fastapi import FastAPI, Request',
  'from starlette.middleware.sessions import SessionMiddleware',
  '',
  'app = FastAPI()',
  'app.add_middleware(SessionMiddleware, secret_key=os.environ["SESSION_SECRET"])',
  '',
  '',
  '@app.get("/me")',
  'def me(request: Request):',
  '    return {"user": request.session.get("user_id")}',
  '',
].join('\n');

const JWT_AUTH = 'import os\nimport jwt\n\n\ndef verify(token):\n    return jwt.decode(token, os.environ["S"], algorithms=["HS256"])\n';

before(async () => {
  await initParser();
});

describe('SEC302 session-auth-mixed', () => {
  it('is silent for a session-only app (nothing is mixed)', () => {
    assert.deepEqual(findings({ 'app.py': SESSION_APP }, 'SEC302'), []);
  });

  it('reports the same app once the workspace verifies JWTs, in another file', () => {
    const lines = findings({ 'app.py': SESSION_APP, 'auth.py': JWT_AUTH }, 'SEC302').map((f) => f.range.start.line);
    assert.deepEqual(lines, [5, 10]);
  });

  it('does not report SessionMiddleware kept for an authlib OAuth login, but still reports identity in the session', () => {
    const oauth = 'from authlib.integrations.starlette_client import OAuth\n\noauth = OAuth()\n';
    const lines = findings({ 'app.py': SESSION_APP, 'auth.py': JWT_AUTH, 'oauth.py': oauth }, 'SEC302').map((f) => f.range.start.line);
    assert.deepEqual(lines, [10]);
  });
});

describe('SEC304 env-file-exposed', () => {
  const secret = 'BETTER_AUTH_SECRET=Zx8vQ2mN6pL4kJ7hG1fD3sA9wE5rT0yUi\n';

  it('reports a secret .env with no .gitignore at all', () => {
    const found = findings({ 'app.py': 'x = 1\n', '.env': secret }, 'SEC304');
    assert.equal(found.length, 1);
    assert.match(found[0].message, /^`\.env` holds `BETTER_AUTH_SECRET` and no `\.gitignore` ignores it/);
    assert.equal(found[0].fix?.safety, 'display-only');
  });

  it('follows gitignore layers: a deeper negation re-includes what the root ignores', () => {
    assert.deepEqual(findings({ '.gitignore': '.env\n', '.env': secret, 'svc/.env': secret }, 'SEC304'), []);
    const found = findings({ '.gitignore': '.env\n', 'svc/.gitignore': '!.env\n', 'svc/.env': secret }, 'SEC304');
    assert.equal(found.length, 1);
    assert.match(found[0].file, /svc[\\/]\.env$/);
  });

  it('ignores a directory pattern that covers the file, and a file with no secret-like key', () => {
    assert.deepEqual(findings({ '.gitignore': 'config/\n', 'config/.env': secret }, 'SEC304'), []);
    assert.deepEqual(findings({ '.env': 'APP_NAME=todo\nPORT=8000\nBETTER_AUTH_URL=http://localhost:3000\n' }, 'SEC304'), []);
  });

  it('honours a suppression comment on the line above or at the end of the line', () => {
    assert.deepEqual(findings({ '.gitignore': '.env\n', '.env': '# jwt-api-security: ignore[SEC304]\nJWT_SECRET=changeme\n' }, 'SEC304'), []);
    assert.deepEqual(findings({ '.gitignore': '.env\n', '.env': 'JWT_SECRET=changeme  # jwt-api-security: ignore\n' }, 'SEC304'), []);
    assert.equal(findings({ '.gitignore': '.env\n', '.env': 'JWT_SECRET=changeme  # jwt-api-security: ignore[JWT104]\n' }, 'SEC304').length, 1);
  });

  it('reads .env lines the way python-dotenv does', () => {
    const entries = parseDotenv('# c\nexport A="x # not a comment"\nB=plain # comment\nC=\'q\'\n  D = spaced  \nnot a line\n');
    assert.deepEqual(
      entries.map((e) => [e.key, e.value, e.range.start.line]),
      [
        ['A', 'x # not a comment', 1],
        ['B', 'plain', 2],
        ['C', 'q', 3],
        ['D', 'spaced', 4],
      ],
    );
  });

  it('knows which files are environments and which are committed templates', () => {
    for (const f of ['.env', '/x/.env.local', '/x/.env.production']) assert.ok(isEnvFile(f), f);
    for (const f of ['.env.example', '/x/.env.sample', '/x/.env.test', '/x/.envrc', '/x/env.py']) assert.ok(!isEnvFile(f), f);
  });
});
