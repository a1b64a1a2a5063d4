/**
 * The route-based isolation rules' prescans (ISO201-206, ISO208) ask the app graph or the rule's memoized workspace
 * findings, not the file's text: a handler registered with `add_api_route` from another file, or a helper that a
 * route reaches, holds findings although its own text names no app, router or route. Each case below puts the
 * finding in such a file, so a prescan that looked only at the file's text would drop it and fail the test.
 * The last cases check the other side: code that builds no FastAPI app passes no prescan and is not parsed.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { analyzeWorkspace } from '../../server/src/core/analyze';
import { fixFile } from '../../server/src/core/apply-fixes';
import { routesInFile } from '../../server/src/workspace/app-graph';
import { mayReport } from '../../server/src/rules/rule';
import { ruleByCode } from '../../server/src/rules/index';
import type { Workspace } from '../../server/src/workspace/workspace';
import { VIRTUAL_ROOT, virtualPath, workspaceOf } from '../support';

before(async () => {
  await initParser();
});

const MODELS = `from typing import Optional

from sqlmodel import Field, SQLModel


class User(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str
    is_admin: bool = False


class UserUpdate(SQLModel):
    email: Optional[str] = None
    is_admin: Optional[bool] = None


class Task(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str
    user_id: int = Field(foreign_key="user.id")


class TaskCreate(SQLModel):
    title: str
    user_id: int


class TaskUpdate(SQLModel):
    title: Optional[str] = None
    user_id: Optional[int] = None
`;

const DEPS = `import os
from typing import Annotated

import jwt
from fastapi import Depends, Header, HTTPException
from sqlmodel import Session, create_engine

engine = create_engine(os.environ["DATABASE_URL"])


def get_session():
    with Session(engine) as session:
        yield session


def current_user_id(authorization: str = Header(...)) -> int:
    token = authorization.removeprefix("Bearer ")
    try:
        claims = jwt.decode(token, os.environ["SECRET_KEY"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="Invalid token")
    return int(claims["sub"])


SessionDep = Annotated[Session, Depends(get_session)]
UserId = Annotated[int, Depends(current_user_id)]
`;

/** Helpers the handlers call: no FastAPI import, no route, yet ISO203/205/206/208 report here. */
const CRUD = `from sqlmodel import Session, select

from app.models import Task, TaskCreate, TaskUpdate, User, UserUpdate


def all_tasks(session: Session):
    return session.exec(select(Task)).all()


def create_task(session: Session, task_in: TaskCreate) -> Task:
    task = Task.model_validate(task_in)
    session.add(task)
    session.commit()
    return task


def apply_update(session: Session, task: Task, task_in: TaskUpdate) -> Task:
    task.sqlmodel_update(task_in.model_dump(exclude_unset=True))
    session.add(task)
    session.commit()
    return task


def update_user(session: Session, user: User, user_in: UserUpdate) -> User:
    user.sqlmodel_update(user_in.model_dump(exclude_unset=True))
    session.add(user)
    session.commit()
    return user
`;

/** Handlers without decorators: \`main.py\` registers them with \`add_api_route\`. ISO201/202/204 report here. */
const HANDLERS = `from sqlmodel import select

from app import crud
from app.deps import SessionDep, UserId
from app.models import Task, TaskCreate, TaskUpdate, User, UserUpdate


def list_everything(session: SessionDep):
    return session.exec(select(Task)).all()


def list_for_user(user_id: int, session: SessionDep, me: UserId):
    return session.exec(select(Task).where(Task.user_id == user_id)).all()


def list_all(session: SessionDep, me: UserId):
    return crud.all_tasks(session)


def read_task(task_id: int, session: SessionDep, me: UserId):
    task = session.get(Task, task_id)
    return {"title": task.title}


def create(body: TaskCreate, session: SessionDep, me: UserId):
    return crud.create_task(session, body)


def update(task_id: int, body: TaskUpdate, session: SessionDep, me: UserId):
    task = session.exec(select(Task).where(Task.id == task_id, Task.user_id == me)).one()
    return crud.apply_update(session, task, body)


def update_me(body: UserUpdate, session: SessionDep, me: UserId):
    user = session.get(User, me)
    return crud.update_user(session, user, body)
`;

const MAIN = `from fastapi import FastAPI

from app import handlers

app = FastAPI()
app.add_api_route("/everything", handlers.list_everything)
app.add_api_route("/users/{user_id}/tasks", handlers.list_for_user)
app.add_api_route("/tasks", handlers.list_all)
app.add_api_route("/tasks/{task_id}", handlers.read_task)
app.add_api_route("/tasks", handlers.create, methods=["POST"])
app.add_api_route("/tasks/{task_id}", handlers.update, methods=["PATCH"])
app.add_api_route("/me", handlers.update_me, methods=["PATCH"])
`;

/** Unrelated code in the same workspace: no rule may report here. */
const UTIL = `def slugify(title: str) -> str:
    return title.lower().replace(" ", "-")
`;

