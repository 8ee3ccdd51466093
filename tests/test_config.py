"""Config loading: strict keys, typed values, sources and precedence, secrets never echoed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter import config
from exporter.errors import ConfigError

pytestmark = pytest.mark.nodb


def write(tmp_path, text: str) -> str:
    path = tmp_path / "config.yml"
    path.write_text(text)
    return str(path)


def test_defaults_without_anything():
    cfg = config.load({}, None, environ={})
    assert cfg.database.url is None
    assert cfg.database.db_schema == "public"
    assert cfg.web.listen_address == ":9733"
    assert cfg.refresh.interval == 30.0
    assert cfg.database.statement_timeout == 30.0


def test_file_values_and_durations(tmp_path):
    path = write(tmp_path, "database:\n  schema: litellm\n  statement_timeout: 1500ms\nrefresh:\n  interval: 2m\n")
    cfg = config.load({}, path, environ={})
    assert cfg.database.db_schema == "litellm"
    assert cfg.database.statement_timeout == 1.5
    assert cfg.refresh.interval == 120.0


def test_precedence_flag_over_env_over_file(tmp_path):
    path = write(tmp_path, "web:\n  listen_address: 127.0.0.1:1111\n")
    env = {"LITELLM_EXPORTER_WEB_LISTEN_ADDRESS": "127.0.0.1:2222"}
    assert config.load({}, path, environ={}).web.listen_address == "127.0.0.1:1111"
    assert config.load({}, path, environ=env).web.listen_address == "127.0.0.1:2222"
    flags = {("web", "listen_address"): "127.0.0.1:3333"}
    assert config.load(flags, path, environ=env).web.listen_address == "127.0.0.1:3333"


def test_database_url_falls_back_to_litellm_variable():
    cfg = config.load({}, None, environ={"DATABASE_URL": "postgresql://u:p@h/db"})
    assert cfg.database.url.get_secret_value() == "postgresql://u:p@h/db"
    own = config.load(
        {}, None, environ={"DATABASE_URL": "postgresql://a@h/x", "LITELLM_EXPORTER_DATABASE_URL": "postgresql://b@h/y"}
    )
    assert own.database.url.get_secret_value() == "postgresql://b@h/y"
    assert "p@h" not in repr(cfg) and "p@h" not in str(cfg.database)


def test_database_schema_follows_litellm_variable():
    assert config.load({}, None, environ={"DATABASE_SCHEMA": "llm"}).database.db_schema == "llm"


PRISMA_URL = "postgresql://u:p@h/db?schema=litellm&connection_limit=10&pool_timeout=60"


def test_database_schema_from_a_prisma_url(tmp_path):
    assert config.load({}, None, environ={"DATABASE_URL": PRISMA_URL}).database.db_schema == "litellm"
    assert (
        config.load(
            {}, None, environ={"DATABASE_URL": PRISMA_URL.replace("schema=litellm", "schema=")}
        ).database.db_schema
        == "public"
    )
    # an explicit setting wins, even when it is the default
    assert (
        config.load({}, None, environ={"DATABASE_URL": PRISMA_URL, "DATABASE_SCHEMA": "public"}).database.db_schema
        == "public"
    )
    assert (
        config.load({("database", "schema"): "other"}, None, environ={"DATABASE_URL": PRISMA_URL}).database.db_schema
        == "other"
    )
    path = write(tmp_path, f"database:\n  url: {PRISMA_URL}\n  schema: public\n")
    assert config.load({}, path, environ={}).database.db_schema == "public"
    with pytest.raises(
        ConfigError,
        match=r"database.schema: .*\[from the schema= argument of the database URL "
        r"\(environment variable DATABASE_URL\)\]",
    ):
        config.load({}, None, environ={"DATABASE_URL": PRISMA_URL.replace("litellm", "x" * 64)})


def test_config_file_from_environment(tmp_path):
    path = write(tmp_path, "log:\n  level: debug\n")
    assert config.load({}, None, environ={"LITELLM_EXPORTER_CONFIG_FILE": path}).log.level == "debug"


def test_unknown_key_names_path_and_allowed_keys(tmp_path):
    path = write(tmp_path, "database:\n  urll: x\n")
    with pytest.raises(ConfigError) as err:
        config.load({}, path, environ={})
    msg = str(err.value)
    assert "unknown key 'database.urll'" in msg
    assert "url" in msg and "statement_timeout" in msg and str(path) in msg


def test_unknown_section(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'datbase'"):
        config.load({}, write(tmp_path, "datbase: {}\n"), environ={})


def test_wrong_type_names_key_and_expectation(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load({}, write(tmp_path, "refresh:\n  interval: often\n"), environ={})
    assert "refresh.interval" in str(err.value) and "duration" in str(err.value)


def test_wrong_type_from_env_names_the_variable():
    with pytest.raises(ConfigError, match="LITELLM_EXPORTER_LOG_FORMAT"):
        config.load({}, None, environ={"LITELLM_EXPORTER_LOG_FORMAT": "xml"})


def test_section_of_wrong_type(tmp_path):
    with pytest.raises(ConfigError, match="database"):
        config.load({}, write(tmp_path, "database: 5\n"), environ={})


def test_malformed_yaml_names_line(tmp_path):
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+, column \d+"):
        config.load({}, write(tmp_path, "database:\n  url: [unclosed\n"), environ={})


def test_top_level_must_be_mapping(tmp_path):
    with pytest.raises(ConfigError, match="mapping"):
        config.load({}, write(tmp_path, "- a\n- b\n"), environ={})


def test_missing_file():
    with pytest.raises(ConfigError, match="does not exist"):
        config.load({}, "/nonexistent/config.yml", environ={})


def test_invalid_url_value_is_not_echoed(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.load({}, write(tmp_path, "database:\n  url: 12345\n  schema: ''\n"), environ={})
    assert "12345" not in str(err.value)


@pytest.mark.parametrize(
    "value,seconds", [("30s", 30), ("500ms", 0.5), ("5m", 300), ("1h", 3600), (7, 7), ("2d", 172800), ("1.5s", 1.5)]
)
def test_durations(value, seconds):
    assert config.parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "abc", "-1s", "1y", None, True, [], "nan"])
def test_bad_durations(value):
    with pytest.raises(ValueError):
        config.parse_duration(value)


@pytest.mark.parametrize("addr", [":9733", "127.0.0.1:0", "[::1]:9733", "0.0.0.0:65535"])
def test_listen_addresses(addr):
    config.parse_listen_address(addr)


@pytest.mark.parametrize("addr", ["9733", "host:", "host:99999", "host:http"])
def test_bad_listen_addresses(addr):
    with pytest.raises(ValueError):
        config.parse_listen_address(addr)


HUGE = "1" + "0" * 400
# leaves that have broken parsers before: integers too large for a float, durations past every limit
extreme = st.sampled_from(
    [
        10**400,
        -(10**400),
        HUGE,
        HUGE + "ms",
        HUGE + "d",
        "9" * 30 + "s",
        "24.9d",
        "25d",
        "2147483647ms",
        1e308,
        float("inf"),
        -0.0,
        2**63,
        "0",
        "",
        " ",
        "\t",
    ]
)
yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20) | extreme,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=10,
)


def section_keys(model) -> list[str]:
    return sorted(f.alias or name for name, f in model.model_fields.items())


SECTIONS = {name: section_keys(f.annotation) for name, f in config.Config.model_fields.items()}
assert set(SECTIONS) == {"database", "web", "refresh", "spend_logs", "metrics", "roles", "unsafe", "log"}
READER_KEYS = section_keys(config.ReaderConfig)
SPEC_NAMES = ["litellm_db_spend_usd_total", "litellm_db_requests_total", "litellm_db_nope"]
LABELS = ["requested_model", "user", "end_user", "team", "status", "nope"]

value = extreme | yaml_values  # as often an extreme leaf as anything else
# values shaped like each nested setting, mixed with anything
reader = st.dictionaries(st.sampled_from(READER_KEYS + ["x"]), value, max_size=4) | yaml_values
nested = {
    "roles": st.dictionaries(st.sampled_from(["exporter", "grafana", "x"]), reader | st.none(), max_size=3),
    "metrics": st.fixed_dictionaries(
        {},
        optional={
            "labels": st.dictionaries(st.sampled_from(SPEC_NAMES), st.lists(st.sampled_from(LABELS), max_size=3))
            | yaml_values,
            "limits": st.dictionaries(st.sampled_from(LABELS), st.integers() | extreme) | yaml_values,
        },
    ),
}
section = st.one_of(
    *(
        st.tuples(
            st.just(name),
            nested.get(name, st.nothing())
            | st.dictionaries(st.sampled_from(keys + ["x"]), value, max_size=4)
            | yaml_values,
        )
        for name, keys in {**SECTIONS, "other": ["x"]}.items()
    )
)
sections = st.lists(section, max_size=5).map(dict)
ENV_VARS = sorted({env for _, _, envs in config.SETTINGS for env in envs})
env_value = (
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=20)
    | extreme.map(str)
    | st.sampled_from(["true", "false", "debug", "json", ":9733", "30s", "public"])
)
environs = st.dictionaries(st.sampled_from(ENV_VARS), env_value, max_size=5)


@settings(max_examples=400, deadline=None, database=None)  # no .hypothesis directory left behind
@given(sections, environs)
def test_any_mapping_gives_a_config_or_a_clean_error(data, environ):
    """Whatever the file (every section and key, nested ones included) and the environment hold, the loader
    returns a Config or raises ConfigError with one line: never another exception. Temp files are removed."""
    import os
    import tempfile

    import yaml

    with tempfile.TemporaryDirectory(prefix="lse-config-") as tmp:
        path = os.path.join(tmp, "config.yml")
        with open(path, "w", encoding="utf-8") as f:
            yaml.safe_dump(data, f)
        try:
            cfg = config.load({}, path, environ=environ)
        except ConfigError as exc:
            assert str(exc) and "\n" not in str(exc)
        else:
            for name in ("statement_timeout", "lock_timeout"):  # what reaches PostgreSQL is in its range
                assert 0 <= config.postgres_milliseconds(getattr(cfg.database, name)) < config.POSTGRES_MAX_MS
    assert not os.path.exists(tmp)


@pytest.mark.parametrize("value", [10**400, HUGE, HUGE + "s", "9" * 30 + "d", "367d"])
@pytest.mark.parametrize(
    "key",
    [
        "database.statement_timeout",
        "database.connect_timeout",
        "refresh.interval",
        "spend_logs.overlap",
        "roles.exporter.statement_timeout",
    ],
)
def test_huge_durations_are_config_errors(tmp_path, key, value):
    parts = key.split(".")
    data: dict = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        data = {part: data}
    if parts[0] == "roles":
        data["roles"]["exporter"]["name"] = "litellm_spend_exporter"
    import yaml

    path = write(tmp_path, yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=f"invalid value for {key}: expected a duration of at most 366d"):
        config.load({}, path, environ={})


@pytest.mark.parametrize(
    "key,flag", [("statement_timeout", "--database.statement-timeout"), ("lock_timeout", "--database.lock-timeout")]
)
def test_postgres_timeouts_stay_below_postgres_limit(key, flag):
    ok = config.load({("database", key): "2147483646ms"}, None, environ={})
    assert getattr(ok.database, key) == pytest.approx(2147483.646)
    for value in ("2147483647ms", "25d", "366d"):
        with pytest.raises(
            ConfigError,
            match=f"database.{key}: must be below 2147483647ms "
            rf"\(PostgreSQL's limit.*\[from flag {flag}\]",
        ):
            config.load({("database", key): value}, None, environ={})
