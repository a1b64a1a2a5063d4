/**
 * Prescans of JWT106, JWT109, JWT111, SEC302, SEC303, SEC305, SEC306 and ISO207. Each case puts a finding in a
 * file whose own text lacks what a text-only gate would key on: the token is decoded by a helper two files away,
 * the route's router or the claims come from another module (re-exported under an alias), the JWT evidence or the
 * exception handler's registration lives elsewhere, the endpoint is built from pieces, the SQL sink is
 * `fetch_all` or `fetchrow`. A prescan too narrow for the case rejects the file and the test
 * fails; each case also has a variant without the cross-file fact, where the prescan must reject the file.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { mayReport } from '../../server/src/rules/rule';
import { ruleByCode } from '../../server/src/rules/index';
import type { Workspace } from '../../server/src/workspace/workspace';
import { virtualPath, workspaceOf } from '../support';
import { assertNoFilePasses, assertTextCase, describeCrossFileCases, findingsOf, ROUTER, type CrossFileCase } from './prescan-cases';

before(async () => {
  await initParser();
});


const DECODER = `import os

import jwt


def decode_claims(raw: str) -> dict:
    return jwt.decode(raw, os.environ["SECRET_KEY"], algorithms=["HS256"])
`;

/** The same function name, not decoding anything. */
const NOT_A_DECODER = 'def decode_claims(raw: str) -> dict:\n    return {"sub": raw}\n';

const CASES: CrossFileCase[] = [
  {
    code: 'JWT106',
    why: 'a query parameter reaches a decode through a helper that calls a helper in a third file',
    files: {
      'app/__init__.py': '',
      'app/web.py': ROUTER,
      'app/core.py': DECODER,
      'app/auth.py': 'from app import core\n\n\ndef check(raw: str) -> dict:\n    return core.decode_claims(raw)\n',
      'app/routes.py': `from app.auth import check
from app.web import router


@router.get("/items")
def list_items(t: str):
    claims = check(t)
    return {"owner": claims["sub"]}
`,
    },
    file: 'app/routes.py',
    absent: /jwt|jose|token|bearer|authorization|decode/i,
    without: { 'app/core.py': NOT_A_DECODER },
  },
  {
    code: 'JWT109',
    why: "an exception's text returned from a route on a router that another file creates",
    files: {
      'app/__init__.py': '',
      'app/web.py': ROUTER,
      'app/store.py': 'def load():\n    return []\n',
      'app/pages.py': `from app import store
from app.web import router


@router.get("/pages")
def pages():
    try:
        return store.load()
    except Exception as e:
        return {"error": str(e)}
`,
    },
    file: 'app/pages.py',
    absent: /HTTPException|Response|fastapi|starlette|exception_handler/,
    without: { 'app/web.py': 'class Router:\n    def get(self, path):\n        return lambda f: f\n\n\nrouter = Router()\n' },
  },
  {
    code: 'JWT109',
    why: 'claims returned by a helper in another file sent back in an error',
    files: {
      'app/__init__.py': '',
      'app/security.py': DECODER,
      'app/admin.py': `from fastapi import HTTPException

from app.security import decode_claims


def ensure_admin(raw: str) -> None:
    claims = decode_claims(raw)
    if claims.get("role") != "admin":
        raise HTTPException(status_code=403, detail=claims)
`,
    },
    file: 'app/admin.py',
    absent: /\bexcept\b|jwt|jose|token|bearer|credentials|authorization/i,
    without: { 'app/security.py': NOT_A_DECODER },
  },
  {
    code: 'JWT111',
    why: 'claims from a helper re-exported under an alias by a third file',
    files: {
      'app/__init__.py': '',
      'app/security.py': DECODER,
      'app/deps.py': 'from app.security import decode_claims as load_identity\n',
      'app/users.py': `from app.deps import load_identity


def current_user_id(raw: str) -> str:
    payload = load_identity(raw)
    user_id = payload.get("sub")
    return user_id
`,
    },
    file: 'app/users.py',
    absent: /jwt|jose|decode_claims/i,
    without: { 'app/security.py': NOT_A_DECODER },
  },
  {
    code: 'SEC306',
    why: 'a password passed into the payload by a caller in another file',
    files: {
      'app/__init__.py': '',
      'app/security.py': `import os
from datetime import datetime, timedelta, timezone

import jwt


def create_access_token(data: dict) -> str:
    to_encode = data.copy()
    to_encode["exp"] = datetime.now(timezone.utc) + timedelta(minutes=15)
    return jwt.encode(to_encode, os.environ["SECRET_KEY"], algorithm="HS256")
`,
      'app/login.py': `from app.security import create_access_token


def login(user) -> str:
    return create_access_token(data={"sub": str(user.id), "password": user.password})
`,
    },
    file: 'app/login.py',
    absent: /jwt|jose/i,
    without: { 'app/security.py': 'def create_access_token(data: dict) -> str:\n    return str(data)\n' },
  },
  {
    code: 'SEC302',
    why: 'identity read from the session; the JWTs are verified in another file',
    files: {
      'app/__init__.py': '',
      'app/security.py': DECODER,
      'app/views.py': `from fastapi import Request


def me(request: Request):
    return {"user_id": request.session.get("user_id")}
`,
    },
    file: 'app/views.py',
    absent: /jwt|jose/i,
    without: { 'app/security.py': NOT_A_DECODER },
  },
  {
    code: 'SEC305',
    why: 'a traceback sent by a handler that another file registers with add_exception_handler',
    files: {
      'app/__init__.py': '',
      'app/errors.py': `import traceback

from fastapi.responses import PlainTextResponse


async def on_error(request, exc):
    return PlainTextResponse(traceback.format_exc(), status_code=500)
`,
      'app/main.py': 'from fastapi import FastAPI\n\nfrom app import errors\n\napp = FastAPI()\napp.add_exception_handler(Exception, errors.on_error)\n',
    },
    file: 'app/errors.py',
    absent: /exception_handler|debug/,
    without: { 'app/main.py': 'from fastapi import FastAPI\n\napp = FastAPI()\n' },
  },
];

