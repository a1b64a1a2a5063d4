/**
 * Unit tests for handler data flow: query filters (chained, reassigned, `and_`, `filter_by`, parent keys), loads by
 * id followed into helpers and back, ownership checks in helpers, admin regions, writes, a WebSocket handler that
 * verifies its own token, and loads keyed by the identity itself.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { routes } from '../../server/src/workspace/app-graph';
import { routeAuth } from '../../server/src/workspace/auth';
import { handlerFlow } from '../../server/src/workspace/handler-flow';
import { identityExpressions } from '../../server/src/workspace/identity';
import { workspaceOf } from '../support';

before(async () => {
  await initParser();
});

const MODELS = `
from typing import Optional
from sqlmodel import Field, SQLModel

class Post(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: str

class Comment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    post_id: int = Field(foreign_key="post.id")
    user_id: str
    category_id: int = 0

class Profile(SQLModel, table=True):
    id: str = Field(primary_key=True)
    user_id: str
`;

const HELPERS = `
from fastapi import HTTPException
from sqlmodel import select
from blog.models import Post

def load_post(session, post_id):
    return session.get(Post, post_id)

def owned_post(session, post_id, uid):
    post = session.get(Post, post_id)
    if post is None or post.user_id != uid:
        raise HTTPException(status_code=404)
    return post

def posts_of(session, uid):
    stmt = select(Post)
    stmt = stmt.where(Post.user_id == uid)
    return session.exec(stmt).all()
`;

const ROUTES = `
import os
import jwt
from fastapi import APIRouter, Depends, WebSocket
from sqlalchemy import and_
from sqlmodel import select
from blog.auth import uid_dep
from blog.helpers import load_post, owned_post, posts_of
from blog.models import Comment, Post, Profile

router = APIRouter()

@router.get("/a")
def a(session, uid: str = Depends(uid_dep)):
    return posts_of(session, uid)

@router.get("/b/{post_id}")
def b(post_id: int, session, uid: str = Depends(uid_dep)):
    post = load_post(session, post_id)
    return post

@router.get("/c/{post_id}")
def c(post_id: int, session, uid: str = Depends(uid_dep)):
    return owned_post(session, post_id, uid)

@router.get("/d/{post_id}/comments")
def d(post_id: int, session, uid: str = Depends(uid_dep)):
    return session.exec(select(Comment).where(Comment.post_id == post_id)).all()

@router.get("/e")
def e(session, uid: str = Depends(uid_dep), category: int = 0):
    return session.exec(select(Comment).where(and_(Comment.category_id == category))).all()

@router.get("/f")
def f(session, uid: str = Depends(uid_dep)):
    return session.query(Comment).filter_by(user_id=uid).all()

@router.get("/me")
def me(session, uid: str = Depends(uid_dep)):
    return session.get(Profile, uid)

@router.websocket("/ws")
async def ws(websocket: WebSocket, token: str, session):
    payload = jwt.decode(token, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])
    await websocket.send_json([c.id for c in session.exec(select(Comment).where(Comment.user_id == payload["sub"])).all()])
`;

const AUTH = `
import os
import jwt
from fastapi import Depends, HTTPException
from fastapi.security import HTTPBearer

def uid_dep(creds=Depends(HTTPBearer())) -> str:
    try:
        return jwt.decode(creds.credentials, os.environ["BETTER_AUTH_SECRET"], algorithms=["HS256"])["sub"]
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401)
`;

function ws() {
  return workspaceOf({ 'blog/__init__.py': '', 'blog/models.py': MODELS, 'blog/helpers.py': HELPERS, 'blog/routes.py': ROUTES, 'blog/auth.py': AUTH });
}

const flowOf = (w: ReturnType<typeof ws>, path: string) => handlerFlow(w, routes(w).find((r) => r.path === path)!);

describe('handler flow', () => {
  it('binds the owner through a reassigned statement in a helper that receives the identity', () => {
    const w = ws();
    try {
      const q = flowOf(w, '/a').queries;
      assert.equal(q.length, 1);
      assert.equal(q[0].ownerBound, true);
      assert.equal(q[0].where.fn.name, 'posts_of');
    } finally {
      w.dispose();
    }
  });

  it('follows a load returned by a helper to the handler, and finds a check inside the helper', () => {
    const w = ws();
    try {
      const [load] = flowOf(w, '/b/{post_id}').loads;
      assert.equal(load.check, undefined);
      assert.equal(load.holders.length, 2);
      assert.deepEqual(load.uses.map((u) => u.kind), ['return', 'return']);
      const [checked] = flowOf(w, '/c/{post_id}').loads;
      assert.ok(checked.check, 'owned_post compares the owner and raises');
    } finally {
      w.dispose();
    }
  });

  it('tells a parent-key filter from an arbitrary one', () => {
    const w = ws();
    try {
      assert.ok(flowOf(w, '/d/{post_id}/comments').queries[0].parentFilter, 'Comment.post_id keys the owned Post');
      assert.equal(flowOf(w, '/e').queries[0].parentFilter, undefined);
      assert.equal(flowOf(w, '/f').queries[0].ownerBound, true, 'filter_by(user_id=uid)');
    } finally {
      w.dispose();
    }
  });

  it('recognises a load keyed by the identity', () => {
    const w = ws();
    try {
      const [load] = flowOf(w, '/me').loads;
      assert.ok(load.idValue && load.where.identity.isIdentityExpression(load.idValue));
    } finally {
      w.dispose();
    }
  });

  it('authenticates a WebSocket handler that verifies its own token, with the payload as identity', () => {
    const w = ws();
    try {
      const route = routes(w).find((r) => r.path === '/ws')!;
      assert.equal(routeAuth(w, route).via, 'handler');
      assert.equal(identityExpressions(w, route).names.get('payload'), 'payload');
      assert.equal(handlerFlow(w, route).queries[0].ownerBound, true);
    } finally {
      w.dispose();
    }
  });
});
