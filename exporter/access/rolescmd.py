"""`roles apply|remove`: the read-only logins, with an admin URL from the environment (never a password flag)."""

from __future__ import annotations

import os
import sys

from exporter.access import roles
from exporter.config import Config, ReaderConfig
from exporter.database import connection
from exporter.errors import ConfigError

ADMIN_URL_ENV = "LITELLM_EXPORTER_ADMIN_URL"


def _with_names(cfg: Config, names: dict[str, str | None]) -> Config:
    update: dict[str, ReaderConfig | None] = {}
    for purpose, name in names.items():
        if name is None:
            continue
        if name == "-":
            update[purpose] = None
        else:
            base = getattr(cfg.roles, purpose) or ReaderConfig(name=name)
            update[purpose] = ReaderConfig.model_validate({**base.model_dump(), "name": name})
    return cfg.model_copy(update={"roles": cfg.roles.model_copy(update=update)}) if update else cfg


def run(cfg: Config, action: str, admin_url: str | None, sql_only: bool, names: dict[str, str | None]) -> int:
    try:
        cfg = _with_names(cfg, names)
    except ValueError as exc:
        raise ConfigError(f"invalid role name: {exc}") from None
    readers = roles.readers_from_config(cfg)
    schema = cfg.database.db_schema
    if sql_only:
        if action != "apply":
            raise ConfigError("--sql prints the apply script; for remove, run `roles remove`")
        sys.stdout.write(roles.script(readers, schema))
        return 0
    if admin_url is not None:
        url = connection.normalize_url(admin_url)
        if url.password:
            raise ConfigError(
                f"--admin.url must not hold a password (it would show in `ps`); use {ADMIN_URL_ENV}, "
                "PGPASSWORD or ~/.pgpass"
            )
    elif os.environ.get(ADMIN_URL_ENV):
        url = connection.normalize_url(os.environ[ADMIN_URL_ENV])
    else:
        raise ConfigError(f"no admin connection: set {ADMIN_URL_ENV} or --admin.url")
    try:
        notices = roles.apply(url, readers, schema) if action == "apply" else roles.remove(url, schema)
    except Exception as exc:
        if hasattr(exc, "orig"):
            raise connection.translate(exc, url) from None
        raise
    for notice in notices:
        print(f"notice: {notice}", file=sys.stderr)
    if action == "apply":
        for r in readers:
            pw = "password set" if r.password else "password unchanged (none given)"
            print(f"{r.purpose}: role {r.name!r} can read exactly the columns in sql/grants/{r.purpose}.json; {pw}")
    else:
        print("removed litellm-spend-exporter's roles and schema litellm_exporter")
    return 0
