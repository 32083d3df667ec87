"""Database storage URLs: accepted schemes, drivers, passwords and their masking.

A study's storage is a database when its text holds ``://``::

    sqlite:///studies.db
    postgresql://USER[:PASSWORD]@HOST[:PORT]/DB      # also postgres://
    mysql://USER[:PASSWORD]@HOST[:PORT]/DB

``postgresql://`` (and ``postgres://``) opens with whichever PostgreSQL
driver is installed: psycopg 3 (``pip install 'automl[postgres]'``), else
psycopg2; ``mysql://`` with PyMySQL (``pip install 'automl[mysql]'``), else
mysqlclient. A driver can also be named, as in SQLAlchemy
(``postgresql+psycopg2://``).

Passwords never leave the process: messages, ``run.json``, the study's
recorded spec and ``summary.json`` show :func:`mask_url`'s ``USER:***@HOST``.
A URL without a password (or with the mask ``***``, as recorded) takes it from
the environment variable named by the study's ``storage_password_env``, else
leaves it to the driver: libpq reads ``PGPASSWORD`` and ``~/.pgpass``.
"""

from __future__ import annotations

import os
import re

from ._checks import fail

__all__ = [
    "MASK",
    "SCHEMES",
    "StorageError",
    "check_database_url",
    "check_password_env",
    "database_url",
    "driver_url",
    "is_database_url",
    "mask_url",
    "open_database",
    "with_password",
]

#: The password as shown and recorded.
MASK = "***"

#: Accepted schemes → (database family, the driver modules tried in order).
SCHEMES = {
    "sqlite": ("sqlite", ()),
    "postgresql": ("postgres", ("psycopg", "psycopg2")),
    "postgres": ("postgres", ("psycopg", "psycopg2")),
    "postgresql+psycopg": ("postgres", ("psycopg",)),
    "postgresql+psycopg2": ("postgres", ("psycopg2",)),
    "mysql": ("mysql", ("pymysql", "MySQLdb")),
    "mysql+pymysql": ("mysql", ("pymysql",)),
    "mysql+mysqldb": ("mysql", ("MySQLdb",)),
}
#: SQLAlchemy's dialect name of each driver module.
_DIALECTS = {
    "psycopg": "postgresql+psycopg",
    "psycopg2": "postgresql+psycopg2",
    "pymysql": "mysql+pymysql",
    "MySQLdb": "mysql+mysqldb",
}
_EXTRAS = {"postgres": "postgres", "mysql": "mysql"}
_NAMES = {"postgres": "a PostgreSQL driver", "mysql": "a MySQL driver"}


class StorageError(ValueError):
    """A storage that cannot be used: unknown scheme, missing driver, no connection."""


def is_database_url(text) -> bool:
    """True for ``scheme://...`` text (a database URL), False for a journal file path."""
    return "://" in str(text)


