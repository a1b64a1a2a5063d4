/**
 * Unit tests for workspace/client-writes.ts (where client data is written into models, in handlers and helpers)
 * and workspace/role-checks.ts (privilege guards in dependencies, handlers and helpers).
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { appendArgumentEdit, clientWritesIn, excludeFieldsEdit } from '../../server/src/workspace/client-writes';
import { clientDataOf, clientMaySet } from '../../server/src/workspace/client-input';
import { isRoleCheckDependency, mentionsPrivilege, preferredRoleCheck, privilegeGuardsIn, routeRoleCheck } from '../../server/src/workspace/role-checks';
import { routes } from '../../server/src/workspace/app-graph';
import { applyEdits } from '../../server/src/core/text';
import { REPO_ROOT, workspaceOf } from '../support';
import type { Workspace } from '../../server/src/workspace/workspace';

const ROOT = path.join(REPO_ROOT, '.virtual-workspace');
const file = (name: string) => path.join(ROOT, name);

const MODELS = `
from typing import Optional
from sqlmodel import Field, SQLModel

class Task(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str
    user_id: str

class TaskIn(SQLModel):
    title: str
    user_id: Optional[str] = None
`;

const CRUD = `
from sqlmodel import Session
from app.models import Task, TaskIn

def create(session: Session, data: TaskIn) -> Task:
    task = Task.model_validate(data)
    session.add(task)
    return task

def rebuild(session: Session, other: TaskIn) -> Task:
    return Task.model_validate(other)
`;

const ROUTES = `
from fastapi import APIRouter, Depends, HTTPException
from sqlmodel import Session, select
from app import crud
from app.models import Task, TaskIn

router = APIRouter()

def get_session():
    yield None

def get_user():
    return None

def require_superuser(user=Depends(get_user)):
    if not user.is_superuser:
        raise HTTPException(status_code=403)
    return user

@router.post("/tasks")
def create(body: TaskIn, session: Session = Depends(get_session), user=Depends(get_user)):
    a = Task(**body.model_dump(exclude={"title"}))
    data = body.dict(exclude_unset=True)
    b = Task(**data, user_id="x")
    crud.create(session, body)
    return a, b

@router.patch("/tasks/{task_id}")
def update(task_id: int, body: TaskIn, session: Session = Depends(get_session), user=Depends(get_user)):
    task = session.get(Task, task_id)
    for key, value in body.model_dump(exclude_unset=True).items():
        if key == "user_id":
            continue
        setattr(task, key, value)
    task.sqlmodel_update(body, update={"user_id": "x"})
    session.query(Task).filter(Task.id == task_id).update(body.dict())
    return task

@router.delete("/admin/tasks/{task_id}", dependencies=[Depends(require_superuser)])
def purge(task_id: int, session: Session = Depends(get_session)):
    session.delete(session.get(Task, task_id))

@router.delete("/tasks/{task_id}")
def remove(task_id: int, session: Session = Depends(get_session), user=Depends(get_user)):
    if user.role != "admin":
        raise HTTPException(status_code=403)
    session.delete(session.get(Task, task_id))
`;

function load(): Workspace {
  return workspaceOf({ 'app/__init__.py': '', 'app/models.py': MODELS, 'app/crud.py': CRUD, 'app/routes.py': ROUTES });
}

function route(ws: Workspace, name: string) {
  const r = routes(ws).find((x) => x.handler.name === name);
  assert.ok(r, `no route ${name}`);
  return r;
}

before(async () => {
  await initParser();
});

describe('clientWritesIn', () => {
  it('finds constructors, validation in helpers, and what each copy leaves out', () => {
    const ws = load();
    try {
      const r = route(ws, 'create');
      const writes = clientWritesIn(ws, r.file, r.handler, r.path);
      assert.deepEqual(
        writes.map((w) => `${w.kind}:${path.basename(w.file)}:${w.node.text.split('(')[0]}`),
        ['construct:routes.py:Task', 'construct:routes.py:Task', 'validate:crud.py:Task.model_validate'],
      );
      assert.equal(writes[0].modelClass, 'app.models.Task');
      assert.equal(clientMaySet(ws, writes[0].data, 'title'), false, 'excluded by the dump');
      assert.equal(clientMaySet(ws, writes[0].data, 'user_id'), true);
      assert.ok(writes[1].explicit.has('user_id'), 'the keyword next to the splat is explicit');
      // Only the helper parameter that received the body counts: `rebuild` is never given client data.
      assert.ok(!writes.some((w) => w.fn.name === 'rebuild'));
    } finally {
      ws.dispose();
    }
  });

  it('finds setattr loops with their skipped keys, sqlmodel_update with update=, and query updates', () => {
    const ws = load();
    try {
      const r = route(ws, 'update');
      const writes = clientWritesIn(ws, r.file, r.handler, r.path);
      assert.deepEqual(writes.map((w) => w.kind).sort(), ['model-update', 'query-update', 'setattr-loop']);
      const loop = writes.find((w) => w.kind === 'setattr-loop')!;
      assert.deepEqual(loop.filteredKeys instanceof Set ? [...loop.filteredKeys] : loop.filteredKeys, ['user_id']);
      assert.equal(loop.modelClass, 'app.models.Task');
      const update = writes.find((w) => w.kind === 'model-update')!;
      assert.ok(update.explicit.has('user_id'));
      const query = writes.find((w) => w.kind === 'query-update')!;
      assert.equal(query.modelClass, 'app.models.Task');
    } finally {
      ws.dispose();
    }
  });

  it('edits dumps to exclude a field and appends arguments', () => {
    const ws = load();
    try {
      const r = route(ws, 'create');
      const model = ws.model(r.file)!;
      const writes = clientWritesIn(ws, r.file, r.handler, r.path);
      const first = writes[0];
      const edits = [excludeFieldsEdit(first.data.dump!, ['user_id'])!, appendArgumentEdit(first.call, 'user_id=user.id')!];
      const text = applyEdits(model.text, edits);
      assert.match(text, /Task\(\*\*body\.model_dump\(exclude=\{"title", "user_id"\}\), user_id=user\.id\)/);
      const second = clientDataOf(ws, r.file, r.handler, r.path, writes[1].dataNode)!;
      const added = applyEdits(model.text, [excludeFieldsEdit(second.dump!, ['user_id'])!]);
      assert.match(added, /body\.dict\(exclude_unset=True, exclude=\{"user_id"\}\)/);
    } finally {
      ws.dispose();
    }
  });
});

describe('role checks', () => {
  it('recognizes privilege tests and the guards that raise on them', () => {
    const ws = load();
    try {
      const model = ws.model(file('app/routes.py'))!;
      const fn = model.functions.find((f) => f.name === 'require_superuser')!;
      assert.equal(privilegeGuardsIn(fn.body).length, 1);
      const cond = privilegeGuardsIn(fn.body)[0].childForFieldName('condition')!;
      assert.ok(mentionsPrivilege(cond));
      assert.ok(isRoleCheckDependency(ws, 'app.routes.require_superuser'));
      assert.ok(!isRoleCheckDependency(ws, 'app.routes.get_user'));
    } finally {
      ws.dispose();
    }
  });

  it('finds a route guard in decorator dependencies and in the handler, and none elsewhere', () => {
    const ws = load();
    try {
      assert.equal(routeRoleCheck(ws, route(ws, 'purge'))?.kind, 'dependency');
      const inHandler = routeRoleCheck(ws, route(ws, 'remove'));
      assert.equal(inHandler?.kind, 'handler');
      assert.match(inHandler!.description, /user\.role != "admin"/);
      assert.equal(routeRoleCheck(ws, route(ws, 'create')), undefined);
      assert.equal(preferredRoleCheck(ws)?.name, 'require_superuser');
    } finally {
      ws.dispose();
    }
  });
});
