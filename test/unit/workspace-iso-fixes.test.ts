/**
 * Unit tests for the isolation fixes that depend on the workspace's conventions: ISO201 adds the `Annotated` alias the
 * routes use (before the first defaulted parameter, importing it), and ISO204 inserts the ownership check after a
 * helper's load with the identity the handler holds.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'path';
import { initParser } from '../../server/src/python/parser';
import { fixFile } from '../../server/src/core/apply-fixes';
import { workspaceOf, REPO_ROOT } from '../support';

before(async () => {
  await initParser();
});

const DEPS = `
import os
from typing import Annotated
import jwt
from fastapi import Depends, HTTPException
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

oauth2 = OAuth2PasswordBearer(tokenUrl="/login")

def get_db():
    yield Session()

SessionDep = Annotated[Session, Depends(get_db)]

def get_current_user(session: SessionDep, token: str = Depends(oauth2)):
    try:
        payload = jwt.decode(token, os.environ["SECRET_KEY"], algorithms=["HS256"])
    except jwt.InvalidTokenError:
        raise HTTPException(status_code=401, detail="bad token", headers={"WWW-Authenticate": "Bearer"})
    return session.get(User, payload["sub"])

CurrentUser = Annotated[User, Depends(get_current_user)]
`;

const MODELS = `
from sqlmodel import Field, SQLModel

class User(SQLModel, table=True):
    id: int = Field(primary_key=True)

class Item(SQLModel, table=True):
    id: int = Field(primary_key=True)
    owner_id: int = Field(foreign_key="user.id")
`;

const CRUD = `
from app.models import Item

def get_item(session, item_id):
    return session.get(Item, item_id)
`;

const ROUTES = `from fastapi import APIRouter
from sqlmodel import select

from app import crud
from app.api.deps import SessionDep
from app.models import Item

router = APIRouter()


@router.get("/items")
def list_items(session: SessionDep, limit: int = 10):
    return session.exec(select(Item).limit(limit)).all()
`;

const ITEMS = `from fastapi import APIRouter

from app import crud
from app.api.deps import CurrentUser, SessionDep

router = APIRouter()


@router.get("/items/{item_id}")
def read_item(item_id: int, session: SessionDep, current_user: CurrentUser):
    item = crud.get_item(session, item_id)
    return item
`;

function ws() {
  return workspaceOf({
    'app/__init__.py': '',
    'app/models.py': MODELS,
    'app/crud.py': CRUD,
    'app/api/__init__.py': '',
    'app/api/deps.py': DEPS,
    'app/api/public.py': ROUTES,
    'app/api/items.py': ITEMS,
  });
}

const file = (rel: string) => path.join(REPO_ROOT, '.virtual-workspace', rel);

describe('isolation fixes', () => {
  it('ISO201 adds the Annotated alias before the first defaulted parameter, with its import', () => {
    const w = ws();
    try {
      const fixed = fixFile(w, file('app/api/public.py'), { unsafe: true }, { onlyRules: ['ISO201'] }).text;
      assert.match(fixed, /from app\.api\.deps import SessionDep, CurrentUser\n/);
      assert.match(fixed, /def list_items\(session: SessionDep, current_user: CurrentUser, limit: int = 10\):/);
    } finally {
      w.dispose();
    }
  });

  it('ISO204 checks a helper-loaded object against the handler identity, importing HTTPException', () => {
    const w = ws();
    try {
      const fixed = fixFile(w, file('app/api/items.py'), { unsafe: true }, { onlyRules: ['ISO204'] }).text;
      assert.match(fixed, /from fastapi import APIRouter, HTTPException\n/);
      assert.match(
        fixed,
        /item = crud\.get_item\(session, item_id\)\n {4}if item is None or item\.owner_id != current_user\.id:\n {8}raise HTTPException\(status_code=404, detail="Item not found"\)\n {4}return item/,
      );
    } finally {
      w.dispose();
    }
  });
});
