/**
 * Prescans of JWT104, JWT105, JWT107, JWT108, JWT110 and JWT113. Each case puts a finding in a file whose own text lacks what a text-only
 * gate would key on: the hard-coded key is written in a config module that never says `jwt`, the secret-like name
 * or the sample value is split over implicitly joined string literals, the claims helper is called under an import
 * alias from a route whose router another file creates or whose route another file registers, the type confusion
 * is reported at the caller of a claims helper, the env fallback feeds a key used elsewhere, the settings class
 * derives from `BaseSettings` through another file, the swallowed failure is a decoding helper's and the FastAPI
 * module is the caller's, the lenient scheme is built in another file, the 401 comes from another file's helper,
 * the verification is a helper's. A prescan too narrow for the case rejects the file and the test
 * fails; each case also has a variant without the cross-file fact, where the rule cannot report and the prescan
 * must reject the file.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { virtualPath, workspaceOf } from '../support';
import { assertNoFilePasses, assertTextCase, describeCrossFileCases, findingsOf, ROUTER, type CrossFileCase } from './prescan-cases';

before(async () => {
  await initParser();
});


/** Verifies a token and returns its claims: a claim-returning helper. */
const CLAIMS_HELPER = `import os

import jwt


def read_claims(raw: str) -> dict:
    return jwt.decode(raw, os.environ["JWT_SECRET"], algorithms=["HS256"])
`;

/** The same function, not decoding anything. */
const NOT_A_HELPER = 'def read_claims(raw: str) -> dict:\n    return {"sub": raw}\n';

const ISSUER = (refresh: boolean) => `import jwt

from app.config import SECRET


def create_access_token(sub: str) -> str:
    return jwt.encode({"sub": sub, "type": "access"}, SECRET, algorithm="HS256")
${
  refresh
    ? `

def create_refresh_token(sub: str) -> str:
    return jwt.encode({"sub": sub, "type": "refresh"}, SECRET, algorithm="HS256")
`
    : ''
}`;

