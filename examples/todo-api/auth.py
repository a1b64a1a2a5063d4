"""Verifies the JWT that Better Auth's JWT plugin issues to the frontend (HS256, shared BETTER_AUTH_SECRET)."""
import os

import jwt
from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

# FLAW (JWT105): a missing secret silently becomes a guessable one.
BETTER_AUTH_SECRET = os.getenv("BETTER_AUTH_SECRET", "dev-secret")
BETTER_AUTH_URL = os.environ.get("BETTER_AUTH_URL", "http://localhost:3000")

# auto_error=False: FastAPI before 0.122 answers a missing header with 403; a missing token is a 401 here.
bearer_scheme = HTTPBearer(auto_error=False)


def get_current_user(credentials: HTTPAuthorizationCredentials | None = Depends(bearer_scheme)) -> str:
    """Returns the id of the signed-in user, or answers 401."""
    if credentials is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Not authenticated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        payload = jwt.decode(
            credentials.credentials,
            BETTER_AUTH_SECRET,
            algorithms=["HS256"],
            audience=BETTER_AUTH_URL,
            issuer=BETTER_AUTH_URL,
        )
    except jwt.ExpiredSignatureError:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Token expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    except jwt.InvalidTokenError as e:
        # FLAW (JWT109): the library's error text goes back to the client.
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=str(e),
            headers={"WWW-Authenticate": "Bearer"},
        )
    user_id = payload.get("sub")
    if not user_id:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user_id