const FILES: Record<string, string> = {
  'app/__init__.py': '',
  'app/models.py': MODELS,
  'app/deps.py': DEPS,
  'app/crud.py': CRUD,
  'app/handlers.py': HANDLERS,
  'app/main.py': MAIN,
  'app/util.py': UTIL,
};


/** What a text-only gate could key on: an app, a router, or a route decorator. */
const ROUTE_WORDS = /FastAPI|APIRouter|add_api_route|include_router|^\s*@/m;

function findingsOf(ws: Workspace, noPrescan: boolean) {
  return analyzeWorkspace(ws, { noPrescan, reportUnusedSuppressions: true });
}

const CASES: { code: string; file: string; why: string }[] = [
  { code: 'ISO201', file: 'app/handlers.py', why: 'an unauthenticated handler registered from main.py' },
  { code: 'ISO202', file: 'app/handlers.py', why: 'a path user id in a handler registered from main.py' },
  { code: 'ISO203', file: 'app/crud.py', why: 'an unscoped query in a helper a route calls' },
  { code: 'ISO204', file: 'app/handlers.py', why: 'a load by id in a handler registered from main.py' },
  { code: 'ISO205', file: 'app/crud.py', why: 'a model built from the body in a helper a route calls' },
  { code: 'ISO206', file: 'app/crud.py', why: 'an update from the body in a helper a route calls' },
  { code: 'ISO208', file: 'app/crud.py', why: 'a user update from the body in a helper a route calls' },
];

describe('ISO prescans accept files that hold findings only through other files', () => {
  it('the files holding the findings name no app, router or route (the cases keep their point)', () => {
    for (const name of ['app/crud.py', 'app/handlers.py']) assert.doesNotMatch(FILES[name], ROUTE_WORDS, name);
  });

  it('findings are identical with and without prescans', () => {
    const ws = workspaceOf(FILES);
    const fast = workspaceOf(FILES);
    try {
      assert.deepEqual(findingsOf(fast, false), findingsOf(ws, true));
    } finally {
      ws.dispose();
      fast.dispose();
    }
  });

  for (const c of CASES) {
    it(`${c.code}: ${c.why}`, () => {
      const ws = workspaceOf(FILES);
      try {
        const rule = ruleByCode(c.code)!;
        assert.ok(rule.prescan, `${c.code} declares a prescan`);
        const full = findingsOf(ws, true).findings.filter((f) => f.code === c.code);
        assert.ok(full.some((f) => f.file === virtualPath(c.file)), `${c.code} reports in ${c.file} (got ${full.map((f) => path.relative(VIRTUAL_ROOT, f.file)).join(', ') || 'nothing'})`);
        // The prescan lets through exactly the files the rule reports in: this is what makes it skip the rest.
        const reported = new Set(full.map((f) => f.file));
        for (const name of Object.keys(FILES)) {
          const file = ws.file(virtualPath(name))!;
          if (reported.has(file.path)) assert.ok(mayReport(rule, file, ws), `${c.code} prescan accepts ${name}`);
        }
        assert.equal(mayReport(rule, ws.file(virtualPath('app/util.py'))!, ws), false, `${c.code} prescan rejects util.py`);
        assert.equal(mayReport(rule, ws.file(virtualPath('app/models.py'))!, ws), false, `${c.code} prescan rejects models.py`);
        const gated = findingsOf(ws, false).findings.filter((f) => f.code === c.code);
        assert.deepEqual(gated, full);
      } finally {
        ws.dispose();
      }
    });
  }

  it('ISO201/ISO202: a route on a router imported from another file passes though the file never names APIRouter', () => {
    const ws = workspaceOf({
      'app/__init__.py': '',
      'app/models.py': MODELS,
      'app/deps.py': DEPS,
      'app/routers/__init__.py': '',
      'app/routers/base.py': 'from fastapi import APIRouter\n\nrouter = APIRouter(prefix="/v1")\n',
      'app/routers/tasks.py': `from sqlmodel import select

from app.deps import SessionDep, UserId
from app.models import Task
from app.routers.base import router


@router.get("/everything")
def list_everything(session: SessionDep):
    return session.exec(select(Task)).all()


@router.get("/users/{user_id}/tasks")
def list_for_user(user_id: int, session: SessionDep, me: UserId):
    return session.exec(select(Task).where(Task.user_id == user_id)).all()
`,
      'app/main.py': 'from fastapi import FastAPI\n\nfrom app.routers.base import router\n\napp = FastAPI()\napp.include_router(router)\n',
    });
    try {
      const file = ws.file(virtualPath('app/routers/tasks.py'))!;
      assert.doesNotMatch(file.text, /FastAPI|APIRouter/);
      const full = findingsOf(ws, true).findings;
      for (const code of ['ISO201', 'ISO202']) {
        assert.ok(full.some((f) => f.code === code && f.file === file.path), `${code} reports in routers/tasks.py`);
        assert.ok(mayReport(ruleByCode(code)!, file, ws), `${code} prescan accepts routers/tasks.py`);
      }
      assert.deepEqual(findingsOf(ws, false).findings, full);
    } finally {
      ws.dispose();
    }
  });
});