const CASES: CrossFileCase[] = [
  {
    code: 'JWT104',
    why: 'a key literal in a config module that another module decodes with',
    files: {
      'app/__init__.py': '',
      'app/config.py': 'SIGNER = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"\n',
      'app/auth.py': `import jwt

from app.config import SIGNER


def verify(raw: str) -> dict:
    return jwt.decode(raw, SIGNER, algorithms=["HS256"])
`,
    },
    file: 'app/config.py',
    absent: /jwt|jose|secret|key/i,
    without: { 'app/config.py': 'import os\n\nSIGNER = os.environ["SIGNER"]\n' },
  },
  {
    code: 'JWT110',
    why: 'a route calls a claims helper under the alias another module re-exports it as',
    files: {
      'app/__init__.py': '',
      'app/web.py': ROUTER,
      'app/security.py': CLAIMS_HELPER,
      'app/deps.py': 'from app.security import read_claims as check\n',
      'app/routes.py': `from fastapi import Header

from app.deps import check
from app.web import router


@router.get("/me")
def me(authorization: str = Header(...)):
    claims = check(authorization)
    return {"sub": claims["sub"]}
`,
    },
    file: 'app/routes.py',
    absent: /jwt|jose|read_claims/i,
    without: { 'app/security.py': NOT_A_HELPER },
  },
  {
    code: 'JWT110',
    why: 'an undecorated handler calling a claims helper, registered as a route by another module',
    files: {
      'app/__init__.py': '',
      'app/security.py': CLAIMS_HELPER,
      'app/handlers.py': `from fastapi import Header

from app.security import read_claims


def me(authorization: str = Header(...)):
    claims = read_claims(authorization)
    return {"sub": claims["sub"]}
`,
      'app/main.py': `from fastapi import FastAPI

from app import handlers

app = FastAPI()
app.add_api_route("/me", handlers.me, methods=["GET"])
`,
    },
    file: 'app/handlers.py',
    absent: /jwt|jose|^[ \t]*@/im,
    without: { 'app/main.py': 'from fastapi import FastAPI\n\nfrom app import handlers\n\napp = FastAPI()\n' },
  },
  {
    code: 'JWT113',
    why: 'the caller of a claims helper, imported under an alias, accepts refresh tokens as access tokens',
    files: {
      'app/__init__.py': '',
      'app/config.py': 'import os\n\nSECRET = os.environ["JWT_SECRET"]\n',
      'app/tokens.py': ISSUER(true),
      'app/security.py': `import jwt

from app.config import SECRET


def read_claims(raw: str) -> dict:
    return jwt.decode(raw, SECRET, algorithms=["HS256"])
`,
      'app/users.py': `from app.security import read_claims as claims_of


def current_user(raw: str) -> str:
    claims = claims_of(raw)
    return claims["sub"]
`,
    },
    file: 'app/users.py',
    absent: /jwt|jose|refresh/i,
    without: { 'app/tokens.py': ISSUER(false) },
  },
  {
    code: 'JWT105',
    why: 'an env fallback under a name that is not secret-like, used as the JWT key by another module',
    files: {
      'app/__init__.py': '',
      'app/config.py': 'import os\n\nSIGNER = os.getenv("APP_SIGNER", "dev")\n',
      'app/auth.py': `import jwt

from app.config import SIGNER


def verify(raw: str) -> dict:
    return jwt.decode(raw, SIGNER, algorithms=["HS256"])
`,
    },
    file: 'app/config.py',
    absent: /jwt|jose|secret|key/i,
    without: { 'app/auth.py': 'import os\n\nimport jwt\n\n\ndef verify(raw: str) -> dict:\n    return jwt.decode(raw, os.environ["JWT_SECRET"], algorithms=["HS256"])\n' },
  },
  {
    code: 'JWT105',
    why: 'a settings class whose base derives from BaseSettings in another module',
    files: {
      'app/__init__.py': '',
      'app/base.py': 'from pydantic_settings import BaseSettings\n\n\nclass AppBase(BaseSettings):\n    debug: bool = False\n',
      'app/settings.py': 'import app.base\n\n\nclass Settings(app.base.AppBase):\n    jwt_secret: str = "changeme"\n',
    },
    file: 'app/settings.py',
    absent: /BaseSettings|environ|getenv|config/i,
    without: { 'app/base.py': 'from pydantic import BaseModel\n\n\nclass AppBase(BaseModel):\n    debug: bool = False\n' },
  },
  {
    code: 'JWT107',
    why: 'a decoding helper of another module swallowed in a module that only a FastAPI route calls',
    files: {
      'app/__init__.py': '',
      'app/security.py': CLAIMS_HELPER,
      'app/users.py': `from app.security import read_claims


def current_user(raw: str):
    try:
        claims = read_claims(raw)
    except Exception:
        return None
    return claims["sub"]
`,
      'app/routes.py': `from fastapi import APIRouter, Header

from app.users import current_user

router = APIRouter()


@router.get("/me")
def me(authorization: str = Header(...)):
    return {"user": current_user(authorization)}
`,
    },
    file: 'app/users.py',
    absent: /jwt|jose|fastapi|starlette/i,
    without: { 'app/security.py': NOT_A_HELPER },
  },
  {
    code: 'JWT107',
    why: 'credentials from an auto_error=False scheme built in another module',
    files: {
      'app/__init__.py': '',
      'app/security.py': 'from fastapi.security import HTTPBearer\n\nbearer = HTTPBearer(auto_error=False)\n',
      'app/deps.py': `from fastapi import Depends

from app.security import bearer


def current_token(credentials=Depends(bearer)) -> str:
    return credentials.credentials
`,
    },
    file: 'app/deps.py',
    absent: /auto_error|try/,
    without: { 'app/security.py': 'from fastapi.security import HTTPBearer\n\nbearer = HTTPBearer()\n' },
  },
  {
    code: 'JWT108',
    why: 'an ownership check raising the 401 that a helper of another module builds',
    files: {
      'app/__init__.py': '',
      'app/errors.py': 'from fastapi import HTTPException\n\n\ndef unauthorized(detail: str):\n    return HTTPException(status_code=401, detail=detail)\n',
      'app/items.py': `from app.errors import unauthorized


def ensure_owner(item, user):
    if item.owner_id != user.id:
        raise unauthorized("not yours")
    return item
`,
    },
    file: 'app/items.py',
    absent: /HTTPException|Response|fastapi|starlette|jwt|jose/,
    without: { 'app/errors.py': 'def unauthorized(detail: str):\n    return PermissionError(detail)\n' },
  },
  {
    code: 'JWT108',
    why: 'a route answering a failed verification by another module\'s helper with a 200',
    files: {
      'app/__init__.py': '',
      'app/security.py': CLAIMS_HELPER,
      'app/routes.py': `from fastapi import APIRouter, Header

from app.security import read_claims

router = APIRouter()


@router.get("/me")
def me(authorization: str = Header(...)):
    try:
        claims = read_claims(authorization)
    except Exception:
        return {"error": "invalid token"}
    return {"sub": claims["sub"]}
`,
    },
    file: 'app/routes.py',
    absent: /jwt|jose|HTTPException|Response/,
    without: { 'app/security.py': NOT_A_HELPER },
  },
];

describeCrossFileCases(CASES);

describe('JWT104 sample secrets: names and values written as joined string literals', () => {
  const CASES: { why: string; text: string; absent: RegExp; ok: string }[] = [
    {
      why: 'a dict key spelled "sec" "ret"',
      text: 'SETTINGS = {\n    "sec" "ret": "changeme",\n}\n',
      absent: /secret|key/i,
      ok: 'SETTINGS = {\n    "sec" "tion": "changeme",\n}\n',
    },
    {
      why: 'a bare `key` assigned "change" "me" (a `key` counts only with a sample that is not an ordinary word)',
      text: 'MODE = "test"\nkey = "change" "me"\n',
      absent: /secret|changeme/i,
      ok: 'MODE = "test"\nkey = "test"\n',
    },
  ];
  for (const c of CASES) {
    it(c.why, () => {
      assert.doesNotMatch(c.text, c.absent, 'the case keeps its point');
      assertTextCase('JWT104', c.text, c.ok);
    });
  }
});