def _scheme(url: str) -> str:
    return str(url).split("://", 1)[0].lower()


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` query) shown as ``***``.

    Examples
    --------
    >>> mask_url("postgresql://me:s3cret@db:5432/x")
    'postgresql://me:***@db:5432/x'
    >>> mask_url("postgresql://me@db/x?password=s3cret&sslmode=require")
    'postgresql://me@db/x?password=***&sslmode=require'
    """
    text = str(url)
    if "://" not in text:
        return text
    scheme, rest = text.split("://", 1)
    rest, sep, query = rest.partition("?")
    if "@" in rest:  # the last '@' ends the user part (a password may hold an unquoted '@')
        credentials, host = rest.rsplit("@", 1)
        user, colon, _ = credentials.partition(":")
        rest = f"{user}:{MASK}@{host}" if colon else f"{user}@{host}"
    if sep:
        query = re.sub(r"(?i)(^|&)(password=)[^&]*", rf"\1\2{MASK}", query)
    return f"{scheme}://{rest}{sep}{query}"


def check_database_url(url: str) -> None:
    """Raise :class:`StorageError` for an unknown scheme or a database without its driver."""
    _driver(url)


def _driver(url: str) -> str | None:
    """The SQLAlchemy dialect to open ``url`` with (None: keep the URL's own, sqlite)."""
    scheme = _scheme(url)
    if scheme not in SCHEMES:
        raise StorageError(
            f"unknown storage scheme {scheme + '://'!r} in {mask_url(url)!r}; accepted are "
            f"{', '.join(s + '://' for s in SCHEMES)}, or a journal file path"
        )
    family, modules = SCHEMES[scheme]
    for module in modules:
        try:
            __import__(module)
        except ImportError:
            continue
        return _DIALECTS[module]
    if not modules:
        return None
    extra = _EXTRAS[family]
    what = _NAMES[family] if len(modules) > 1 else f"the driver {modules[0]}"
    raise StorageError(
        f"the storage {mask_url(url)} needs {what}, which is not installed; "
        f"install it with `pip install 'automl[{extra}]'`"
    )


def with_password(url: str, password_env: str | None = None) -> str:
    """``url`` with the password of ``$password_env`` when it has none (or the mask).

    The mask ``***`` is removed when no variable supplies a password, so the
    driver looks for one itself (libpq: ``PGPASSWORD``, ``~/.pgpass``).
    """
    text = str(url)
    if not is_database_url(text) or _scheme(text) == "sqlite":
        return text
    from sqlalchemy.engine import make_url

    parsed = make_url(text)
    password = parsed.password
    if password in (None, "", MASK) and "password" not in parsed.query:
        value = os.environ.get(password_env) if password_env else None
        if value:
            return parsed.set(password=value).render_as_string(hide_password=False)
        if password == MASK:  # the recorded mask: no password, the driver finds one
            scheme, rest = text.split("://", 1)
            credentials, host = rest.split("@", 1)
            return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return text


def driver_url(url: str) -> str:
    """The URL SQLAlchemy opens: ``postgresql://`` → ``postgresql+psycopg://`` (or psycopg2)."""
    text = str(url)
    dialect = _driver(text)
    if dialect is None:
        return text
    rest = text.split("://", 1)[1]
    return f"{dialect}://{rest}"


def database_url(url: str, password_env: str | None = None) -> str:
    """The URL SQLAlchemy opens for ``url``: driver chosen (:func:`driver_url`), password
    filled in (:func:`with_password`). It may hold a password: never print or record it.

    Examples
    --------
    >>> database_url("sqlite:///studies.db")
    'sqlite:///studies.db'
    >>> database_url("postgresx://me:pw@db/x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automl.search._database.StorageError: unknown storage scheme 'postgresx://' in 'postgresx://me:***@db/x'; accepted are sqlite://, postgresql://, ...
    """
    return driver_url(with_password(url, password_env))


def open_database(url: str):
    """An Optuna ``RDBStorage`` for ``url``; problems raise a one-line :class:`StorageError`."""
    import optuna
    import sqlalchemy.exc

    text = str(url)
    target = driver_url(text)
    try:
        return optuna.storages.get_storage(target)
    except (sqlalchemy.exc.SQLAlchemyError, ImportError) as exc:
        raise StorageError(f"cannot open the storage {mask_url(text)}: "
                           f"{_first_line(exc, text)}{_password_hint(exc, text)}") from None


def _first_line(exc: BaseException, url: str) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    message = " ".join(lines[:2]) or type(orig).__name__
    from sqlalchemy.engine import make_url

    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001 - a malformed URL: nothing to hide beyond the mask
        password = None
    if password and password != MASK:
        message = message.replace(str(password), MASK)
    return message


def _password_hint(exc: BaseException, url: str) -> str:
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "password" not in text and "authentication" not in text:
        return ""
    return (" (run records hold no password: give it in the URL (--storage), in the "
            "environment variable named by the study's storage_password_env, or in PGPASSWORD "
            "or ~/.pgpass)")


def check_password_env(source: str, value):
    """The ``storage_password_env`` key: None or an environment variable name."""
    if value is None:
        return None
    if not (isinstance(value, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value)):
        fail(source, "storage_password_env",
             f"must be the name of an environment variable holding the storage's password, "
             f"got {value!r}")
    return value
