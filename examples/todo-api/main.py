"""Todo API: a FastAPI backend for a Next.js frontend that signs users in with Better Auth.

Run with `uvicorn main:app --reload` after copying `.env.example` to `.env`.
"""
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from db import create_db_and_tables
from routes import tasks

app = FastAPI(title="Todo API", version="0.1.0")

# FLAW (SEC301): every origin may send credentialed requests.
app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

app.include_router(tasks.router)


@app.on_event("startup")
def on_startup() -> None:
    create_db_and_tables()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
