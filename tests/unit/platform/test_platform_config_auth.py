"""Configuration refusals and JWT checks (no servers needed)."""

from __future__ import annotations

import time

import jwt
import pytest

from gongyi.config import DEV_JWT_SECRET, ConfigError, load_settings
from gongyi.errors import Forbidden, Unauthorized
from gongyi.http.auth import issue_token, principal_from_header, verify_token

SECRET = "s" * 40


def test_embedded_defaults_need_no_server():
    s = load_settings({})
    assert s.embedded and s.amqp_uri.startswith("memory://")
    assert s.db_url("intake").startswith("sqlite:///") and s.db_url("intake").endswith("intake.db")
    s.check()  # the dev secret is fine in embedded mode


def test_server_mode_refuses_the_dev_secret_and_the_memory_broker():
    with pytest.raises(ConfigError, match="JWT"):
        load_settings({"GONGYI_MODE": "server", "GONGYI_AMQP_URI": "amqp://x/"}).check()
    with pytest.raises(ConfigError, match="short"):
        load_settings({"GONGYI_MODE": "server", "GONGYI_JWT_SECRET": "short", "GONGYI_AMQP_URI": "amqp://x/"}).check()
    with pytest.raises(ConfigError, match="RabbitMQ"):
        load_settings({"GONGYI_MODE": "server", "GONGYI_JWT_SECRET": SECRET}).check()
    load_settings({"GONGYI_MODE": "server", "GONGYI_JWT_SECRET": SECRET, "GONGYI_AMQP_URI": "amqp://x/"}).check()
    assert DEV_JWT_SECRET != SECRET


def test_each_service_has_its_own_database_url():
    s = load_settings({"GONGYI_REVIEW_DB_URL": "postgresql+psycopg2://u@h/review"})
    assert s.db_url("review") == "postgresql+psycopg2://u@h/review"
    assert len({s.db_url(n) for n in ("intake", "media", "review", "publish")}) == 4


def test_token_round_trip_carries_role_and_scope():
    s = load_settings({"GONGYI_JWT_SECRET": SECRET})
    p = verify_token(s, issue_token(s, "unit", "u1", unit="cac-henan"))
    assert (p.sub, p.role, p.unit) == ("u1", "unit", "cac-henan")
    p.require("unit", "staff")
    with pytest.raises(Forbidden):
        p.require("staff")


@pytest.mark.parametrize(
    "mutate, code",
    [
        (lambda s, c: jwt.encode({**c, "exp": int(time.time()) - 5}, SECRET, "HS256", headers={"kid": "dev"}),
         "token_expired"),
        (lambda s, c: jwt.encode({**c, "aud": "other"}, SECRET, "HS256", headers={"kid": "dev"}), "invalid_token"),
        (lambda s, c: jwt.encode({**c, "iss": "evil"}, SECRET, "HS256", headers={"kid": "dev"}), "invalid_token"),
        (lambda s, c: jwt.encode(c, "another-secret-" + "y" * 30, "HS256", headers={"kid": "dev"}), "invalid_token"),
        (lambda s, c: jwt.encode(c, None, "none", headers={"kid": "dev"}), "invalid_token"),
        (lambda s, c: jwt.encode(c, SECRET, "HS512", headers={"kid": "dev"}), "invalid_token"),
        (lambda s, c: jwt.encode(c, SECRET, "HS256", headers={"kid": "unknown"}), "invalid_token"),
        (lambda s, c: jwt.encode({**c, "role": "admin"}, SECRET, "HS256", headers={"kid": "dev"}), "invalid_token"),
    ],
)
def test_tokens_that_must_be_refused(mutate, code):
    s = load_settings({"GONGYI_JWT_SECRET": SECRET})
    now = int(time.time())
    claims = {"sub": "x", "role": "staff", "iss": s.jwt_issuer, "aud": s.jwt_audience, "iat": now, "exp": now + 60}
    with pytest.raises(Unauthorized) as err:
        verify_token(s, mutate(s, claims))
    assert err.value.code == code


def test_missing_bearer_header_is_refused():
    s = load_settings({"GONGYI_JWT_SECRET": SECRET})
    with pytest.raises(Unauthorized) as err:
        principal_from_header(s, None)
    assert err.value.code == "missing_token" and err.value.status == 401


def test_previous_key_still_verifies_during_rotation():
    old = load_settings({"GONGYI_JWT_SECRET": SECRET, "GONGYI_JWT_KEY_ID": "k1"})
    token = issue_token(old, "staff", "s")
    new = load_settings({"GONGYI_JWT_SECRET": "n" * 40, "GONGYI_JWT_KEY_ID": "k2"})
    with pytest.raises(Unauthorized):
        verify_token(new, token)
    rotating = load_settings({"GONGYI_JWT_SECRET": "n" * 40, "GONGYI_JWT_KEY_ID": "k2",
                              "GONGYI_JWT_PREVIOUS": f"k1:{SECRET}"})
    assert verify_token(rotating, token).sub == "s"


def test_json_log_lines_carry_the_bound_correlation_id():
    import json
    import logging

    from gongyi import logging as glog

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "submitted %s", ("a1",), None)
    glog.bind("intake", "corr-42")
    try:
        line = json.loads(glog.JsonFormatter().format(record))
    finally:
        glog.unbind()
    assert line["message"] == "submitted a1"
    assert line["service"] == "intake" and line["correlation_id"] == "corr-42"
    assert "correlation_id" not in json.loads(glog.JsonFormatter().format(record))
