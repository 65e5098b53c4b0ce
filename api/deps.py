"""Dependencies shared by the routers (`SessionDep`, `AdminDep`, `SettingsDep`)."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from aegis_core.db.session import Database, get_database
from aegis_core.errors import AuthError
from aegis_core.settings import AegisSettings, get_settings

SettingsDep = Annotated[AegisSettings, Depends(get_settings)]


def get_db(settings: SettingsDep) -> Database:
    return get_database(settings.resolved_database_url)


DatabaseDep = Annotated[Database, Depends(get_db)]


def get_session(db: DatabaseDep) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    with db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def require_admin(
    settings: SettingsDep,
    x_admin_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> str:
    """Operator routes: `X-Admin-Key` compared in constant time; disabled when unset."""
    expected = settings.admin_key
    if (
        not expected
        or not x_admin_key
        or not hmac.compare_digest(x_admin_key.encode(), expected.encode())
    ):
        raise AuthError("missing or invalid X-Admin-Key")
    return "operator"


AdminDep = Annotated[str, Depends(require_admin)]
