/**
 * Unit tests for auth inference beyond the basics: helpers across files that swallow or propagate a decode
 * failure, class-based dependencies (`__call__`), dependency factories, PyJWKClient, opaque session tokens,
 * fastapi-users, configured dependencies, HTTP middlewares with exemptions, and identity through a checking helper.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { routes } from '../../server/src/workspace/app-graph';
import { dependencyVerdict, isAuthDependency, routeAuth } from '../../server/src/workspace/auth';
import { identityExpressions } from '../../server/src/workspace/identity';
import { workspaceOf } from '../support';

before(async () => {
  await initParser();
});

const TOKENS = `
import os
import jwt

SECRET = os.environ["BETTER_AUTH_SECRET"]

def decode_or_none(token):
    try:
        return jwt.decode(token, SECRET, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None

def decode_strict(token):
    return jwt.decode(token, SECRET, algorithms=["HS256"])
`;

const DEPS = `
from datetime import datetime, timezone
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPBearer
from jwt import PyJWKClient
import jwt
from app.tokens import decode_or_none, decode_strict

bearer = HTTPBearer()
jwks = PyJWKClient("https://auth.example.com/api/auth/jwks")

def checked_helper_user(creds=Depends(bearer)):
    payload = decode_or_none(creds.credentials)
    if payload is None:
        raise HTTPException(status_code=401, detail="bad token")
    return payload["sub"]

def unchecked_helper_user(creds=Depends(bearer)):
    payload = decode_or_none(creds.credentials)
    return payload and payload.get("sub")

def strict_helper_user(creds=Depends(bearer)):
    return decode_strict(creds.credentials)["sub"]

def jwks_user(creds=Depends(bearer)):
    key = jwks.get_signing_key_from_jwt(creds.credentials)
    try:
        claims = jwt.decode(creds.credentials, key.key, algorithms=["EdDSA"])
    except jwt.PyJWTError:
        raise HTTPException(status_code=401, detail="bad token")
    return claims["sub"]

def session_user(request: Request, creds=Depends(bearer)):
    row = db.execute(select(SessionRow).where(SessionRow.token == creds.credentials)).scalar_one_or_none()
    if row is None or row.expires_at < datetime.now(timezone.utc):
        raise HTTPException(status_code=401, detail="expired")
    return row.user_id

def session_user_no_raise(creds=Depends(bearer)):
    row = db.execute(select(SessionRow).where(SessionRow.token == creds.credentials)).scalar_one_or_none()
    if row is None or row.expires_at < datetime.now(timezone.utc):
        return None
    return row.user_id

class JWTBearer(HTTPBearer):
    async def __call__(self, request: Request):
        creds = await super().__call__(request)
        try:
            return jwt.decode(creds.credentials, "x", algorithms=["HS256"])
        except jwt.InvalidTokenError:
            raise HTTPException(status_code=401, detail="bad token")

require_jwt = JWTBearer()

def require_role(role: str):
    def checker(user_id: str = Depends(jwks_user)):
        return user_id
    return checker

def trusted(request: Request):
    return request.headers["x-user"]
`;

const MAIN = `
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
import jwt
from app.deps import require_jwt, require_role, trusted, checked_helper_user

app = FastAPI()
other = FastAPI()

@app.middleware("http")
async def auth(request: Request, call_next):
    if request.url.path in ("/health", "/login") or request.url.path.startswith("/static"):
        return await call_next(request)
    try:
        claims = jwt.decode(request.headers.get("authorization", "")[7:], "k", algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return JSONResponse({"detail": "no"}, status_code=401)
    request.state.user = claims
    return await call_next(request)

@app.get("/health")
def health():
    return {}

@app.get("/static/logo")
def logo():
    return {}

@app.get("/items")
def items(request: Request):
    return request.state.user

@other.get("/class", dependencies=[Depends(require_jwt)])
def with_class():
    return {}

@other.get("/factory")
def with_factory(user_id=Depends(require_role("admin"))):
    return user_id

@other.get("/trusted")
def with_trusted(user=Depends(trusted)):
    return user

@other.get("/users/{user_id}/things")
def things(user_id: str, me: str = Depends(checked_helper_user)):
    ensure_same(user_id, me)
    return user_id

def ensure_same(a, b):
    if a != b:
        raise ValueError("forbidden")
`;

function ws(settings = {}) {
  return workspaceOf({ 'app/__init__.py': '', 'app/tokens.py': TOKENS, 'app/deps.py': DEPS, 'app/main.py': MAIN }, settings);
}

describe('auth dependencies', () => {
  it('follows helpers across files: a swallowing helper needs a raising caller', () => {
    const w = ws();
    try {
      assert.equal(isAuthDependency(w, 'app.deps.checked_helper_user'), true);
      assert.equal(dependencyVerdict(w, 'app.deps.unchecked_helper_user'), 'open');
      assert.equal(isAuthDependency(w, 'app.deps.strict_helper_user'), true, 'an exception that propagates fails closed');
    } finally {
      w.dispose();
    }
  });

  it('accepts PyJWKClient verification and opaque session tokens with expiry, when they raise', () => {
    const w = ws();
    try {
      assert.equal(isAuthDependency(w, 'app.deps.jwks_user'), true);
      assert.equal(isAuthDependency(w, 'app.deps.session_user'), true);
      assert.equal(isAuthDependency(w, 'app.deps.session_user_no_raise'), false);
      assert.equal(isAuthDependency(w, 'app.deps.trusted'), false);
    } finally {
      w.dispose();
    }
  });

  it('understands callable instances, dependency factories and configured dependencies', () => {
    const w = ws({ authDependencies: ['app.deps:trusted'] });
    try {
      assert.equal(isAuthDependency(w, 'app.deps.require_jwt'), true);
      assert.equal(isAuthDependency(w, 'app.deps.require_role()'), true);
      assert.equal(isAuthDependency(w, 'app.deps.trusted'), true);
    } finally {
      w.dispose();
    }
  });
});

describe('route authentication', () => {
  it('applies a verifying middleware to its own app except the exempt paths', () => {
    const w = ws();
    try {
      const by = (path: string) => routeAuth(w, routes(w).find((r) => r.path === path)!);
      assert.equal(by('/items').via, 'middleware');
      assert.equal(by('/health').authenticated, false);
      assert.equal(by('/static/logo').authenticated, false);
      assert.equal(by('/trusted').authenticated, false, 'the middleware belongs to the other app');
      assert.equal(by('/class').via, 'decorator');
      assert.equal(by('/factory').via, 'param');
      const items = identityExpressions(w, routes(w).find((r) => r.path === '/items')!);
      assert.equal(items.names.get('request.state.user'), 'object');
    } finally {
      w.dispose();
    }
  });

  it('treats a client value checked by a raising helper as the identity', () => {
    const w = ws();
    try {
      const info = identityExpressions(w, routes(w).find((r) => r.path === '/users/{user_id}/things')!);
      assert.ok(info.verified.has('user_id'));
      assert.equal(info.idExpression, 'me');
    } finally {
      w.dispose();
    }
  });

  it('never throws on unparsable code', () => {
    const w = workspaceOf({ 'app/main.py': 'from fastapi import FastAPI\napp = FastAPI(\n@app.get("/x"\ndef x(:\n  return select(Task' });
    try {
      assert.doesNotThrow(() => routes(w).map((r) => routeAuth(w, r)));
    } finally {
      w.dispose();
    }
  });
});