describe('prescans of JWT104, JWT110 and JWT113 on code that has nothing to do with JWTs', () => {
  // Shapes the standard library is full of: `key` variables and "test"/"default" strings, decorators, try/except.
  const LIBRARY = {
    'cache.py': `import functools


@functools.lru_cache(maxsize=None)
def lookup(key: str, default: str = "default") -> str:
    table = {"key": "test", "mode": "development"}
    try:
        return table[key]
    except KeyError:
        return default
`,
    'config.py': `import os

TIMEOUT = int(os.environ.get("TIMEOUT", "30"))
key = "test"
`,
  };

  it('no file passes and nothing is parsed to find out', () => assertNoFilePasses(LIBRARY, ['JWT104', 'JWT110', 'JWT113']));
});

describe('JWT105: a bare `key` counts only where it can be the secret-like name', () => {
  const CASES: { why: string; text: string; ok: string }[] = [
    { why: 'assigned an env read', text: 'import os\n\nkey = os.getenv("APP_SIGNING", "dev")\n', ok: 'import os\n\nkey = 1\nhome = os.getenv("HOME", "/")\n' },
    { why: 'assigned an env read with an annotation', text: 'import os\n\nkey: str = os.environ.get("APP_SIGNING", "dev")\n', ok: 'import os\n\nkey: str = "fixed"\nhome = os.environ.get("HOME", "/")\n' },
    {
      why: 'assigned an env read with an annotation over several lines',
      text: 'import os\nfrom typing import Optional\n\nkey: Optional[\n    str\n] = os.environ.get("APP_SIGNING", "dev")\n',
      ok: 'import os\nfrom typing import Optional\n\nkey: Optional[\n    str\n] = "fixed"\n',
    },
    {
      why: 'assigned an env read with a string annotation over several lines',
      text: 'import os\n\nkey: """\nstr\n""" = os.getenv("APP_SIGNING", "dev")\n',
      ok: 'import os\n\nkey: """\nstr\n""" = "fixed"\n',
    },
    { why: 'as the variable, spelled "K" "EY"', text: 'import os\n\nos.environ.setdefault("K" "EY", "dev")\n', ok: 'import os\n\nos.environ.setdefault("KEYS", "dev")\n' },
  ];
  for (const c of CASES) {
    it(c.why, () => {
      assertTextCase('JWT105', c.text, c.ok);
    });
  }
});

describe('prescans of JWT105, JWT107 and JWT108 on code that has nothing to do with JWTs or FastAPI', () => {
  // Shapes the standard library is full of: `key`, environment reads, a class named `Config`, try/except,
  // permission attributes, a `Response` class and status 401 of other HTTP code.
  const LIBRARY = {
    'env.py': `import os


class Config:
    key: str = "default"

    def __init__(self) -> None:
        self.home = os.environ.get("HOME", "/")
        self.items = sorted(os.environ, key=len)
`,
    'server.py': `class Response:
    def __init__(self, status: int = 401) -> None:
        self.status = status


def fetch(conn, user, path: str):
    if not user.can_read:
        raise PermissionError(path)
    try:
        return conn.request("GET", path)
    except OSError:
        return Response(401)
`,
  };

  it('no file passes and nothing is parsed to find out', () => assertNoFilePasses(LIBRARY, ['JWT105', 'JWT107', 'JWT108']));
});

describe("JWT108's decoding functions, found from the files that name them, follow re-exported aliases", () => {
  // `get_user` calls the decoder only as `vt`, an alias another module re-exports: its file never names
  // `verify_token`, yet `calledFunction` resolves the call, so `get_user` verifies and the route's 403 is reported.
  const files = (deps: string) => ({
    'app/__init__.py': '',
    'app/security.py': 'import os\n\nimport jwt\n\n\ndef verify_token(raw: str) -> dict:\n    return jwt.decode(raw, os.environ["K"], algorithms=["HS256"])\n',
    'app/reexport.py': 'from app.security import verify_token as vt\n',
    'app/deps.py': `${deps}\n\n\ndef get_user(raw: str) -> dict:\n    return vt(raw)\n`,
    'app/routes.py': `from fastapi import APIRouter, Header, HTTPException

from app.deps import get_user

router = APIRouter()


@router.get("/me")
def me(authorization: str = Header(...)):
    try:
        user = get_user(authorization)
    except Exception:
        raise HTTPException(status_code=403, detail="bad token", headers={"WWW-Authenticate": "Bearer"})
    return user
`,
  });
  for (const deps of ['from app.security import verify_token as vt', 'from app.reexport import vt']) {
    it(deps, () => {
      const ws = workspaceOf(files(deps));
      try {
        const found = findingsOf(ws, 'JWT108', true);
        assert.ok(found.some((f) => f.file === virtualPath('app/routes.py') && /403 instead of 401/.test(f.message)), 'the 403 is reported');
        assert.deepEqual(findingsOf(ws, 'JWT108', false), found);
      } finally {
        ws.dispose();
      }
    });
  }
});