describe('ISO208 on a route registered from another file', () => {
  const ADMIN_DEPS = `${DEPS}

def require_admin(user_id: UserId, session: SessionDep) -> int:
    user = session.get(User, user_id)
    if user is None or not user.is_admin:
        raise HTTPException(status_code=403, detail="Forbidden")
    return user_id
`.replace('from sqlmodel import Session, create_engine', 'from sqlmodel import Session, create_engine\n\nfrom app.models import User');
  const files = {
    'app/__init__.py': '',
    'app/models.py': MODELS,
    'app/deps.py': ADMIN_DEPS,
    'app/handlers.py': `from sqlmodel import select

from app.deps import SessionDep, UserId
from app.models import User


def list_users(session: SessionDep, me: UserId):
    return session.exec(select(User)).all()
`,
    'app/main.py': `from fastapi import Depends, FastAPI

from app import handlers
from app.deps import require_admin

app = FastAPI()


@app.get("/admin/stats", dependencies=[Depends(require_admin)])
def stats():
    return {}


app.add_api_route("/admin/users", handlers.list_users)
`,
  };

  it('reports on the add_api_route call in its own file, where the prescan lets it through, and fixes that call', () => {
    const ws = workspaceOf(files);
    try {
      const main = ws.file(virtualPath('app/main.py'))!;
      // main.py holds no handler of the reported route: a prescan asking only for the file's routes would miss it.
      assert.ok(!routesInFile(ws, main.path).some((r) => r.path === '/admin/users'));
      const full = findingsOf(ws, true).findings.filter((f) => f.code === 'ISO208');
      assert.deepEqual(full.map((f) => [path.relative(VIRTUAL_ROOT, f.file), f.range.start.line + 1]), [['app/main.py', 14]]);
      assert.ok(mayReport(ruleByCode('ISO208')!, main, ws));
      assert.equal(mayReport(ruleByCode('ISO208')!, ws.file(virtualPath('app/handlers.py'))!, ws), false);
      assert.deepEqual(findingsOf(ws, false).findings.filter((f) => f.code === 'ISO208'), full);
      // The handler's file is left alone (the edits once landed there, past its end); the call gets the role check.
      assert.equal(fixFile(ws, virtualPath('app/handlers.py'), { unsafe: true }, { onlyRules: ['ISO208'] }).text, files['app/handlers.py']);
      const fixed = fixFile(ws, main.path, { unsafe: true }, { onlyRules: ['ISO208'] }).text;
      assert.match(fixed, /^app\.add_api_route\("\/admin\/users", handlers\.list_users, dependencies=\[Depends\(require_admin\)\]\)$/m);
    } finally {
      ws.dispose();
    }
  });
});

describe('ISO prescans on code that builds no FastAPI app', () => {
  // Standard-library tests decorate with `@mock.patch(...)`, which the app graph's route text matches (`.patch(`).
  const NOT_AN_APP = {
    'tests/test_env.py': `import os
import unittest
from unittest import mock


class EnvTest(unittest.TestCase):
    @mock.patch("os.environ")
    def test_user_id(self, environ):
        environ.get.return_value = "42"
        user_id = os.environ.get("USER_ID")
        self.assertEqual(user_id, "42")
`,
    'store.py': `import sqlite3


def owner_rows(db: sqlite3.Connection, user_id: int):
    return db.execute("SELECT * FROM task WHERE user_id = ?", (user_id,)).fetchall()
`,
  };

  it('no file passes and nothing is parsed to find out', () => {
    const ws = workspaceOf(NOT_AN_APP);
    try {
      for (const code of CASES.map((c) => c.code)) {
        const rule = ruleByCode(code)!;
        for (const file of ws.allFiles()) assert.equal(mayReport(rule, file, ws), false, `${code} on ${path.basename(file.path)}`);
      }
      assert.equal(ws.modelsBuilt, 0);
    } finally {
      ws.dispose();
    }
  });

  it('one file building an app elsewhere is what makes a route file pass', () => {
    const ws = workspaceOf({
      ...NOT_AN_APP,
      'app/__init__.py': '',
      'app/models.py': MODELS,
      'app/deps.py': DEPS,
      'app/handlers.py': HANDLERS,
      'app/crud.py': CRUD,
    });
    try {
      const handlers = ws.file(virtualPath('app/handlers.py'))!;
      const iso201 = ruleByCode('ISO201')!;
      // Without an app the handlers are plain functions: no route, nothing to report.
      assert.equal(mayReport(iso201, handlers, ws), false);
      assert.equal(findingsOf(ws, true).findings.filter((f) => CASES.some((c) => c.code === f.code)).length, 0);
      ws.setFile(virtualPath('app/main.py'), MAIN);
      assert.equal(mayReport(iso201, handlers, ws), true);
      assert.equal(mayReport(iso201, ws.file(virtualPath('tests/test_env.py'))!, ws), false);
    } finally {
      ws.dispose();
    }
  });
});