/** Findings of `code` with and without prescans; the two must be equal. */
describeCrossFileCases(CASES);

describe('prescans that read only the file: cases the previous text gates missed', () => {
  const TEXT_CASES: { code: string; why: string; text: string; old: RegExp; ok: string }[] = [
    {
      code: 'SEC303',
      why: 'the session endpoint built from "/api/", a name holding "auth", and "/session"',
      text: `import os

import httpx

AUTH_URL = os.environ["BETTER_AUTH_URL"]
AUTH = "auth"


async def current_user(cookie: str) -> dict:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{AUTH_URL}/api/{AUTH}/session", headers={"cookie": cookie})
    return response.json()["user"]
`,
      old: /get-session|list-sessions|\/auth|auth\//,
      ok: 'import urllib.request\n\n\ndef session_of(url: str):\n    return urllib.request.urlopen(url + "/api/auth/session").read()\n',
    },
    {
      code: 'ISO207',
      why: "databases' fetch_all with an f-string query",
      text: `from databases import Database

database = Database("sqlite:///./notes.db")


async def notes_of(owner: str):
    return await database.fetch_all(query=f"SELECT * FROM notes WHERE owner = '{owner}'")
`,
      old: /\b(text|execute|executemany|executescript|exec_driver_sql|raw|literal_column)\b/,
      ok: 'import subprocess\n\n\ndef execute(cmd: str):\n    return subprocess.run(f"{cmd} --update", shell=False).check_returncode()\n',
    },
    {
      code: 'ISO207',
      why: "asyncpg's fetchrow with %-formatting",
      text: 'async def owner_row(conn, owner: str):\n    return await conn.fetchrow("SELECT id FROM notes WHERE owner = \'%s\'" % owner)\n',
      old: /\b(text|execute|executemany|executescript|exec_driver_sql|raw|literal_column)\b/,
      ok: 'async def next_page(client, cursor: str):\n    return await client.fetch(f"/pages?after={cursor}")\n',
    },
  ];

  for (const c of TEXT_CASES) {
    it(`${c.code}: ${c.why}`, () => {
      assert.doesNotMatch(c.text, c.old, 'the previous gate would have skipped the file');
      assertTextCase(c.code, c.text, c.ok);
    });
  }
});

