/**
 * Generated Python for timing tests: a FastAPI module of a given length, the way real backends are written.
 */

/** A realistic module: SQLModel tables, an auth dependency, and CRUD routes, some scoped to the user, some not. */
export function generatedModule(lines: number): string {
  const head = [
    'import os',
    'from typing import Annotated',
    '',
    'import jwt',
    'from fastapi import APIRouter, Depends, HTTPException, status',
    'from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer',
    'from sqlmodel import Field, Session, SQLModel, select',
    '',
    'SECRET = os.environ["BETTER_AUTH_SECRET"]',
    'bearer = HTTPBearer()',
    'router = APIRouter()',
    '',
    '',
    'def get_session():',
    '    raise NotImplementedError',
    '',
    '',
    'def get_current_user(credentials: HTTPAuthorizationCredentials = Depends(bearer)) -> str:',
    '    try:',
    '        claims = jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"])',
    '    except jwt.InvalidTokenError:',
    '        raise HTTPException(status_code=status.HTTP_401_UNAUTHORIZED, detail="Invalid token")',
    '    return claims["sub"]',
    '',
    '',
    'CurrentUser = Annotated[str, Depends(get_current_user)]',
    '',
  ];
  const out = [...head];
  for (let i = 0; out.length < lines; i++) {
    out.push(
      '',
      `class Item${i}(SQLModel, table=True):`,
      '    id: int | None = Field(default=None, primary_key=True)',
      '    user_id: str = Field(index=True)',
      '    title: str',
      '',
      '',
      `@router.get("/items${i}/{item_id}")`,
      `def read_item${i}(item_id: int, user_id: CurrentUser, session: Session = Depends(get_session)) -> Item${i}:`,
      `    item = session.get(Item${i}, item_id)`,
      '    if item is None or item.user_id != user_id:',
      '        raise HTTPException(status_code=404, detail="Not found")',
      '    return item',
      '',
      '',
      `@router.get("/items${i}")`,
      `def list_items${i}(user_id: CurrentUser, session: Session = Depends(get_session)) -> list[Item${i}]:`,
      i % 3 === 0
        ? `    return list(session.exec(select(Item${i})).all())`
        : `    return list(session.exec(select(Item${i}).where(Item${i}.user_id == user_id)).all())`,
    );
  }
  return out.slice(0, lines).join('\n') + '\n';
}
