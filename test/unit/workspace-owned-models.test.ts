/**
 * Unit tests for owned-model detection: SQLModel `table=True` (with fields inherited from a base schema),
 * SQLAlchemy declarative 1.x (`declarative_base()`, `Column`, mixins) and 2.0 (`DeclarativeBase`, `Mapped`),
 * Tortoise, user models, request models with inherited fields, and the `owner-columns` setting.
 */
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { initParser } from '../../server/src/python/parser';
import { isUserModel, modelClasses, ownedModelByName, ownedModels, requestModels } from '../../server/src/workspace/owned-models';
import { workspaceOf } from '../support';

before(async () => {
  await initParser();
});

const SQLMODEL = `
from typing import Optional
from sqlmodel import Field, Relationship, SQLModel

class User(SQLModel, table=True):
    id: str = Field(primary_key=True)
    email: str

class TaskBase(SQLModel):
    title: str
    user_id: str = Field(index=True)

class Task(TaskBase, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)

class TaskCreate(TaskBase):
    pass

class TaskUpdate(SQLModel):
    title: Optional[str] = None

class Note(SQLModel, table=True):
    id: int = Field(primary_key=True)
    author: str = Field(foreign_key="user.id")

class Tag(SQLModel, table=True):
    id: int = Field(primary_key=True)
    name: str
`;

const SA1 = `
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import relationship
from sqlalchemy.ext.declarative import declarative_base, declared_attr

Base = declarative_base()

class Account(Base):
    __tablename__ = "accounts"
    id = Column(Integer, primary_key=True)

class OwnedMixin:
    @declared_attr
    def account_ref(cls):
        return Column(Integer, ForeignKey("accounts.id"))

class Invoice(OwnedMixin, Base):
    __tablename__ = "invoices"
    id = Column(Integer, primary_key=True)
    total = Column(Integer)

class Country(Base):
    __tablename__ = "countries"
    id = Column(Integer, primary_key=True)
    name = Column(String)
`;

const SA2 = `
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

class Base(DeclarativeBase):
    pass

class Member(Base):
    __tablename__ = "member"
    id: Mapped[int] = mapped_column(primary_key=True)

class Post(Base):
    __tablename__ = "posts"
    id: Mapped[int] = mapped_column(primary_key=True)
    writer_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    writer: Mapped["Member"] = relationship(back_populates="posts")
`;

const TORTOISE = `
from tortoise import fields
from tortoise.models import Model

class Order(Model):
    id = fields.IntField(pk=True)
    owner = fields.ForeignKeyField("models.User", related_name="orders")
`;

function ws(settings = {}) {
  return workspaceOf({ 'app/models.py': SQLMODEL, 'legacy/models.py': SA1, 'modern/models.py': SA2, 'shop/models.py': TORTOISE }, settings);
}

describe('owned models', () => {
  it('finds owner columns by name, inherited fields and foreign keys to the user model', () => {
    const w = ws();
    try {
      const byName = Object.fromEntries(ownedModels(w).map((m) => [m.qualified, { cols: m.ownerColumns, rels: m.ownerRelationships, orm: m.orm }]));
      assert.deepEqual(byName['app.models.Task'], { cols: ['user_id'], rels: [], orm: 'sqlmodel' });
      assert.deepEqual(byName['app.models.Note'], { cols: ['author'], rels: [], orm: 'sqlmodel' });
      assert.deepEqual(byName['legacy.models.Invoice'], { cols: ['account_ref'], rels: [], orm: 'sqlalchemy' });
      assert.deepEqual(byName['modern.models.Post'], { cols: ['writer_id'], rels: ['writer'], orm: 'sqlalchemy' });
      assert.deepEqual(byName['shop.models.Order'], { cols: ['owner_id'], rels: ['owner'], orm: 'tortoise' });
      // Not owned: the user models themselves, reference tables, schemas and the declarative base.
      for (const q of ['app.models.User', 'app.models.Tag', 'app.models.TaskCreate', 'legacy.models.Country', 'modern.models.Base', 'legacy.models.Account']) {
        assert.equal(byName[q], undefined, q);
      }
    } finally {
      w.dispose();
    }
  });

  it('recognises user models by name and as the target of owner keys', () => {
    const w = ws();
    try {
      assert.equal(isUserModel(w, 'app.models.User'), true);
      assert.equal(isUserModel(w, 'modern.models.Member'), true);
      assert.equal(isUserModel(w, 'app.models.Task'), false);
    } finally {
      w.dispose();
    }
  });

  it('lists request models with inherited fields', () => {
    const w = ws();
    try {
      const create = requestModels(w).find((m) => m.name === 'TaskCreate')!;
      assert.deepEqual(create.fields, ['title', 'user_id']);
      assert.ok(!requestModels(w).some((m) => m.name === 'Task'), 'a table model is not a request model');
    } finally {
      w.dispose();
    }
  });

  it('honours the owner-columns setting', () => {
    const w = ws({ ownerColumns: ['org_id'] });
    try {
      assert.equal(ownedModelByName(w, 'app.models.Task'), undefined);
      assert.deepEqual(ownedModelByName(w, 'app.models.Note')?.ownerColumns, ['author']);
    } finally {
      w.dispose();
    }
  });
});

describe('model classes across files, without parsing unrelated code', () => {
  const FILES = {
    'app/db/base.py': 'from sqlalchemy.orm import declarative_base\n\nBase = declarative_base()\n',
    // Re-exported under another name: this file and the next never name a model library.
    'app/db/__init__.py': 'from app.db.base import Base as ModelBase\n',
    'app/models/mixins.py': 'from sqlalchemy import Column, String\n\nclass OwnedMixin:\n    user_id = Column(String, index=True)\n',
    'app/models/task.py': [
      'from sqlalchemy import Column, Integer, String',
      'from app.db import ModelBase',
      'from app.models.mixins import OwnedMixin',
      '',
      'class Entity(ModelBase):',
      '    __abstract__ = True',
      '',
      'class Task(Entity, OwnedMixin):',
      '    __tablename__ = "tasks"',
      '    id = Column(Integer, primary_key=True)',
      '',
    ].join('\n'),
    // Names no library at all: only the intermediate class.
    'app/models/note.py': 'from app.models.task import Entity\n\nclass Note(Entity):\n    __tablename__ = "notes"\n',
    'tools/unrelated.py': 'class Helper:\n    def run(self):\n        return 1\n',
  };

  it('finds models whose base comes through aliases and intermediate classes, and parses no unrelated file', () => {
    const ws = workspaceOf(FILES);
    try {
      assert.deepEqual(modelClasses(ws).map((m) => `${m.name}:${m.orm}`).sort(), ['Note:sqlalchemy', 'Task:sqlalchemy']);
      assert.deepEqual(ownedModels(ws).map((m) => m.name), ['Task']);
      const parsed = ws.modelsBuilt;
      assert.equal(parsed, Object.keys(FILES).length - 1, 'tools/unrelated.py must not be parsed');
    } finally {
      ws.dispose();
    }
  });
});