describe('prescans on code that has nothing to do with FastAPI or JWTs', () => {
  // Shapes that the standard library is full of: token and session words, `@mock.patch(` decorators, `except`
  // blocks returning exception text, `.split(` on headers, `.execute(` on non-SQL objects, a `debug` flag.
  const LIBRARY = {
    'tokens.py': `import tokenize
from unittest import mock


@mock.patch("tokenize.open")
def test_tokens(opener, token_type: str = "NAME"):
    try:
        tokens = list(tokenize.generate_tokens(opener().readline))
    except Exception as e:
        return str(e)
    return [t.string.split(".") for t in tokens if tokenize.tok_name[t.type] == token_type]
`,
    'sessions.py': `import logging

logger = logging.getLogger(__name__)


class Session:
    debug = True

    def __init__(self, cookies=None):
        self.cookies = cookies or {}

    def get(self, name):
        return self.cookies.get(name)

    def execute(self, command):
        try:
            return command()
        except Exception:
            logger.exception("command failed")
            raise
`,
  };
  const CODES = ['JWT106', 'JWT109', 'JWT111', 'SEC302', 'SEC303', 'SEC305', 'SEC306', 'ISO207'];

  it('no file passes and nothing is parsed to find out', () => assertNoFilePasses(LIBRARY, CODES));
});

describe('prescans follow edits of the files their facts come from', () => {
  // Workspace memos survive edits that do not touch what they read: the name sets behind JWT106 and JWT111 must be
  // recomputed when an edit adds or removes a decoder, a caller or a re-export.
  const JWT106_CASE = CASES.find((c) => c.code === 'JWT106')!;
  const JWT111_CASE = CASES.find((c) => c.code === 'JWT111')!;

  function agrees(ws: Workspace, code: string, file: string, expected: boolean): void {
    const rule = ruleByCode(code)!;
    assert.equal(mayReport(rule, ws.file(virtualPath(file))!, ws), expected, `${code} prescan on ${file}`);
    const full = findingsOf(ws, code, true);
    assert.equal(full.some((f) => f.file === virtualPath(file)), expected, `${code} reports in ${file}`);
    assert.deepEqual(findingsOf(ws, code, false), full);
  }

  it('JWT106: the helper chain is cut and restored in the middle file', () => {
    const ws = workspaceOf(JWT106_CASE.files);
    try {
      agrees(ws, 'JWT106', JWT106_CASE.file, true);
      ws.setFile(virtualPath('app/auth.py'), 'def check(raw: str) -> dict:\n    return {"sub": raw}\n');
      agrees(ws, 'JWT106', JWT106_CASE.file, false);
      ws.setFile(virtualPath('app/auth.py'), JWT106_CASE.files['app/auth.py']);
      agrees(ws, 'JWT106', JWT106_CASE.file, true);
    } finally {
      ws.dispose();
    }
  });

  it('JWT111: the re-export alias appears only after an edit of the re-exporting file', () => {
    const ws = workspaceOf({ ...JWT111_CASE.files, 'app/deps.py': 'from app.security import decode_claims\n\nload_identity = None\n' });
    try {
      agrees(ws, 'JWT111', JWT111_CASE.file, false);
      ws.setFile(virtualPath('app/deps.py'), JWT111_CASE.files['app/deps.py']);
      agrees(ws, 'JWT111', JWT111_CASE.file, true);
    } finally {
      ws.dispose();
    }
  });
});

describe("prescans inside a library's own package", () => {
  // Relative imports resolve to the package's names (`from .expression import text` in `sqlalchemy/sql/` is
  // `sqlalchemy.sql.expression.text`) in a file that need not spell the package's name.
  it('ISO207: SQLAlchemy text() reached through a relative import', () => {
    const files = {
      'sqlalchemy/__init__.py': '',
      'sqlalchemy/sql/__init__.py': '',
      'sqlalchemy/sql/expression.py': 'def text(sql):\n    return sql\n',
      'sqlalchemy/sql/report.py': 'from .expression import text\n\n\ndef rows_of(conn, owner):\n    return conn.run(text(f"SELECT * FROM t WHERE owner = {owner}"))\n',
    };
    assert.doesNotMatch(files['sqlalchemy/sql/report.py'], /sqlalchemy|sqlmodel/);
    const ws = workspaceOf(files);
    try {
      const rule = ruleByCode('ISO207')!;
      const file = ws.file(virtualPath('sqlalchemy/sql/report.py'))!;
      const full = findingsOf(ws, 'ISO207', true);
      assert.ok(full.some((f) => f.file === file.path), 'ISO207 reports in report.py');
      assert.equal(mayReport(rule, file, ws), true);
      assert.deepEqual(findingsOf(ws, 'ISO207', false), full);
    } finally {
      ws.dispose();
    }
  });
});
