/**
 * Generates a deterministic FastAPI-heavy workspace for the benchmark: many services, each an app with routers
 * included under prefixes, an auth dependency verifying a Better Auth JWT, SQLModel models with owner columns,
 * CRUD helpers, schemas and config, so that every file matters to the cross-file rules. A fixed share of routes
 * carries the flaws the rules look for, so the run measures rules that report, not only rules that pass.
 */
import * as fs from 'fs';
import * as path from 'path';

const ENTITIES = ['task', 'note', 'project', 'invoice', 'comment'];

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

function write(root: string, rel: string, text: string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

function config(): string {
  return `import os\n\nSECRET_KEY = os.environ["BETTER_AUTH_SECRET"]\nALGORITHM = "HS256"\nDATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///app.db")\n`;
}

function deps(): string {
  return `from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.core.config import ALGORITHM, SECRET_KEY
from app.db import get_session

bearer = HTTPBearer()


def get_current_user_id(credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
    try:
        payload = jwt.decode(credentials.credentials, SECRET_KEY, algorithms=[ALGORITHM])
    except jwt.PyJWTError as exc:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid or expired token",
            headers={"WWW-Authenticate": "Bearer"},
        ) from exc
    user_id = payload.get("sub")
    if not user_id:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Token has no subject",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user_id


CurrentUserId = Annotated[str, Depends(get_current_user_id)]
SessionDep = Annotated[Session, Depends(get_session)]
`;
}

function db(): string {
  return `from sqlmodel import Session, create_engine

from app.core.config import DATABASE_URL

engine = create_engine(DATABASE_URL)


def get_session():
    with Session(engine) as session:
        yield session
`;
}

function model(entity: string): string {
  const C = cap(entity);
  return `from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel


class ${C}Base(SQLModel):
    title: str = Field(max_length=200)
    description: Optional[str] = None


class ${C}(${C}Base, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: str = Field(index=True)
    created_at: datetime = Field(default_factory=datetime.utcnow)


class ${C}Create(${C}Base):
    pass


class ${C}Update(SQLModel):
    title: Optional[str] = None
    description: Optional[str] = None
`;
}

function crud(entity: string): string {
  const C = cap(entity);
  return `from sqlmodel import Session, select

from app.models.${entity} import ${C}, ${C}Create


def list_${entity}s(session: Session, owner_id: str) -> list[${C}]:
    return list(session.exec(select(${C}).where(${C}.user_id == owner_id)).all())


def get_owned_${entity}(session: Session, ${entity}_id: int, owner_id: str) -> ${C} | None:
    statement = select(${C}).where(${C}.id == ${entity}_id, ${C}.user_id == owner_id)
    return session.exec(statement).first()


def create_${entity}(session: Session, data: ${C}Create, owner_id: str) -> ${C}:
    item = ${C}.model_validate(data, update={"user_id": owner_id})
    session.add(item)
    session.commit()
    session.refresh(item)
    return item
`;
}

/** One router module; `flawed` routes skip the ownership check or trust a client user id. */
function routes(entity: string, index: number, flawed: boolean): string {
  const C = cap(entity);
  const extra = flawed
    ? `

@router.get("/by-user/{user_id}")
def list_for_user_${index}(user_id: str, session: SessionDep, current_user_id: CurrentUserId):
    return session.exec(select(${C}).where(${C}.user_id == user_id)).all()


@router.delete("/{item_id}/unsafe")
def delete_unchecked_${index}(item_id: int, session: SessionDep, current_user_id: CurrentUserId):
    item = session.get(${C}, item_id)
    if not item:
        raise HTTPException(status_code=404, detail="Not found")
    session.delete(item)
    session.commit()
    return {"ok": True}
`
    : '';
  return `from fastapi import APIRouter, HTTPException
from sqlmodel import select

from app.api.deps import CurrentUserId, SessionDep
from app.crud.${entity} import create_${entity}, get_owned_${entity}, list_${entity}s
from app.models.${entity} import ${C}, ${C}Create, ${C}Update

router = APIRouter()


@router.get("/")
def read_all_${index}(session: SessionDep, current_user_id: CurrentUserId):
    return list_${entity}s(session, current_user_id)


@router.post("/")
def create_${index}(body: ${C}Create, session: SessionDep, current_user_id: CurrentUserId):
    return create_${entity}(session, body, current_user_id)


@router.get("/{item_id}")
def read_one_${index}(item_id: int, session: SessionDep, current_user_id: CurrentUserId):
    item = get_owned_${entity}(session, item_id, current_user_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Not found")
    return item


@router.patch("/{item_id}")
def update_${index}(item_id: int, body: ${C}Update, session: SessionDep, current_user_id: CurrentUserId):
    item = get_owned_${entity}(session, item_id, current_user_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Not found")
    item.sqlmodel_update(body.model_dump(exclude_unset=True))
    session.add(item)
    session.commit()
    return item
${extra}`;
}

/** Writes the workspace; returns the number of Python modules. */
export function generateFastapiWorkspace(root: string, services = 50, routersPerService = 22): number {
  fs.rmSync(root, { recursive: true, force: true });
  let modules = 0;
  for (let s = 0; s < services; s++) {
    const svc = `service_${String(s).padStart(3, '0')}`;
    const files: Record<string, string> = {
      'app/__init__.py': '',
      'app/core/__init__.py': '',
      'app/core/config.py': config(),
      'app/db.py': db(),
      'app/api/__init__.py': '',
      'app/api/deps.py': deps(),
      'app/api/routes/__init__.py': '',
      'app/models/__init__.py': '',
      'app/crud/__init__.py': '',
    };
    for (const e of ENTITIES) {
      files[`app/models/${e}.py`] = model(e);
      files[`app/crud/${e}.py`] = crud(e);
    }
    const includes: string[] = [];
    for (let r = 0; r < routersPerService; r++) {
      const entity = ENTITIES[r % ENTITIES.length];
      const name = `${entity}s_${r}`;
      files[`app/api/routes/${name}.py`] = routes(entity, r, (s * routersPerService + r) % 7 === 3);
      includes.push(`from app.api.routes import ${name}`);
    }
    files['app/main.py'] = `from fastapi import FastAPI\n\n${includes.join('\n')}\n\napp = FastAPI(title="${svc}")\n\n${includes
      .map((line) => line.split(' ').pop()!)
      .map((n) => `app.include_router(${n}.router, prefix="/api/${n}", tags=["${n}"])`)
      .join('\n')}\n\n\n@app.get("/health")\ndef health():\n    return {"status": "ok"}\n`;
    files['requirements.txt'] = 'fastapi==0.122.0\nsqlmodel==0.0.27\npyjwt==2.10.1\n';
    for (const [rel, text] of Object.entries(files)) {
      write(path.join(root, svc), rel, text);
      if (rel.endsWith('.py')) modules++;
    }
  }
  return modules;
}

if (require.main === module) {
  const out = process.argv[2] ?? path.join(process.cwd(), 'bench', 'corpus', 'fastapi-heavy');
  const n = generateFastapiWorkspace(out);
  process.stdout.write(`wrote ${n} modules to ${out}\n`);
}
