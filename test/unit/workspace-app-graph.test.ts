/**
 * Unit tests for the cross-file FastAPI model: routes with router and include prefixes, dependencies that reach a
 * route from every level, auth inference positives and negatives, identity parameters, and owned models.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { routes } from '../../server/src/workspace/app-graph';
import { isAuthDependency, preferredAuthDependency, routeAuth } from '../../server/src/workspace/auth';
import { identityExpressions } from '../../server/src/workspace/identity';
import { workspaceOf } from '../support';

before(async () => {
  await initParser();
});

const DEPS = `
import os
from typing import Annotated
import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

oauth2 = OAuth2PasswordBearer(tokenUrl="/login")

def get_session():
    yield Session()

def get_current_user(token: str = Depends(oauth2)):
    try:
        payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="bad token")
    return payload["sub"]

def get_optional_user(token: str = Depends(oauth2)):
    try:
        return jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None

def get_active_user(user_id: str = Depends(get_current_user)):
    return user_id

CurrentUser = Annotated[str, Depends(get_current_user)]
SessionDep = Annotated[Session, Depends(get_session)]
`;

const ITEMS = `
from fastapi import APIRouter, Depends
from app.api.deps import CurrentUser, SessionDep, get_optional_user

router = APIRouter(prefix="/items", tags=["items"])

@router.get("/")
def list_items(session: SessionDep, user: CurrentUser):
    return []

@router.get("/public")
def public_items(session: SessionDep, maybe=Depends(get_optional_user)):
    return []
`;

const ADMIN = `
from fastapi import APIRouter, Depends
from app.api import deps

router = APIRouter()

@router.delete("/users/{user_id}")
async def delete_user(user_id: str):
    return None
`;

const MAIN = `
from fastapi import FastAPI, Depends
from app.api.routes import items, admin
from app.api.deps import get_active_user

api_router = __import__("fastapi").APIRouter()
from fastapi import APIRouter
api = APIRouter(prefix="/api/v1")
api.include_router(items.router)
api.include_router(admin.router, prefix="/admin", dependencies=[Depends(get_active_user)])

app = FastAPI()
app.include_router(api)

@app.get("/health")
def health():
    return {"ok": True}
`;

function ws() {
  return workspaceOf({
    'app/__init__.py': '',
    'app/api/__init__.py': '',
    'app/api/deps.py': DEPS,
    'app/api/routes/__init__.py': '',
    'app/api/routes/items.py': ITEMS,
    'app/api/routes/admin.py': ADMIN,
    'app/main.py': MAIN,
  });
}

describe('app graph', () => {
  it('computes full paths through router prefixes and nested include chains across files', () => {
    const w = ws();
    try {
      const table = routes(w).map((r) => `${r.method} ${r.path} ${r.handler.name}`).sort();
      assert.deepEqual(table, [
        'DELETE /api/v1/admin/users/{user_id} delete_user',
        'GET /api/v1/items/ list_items',
        'GET /api/v1/items/public public_items',
        'GET /health health',
      ]);
      const del = routes(w).find((r) => r.handler.name === 'delete_user')!;
      assert.deepEqual(del.dependencies.map((d) => `${d.source}:${d.qualified}`), ['include:app.api.deps.get_active_user']);
    } finally {
      w.dispose();
    }
  });
});

describe('auth inference', () => {
  it('accepts a dependency that decodes and raises, and one that depends on it', () => {
    const w = ws();
    try {
      assert.equal(isAuthDependency(w, 'app.api.deps.get_current_user'), true);
      assert.equal(isAuthDependency(w, 'app.api.deps.get_active_user'), true);
    } finally {
      w.dispose();
    }
  });

  it('rejects a dependency that returns None on a bad token, and non-auth dependencies', () => {
    const w = ws();
    try {
      assert.equal(isAuthDependency(w, 'app.api.deps.get_optional_user'), false);
      assert.equal(isAuthDependency(w, 'app.api.deps.get_session'), false);
      assert.equal(isAuthDependency(w, 'app.api.deps.oauth2'), false);
    } finally {
      w.dispose();
    }
  });

  it('knows how each route is authenticated and which parameters carry the identity', () => {
    const w = ws();
    try {
      const by = (name: string) => routeAuth(w, routes(w).find((r) => r.handler.name === name)!);
      assert.deepEqual({ ...by('list_items'), dependency: undefined }, { authenticated: true, via: 'param', dependency: undefined, identityParams: ['user'] });
      assert.equal(by('public_items').authenticated, false);
      assert.equal(by('health').authenticated, false);
      assert.equal(by('delete_user').via, 'include');
      assert.deepEqual(by('delete_user').identityParams, []);
    } finally {
      w.dispose();
    }
  });

  it('derives identity expressions and the reason when none is in scope', () => {
    const w = ws();
    try {
      const list = identityExpressions(w, routes(w).find((r) => r.handler.name === 'list_items')!);
      assert.equal(list.idExpression, 'user');
      assert.equal(list.names.get('user'), 'id');
      const del = identityExpressions(w, routes(w).find((r) => r.handler.name === 'delete_user')!);
      assert.match(del.noIdentityReason ?? '', /dependencies=\[\.\.\.\]/);
    } finally {
      w.dispose();
    }
  });

  it('prefers the Annotated alias the routes use', () => {
    const w = ws();
    try {
      const p = preferredAuthDependency(w)!;
      assert.equal(p.qualified, 'app.api.deps.get_current_user');
      assert.deepEqual(p.alias, { qualified: 'app.api.deps.CurrentUser', module: 'app.api.deps', name: 'CurrentUser' });
    } finally {
      w.dispose();
    }
  });
});
