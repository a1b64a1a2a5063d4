"""Task CRUD under /api/{user_id}/tasks, as the frontend calls it."""
from datetime import datetime, timezone

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy import text
from sqlmodel import Session, select

from auth import get_current_user
from db import get_session
from models import Task, TaskCreate, TaskRead, TaskUpdate

router = APIRouter(prefix="/api/{user_id}/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskRead])
def list_tasks(
    user_id: str,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    # FLAW (ISO202): the path's user_id is trusted; any signed-in user can list anyone's tasks.
    return session.exec(select(Task).where(Task.user_id == user_id).order_by(Task.created_at.desc())).all()


@router.post("", response_model=TaskRead, status_code=status.HTTP_201_CREATED)
def create_task(
    user_id: str,
    body: TaskCreate,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    if user_id != current_user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    # FLAW (ISO205): the owner comes from the request body (TaskCreate.user_id).
    task = Task.model_validate(body)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@router.get("/search", response_model=list[TaskRead])
def search_tasks(
    user_id: str,
    q: str,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    if user_id != current_user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    # FLAW (ISO207): the search term is spliced into the SQL text.
    rows = session.execute(text(f"SELECT id FROM task WHERE user_id = :uid AND title ILIKE '%{q}%'"), {"uid": current_user})
    ids = [row.id for row in rows]
    return session.exec(select(Task).where(Task.id.in_(ids), Task.user_id == current_user)).all()


@router.get("/{task_id}", response_model=TaskRead)
def get_task(
    user_id: str,
    task_id: int,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    if user_id != current_user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    # FLAW (ISO204): loaded by id and returned without checking who owns it.
    task = session.get(Task, task_id)
    if task is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")
    return task


@router.patch("/{task_id}", response_model=TaskRead)
def update_task(
    user_id: str,
    task_id: int,
    body: TaskUpdate,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    if user_id != current_user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    task = session.get(Task, task_id)
    if task is None or task.user_id != current_user:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")
    task.sqlmodel_update(body.model_dump(exclude_unset=True))
    task.updated_at = datetime.now(timezone.utc)
    session.add(task)
    session.commit()
    session.refresh(task)
    return task


@router.delete("/{task_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_task(
    user_id: str,
    task_id: int,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    if user_id != current_user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    task = session.exec(select(Task).where(Task.id == task_id, Task.user_id == current_user)).first()
    if task is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Task not found")
    session.delete(task)
    session.commit()


@router.get("/stats/completed")
def completed_stats(
    user_id: str,
    session: Session = Depends(get_session),
    current_user: str = Depends(get_current_user),
):
    if user_id != current_user:
        raise HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail="Forbidden")
    # FLAW (ISO203): counts every user's tasks, not the caller's.
    done = session.exec(select(Task).where(Task.completed == True)).all()  # noqa: E712
    return {"completed": len(done)}
