/**
 * Unit tests for workspace/client-input.ts: parameter sources by FastAPI's rules, body model fields across files,
 * and the expressions of a handler that read a client field.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import {
  clientParams,
  clientValuesIn,
  isPrivilegeName,
  isUserIdName,
  modelFields,
  normalizeFieldName,
  pathParameters,
} from '../../server/src/workspace/client-input';
import { REPO_ROOT, workspaceOf } from '../support';
import type { Workspace } from '../../server/src/workspace/workspace';

const ROOT = path.join(REPO_ROOT, '.virtual-workspace');
const file = (name: string) => path.join(ROOT, name);

function handler(ws: Workspace, name: string, fnName: string) {
  const fn = ws.model(file(name))!.functions.find((f) => f.name === fnName);
  assert.ok(fn, `no function ${fnName}`);
  return fn;
}

const SCHEMAS = `
from typing import Optional
from sqlmodel import SQLModel, Field

class TaskBase(SQLModel):
    title: str
    user_id: str

class TaskCreate(TaskBase):
    description: Optional[str] = None

class Task(TaskBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)

class Priority(str):
    pass
`;

const DEPS = `
from typing import Annotated
from fastapi import Depends, Header
from sqlmodel import Session

def get_session():
    yield None

def get_current_user():
    return {"sub": "u1"}

SessionDep = Annotated[Session, Depends(get_session)]
CurrentUser = Annotated[dict, Depends(get_current_user)]
UserIdHeader = Annotated[str, Header(alias="X-User-Id")]
`;

const ROUTES = `
import uuid
from typing import Annotated, Optional
from fastapi import APIRouter, Body, Depends, Header, Query, Request
from sqlmodel import Session, select
from app.schemas import TaskCreate, Task
from app.deps import SessionDep, CurrentUser, UserIdHeader, get_current_user

router = APIRouter()

@router.get("/api/{user_id}/tasks")
def list_tasks(user_id: str, session: SessionDep, user: CurrentUser, limit: int = 10, owner: Optional[str] = None):
    return session.exec(select(Task).where(Task.user_id == user_id)).all()

@router.post("/tasks")
async def create(body: TaskCreate, request: Request, uid: Annotated[str, Query(alias="userId")], x_user: UserIdHeader,
                 current=Depends(get_current_user), payload: dict = Body(...)):
    data = body.model_dump()
    raw = await request.json()
    owner = str(body.user_id)
    a = data["user_id"]
    b = raw.get("user_id")
    c = request.headers.get("X-User-Id")
    d = payload["role"]
    e = request.query_params["uid"]
    return owner
`;

before(async () => {
  await initParser();
});

describe('client-input names', () => {
  it('normalizes spellings', () => {
    assert.equal(normalizeFieldName('userId'), 'user_id');
    assert.equal(normalizeFieldName('X-User-Id'), 'user_id');
    assert.equal(normalizeFieldName('x_user_id'), 'user_id');
  });

  it('recognizes user identifiers and owner columns, not lookalikes', () => {
    for (const n of ['user_id', 'userId', 'uid', 'owner', 'owner_id', 'X-User-Id']) assert.ok(isUserIdName(n), n);
    assert.ok(isUserIdName('tenant_id', ['tenant_id']));
    assert.ok(!isUserIdName('tenant_id', []));
    for (const n of ['task_id', 'user', 'username', 'id', 'user_ids_count']) assert.ok(!isUserIdName(n), n);
  });

  it('recognizes privilege fields', () => {
    for (const n of ['is_admin', 'isSuperuser', 'role', 'roles', 'scopes', 'permissions']) assert.ok(isPrivilegeName(n), n);
    for (const n of ['roleplay', 'title', 'is_active']) assert.ok(!isPrivilegeName(n), n);
  });

  it('reads path placeholders with converters', () => {
    assert.deepEqual([...pathParameters('/api/{user_id}/tasks/{task_id:int}')], ['user_id', 'task_id']);
    assert.deepEqual([...pathParameters(undefined)], []);
  });
});

describe('clientParams', () => {
  it('classifies parameters the way FastAPI does, across files', () => {
    const ws = workspaceOf({ 'app/schemas.py': SCHEMAS, 'app/deps.py': DEPS, 'app/routes.py': ROUTES });
    try {
      const list = clientParams(ws, file('app/routes.py'), handler(ws, 'app/routes.py', 'list_tasks'), '/api/{user_id}/tasks');
      assert.deepEqual(list.map((p) => `${p.name}:${p.source}`), ['user_id:path', 'limit:query', 'owner:query']);

      const create = clientParams(ws, file('app/routes.py'), handler(ws, 'app/routes.py', 'create'), '/tasks');
      assert.deepEqual(create.map((p) => `${p.name}:${p.source}:${p.wireName}`), [
        'body:body:body',
        'uid:query:userId',
        'x_user:header:X-User-Id',
        'payload:body:payload',
      ]);
      assert.equal(create[0].model?.cls.name, 'TaskCreate');
      assert.equal(create[3].freeform, true);
    } finally {
      ws.dispose();
    }
  });

  it('lists inherited model fields', () => {
    const ws = workspaceOf({ 'app/schemas.py': SCHEMAS, 'app/deps.py': DEPS, 'app/routes.py': ROUTES });
    try {
      const body = clientParams(ws, file('app/routes.py'), handler(ws, 'app/routes.py', 'create'), '/tasks')[0];
      assert.deepEqual([...modelFields(ws, body.model!).keys()].sort(), ['description', 'title', 'user_id']);
    } finally {
      ws.dispose();
    }
  });

  it('never throws on odd code', () => {
    const ws = workspaceOf({ 'bad.py': 'def f(a: , *, b=Depends(:\n    return (\n@router.get(\n' });
    try {
      for (const fn of ws.model(file('bad.py'))!.functions) {
        clientParams(ws, file('bad.py'), fn, '/x/{a}');
        clientValuesIn(ws, file('bad.py'), fn, '/x/{a}', () => true);
      }
    } finally {
      ws.dispose();
    }
  });
});

describe('clientValuesIn', () => {
  it('finds every read of a client user id, through copies and conversions', () => {
    const ws = workspaceOf({ 'app/schemas.py': SCHEMAS, 'app/deps.py': DEPS, 'app/routes.py': ROUTES });
    try {
      const fn = handler(ws, 'app/routes.py', 'create');
      const values = clientValuesIn(ws, file('app/routes.py'), fn, '/tasks', (f) => isUserIdName(f));
      const texts = values.map((v) => `${v.node.text}@${v.source}`);
      assert.deepEqual(texts, [
        'body.user_id@body',
        'data["user_id"]@body',
        'raw.get("user_id")@body',
        'request.headers.get("X-User-Id")@header',
        'request.query_params["uid"]@query',
        'owner@body',
      ]);
    } finally {
      ws.dispose();
    }
  });

  it('finds privilege keys of a dict body and ignores other fields', () => {
    const ws = workspaceOf({ 'app/schemas.py': SCHEMAS, 'app/deps.py': DEPS, 'app/routes.py': ROUTES });
    try {
      const fn = handler(ws, 'app/routes.py', 'create');
      const values = clientValuesIn(ws, file('app/routes.py'), fn, '/tasks', isPrivilegeName);
      assert.deepEqual(values.map((v) => v.node.text), ['payload["role"]']);
      assert.match(values[0].origin, /payload/);
    } finally {
      ws.dispose();
    }
  });

  it('reports scalar parameters by their uses, not their declaration', () => {
    const ws = workspaceOf({ 'app/schemas.py': SCHEMAS, 'app/deps.py': DEPS, 'app/routes.py': ROUTES });
    try {
      const fn = handler(ws, 'app/routes.py', 'list_tasks');
      const values = clientValuesIn(ws, file('app/routes.py'), fn, '/api/{user_id}/tasks', (f) => isUserIdName(f));
      assert.deepEqual(values.map((v) => `${v.node.text}:${v.node.startPosition.row}`), ['user_id:12']);
      assert.equal(values[0].origin, 'path parameter `user_id`');
    } finally {
      ws.dispose();
    }
  });
});

describe('list bodies', () => {
  it('treats the items of a list[Model] body as client data of the item model', () => {
    const ws = workspaceOf({
      'app/schemas.py': SCHEMAS,
      'app/bulk.py': `
from fastapi import APIRouter
from app.schemas import TaskCreate

router = APIRouter()

@router.post("/bulk")
def bulk(items: list[TaskCreate], tag: str):
    for item in items:
        print(item.user_id)
`,
    });
    try {
      const fn = handler(ws, 'app/bulk.py', 'bulk');
      const params = clientParams(ws, file('app/bulk.py'), fn, '/bulk');
      assert.deepEqual(params.map((p) => `${p.name}:${p.source}:${p.listOf?.cls.name ?? '-'}`), ['items:body:TaskCreate', 'tag:query:-']);
      const values = clientValuesIn(ws, file('app/bulk.py'), fn, '/bulk', (f) => isUserIdName(f));
      assert.deepEqual(values.map((v) => v.node.text), ['item.user_id']);
      assert.match(values[0].origin, /an item of body parameter `items`/);
    } finally {
      ws.dispose();
    }
  });
});
