"""Passwords must be hard to guess: judged by zxcvbn, refused with its advice in the reader's
language."""

from __future__ import annotations

import ast
import inspect

import httpx
import pytest
import zxcvbn.feedback

from app import i18n
from app.models import Language
from app.services.passwords import FEEDBACK_KEYS

EMAIL = "somchai.jaidee@example.org"
NAME = "Somchai Jaidee"


def _register(password: str) -> dict[str, str]:
    return {"email": EMAIL, "password": password, "display_name": NAME}


@pytest.mark.parametrize(
    "password",
    [
        "12345678",
        "password1",
        "password1234",
        "qwertyuiop",
        "abcabcabcabc",
        "iloveyou2024",
        EMAIL,
        "somchai.jaidee",
        "Somchai Jaidee 1",
    ],
)
async def test_a_guessable_password_is_refused_with_advice(
    client: httpx.AsyncClient, password: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register", json=_register(password), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["errors"]
    assert problem["location"] == "body.password"
    assert problem["code"] == "weak_password"
    assert problem["message"].startswith("This password is too easy to guess.")


@pytest.mark.parametrize(
    "password", ["correct horse battery staple", "Tr0ub4dor&3", "มะม่วงหิมพานต์ริมคลองแสนแสบ"]
)
async def test_a_hard_password_is_taken(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post("/api/v1/auth/register", json=_register(password))
    assert response.status_code < 300, response.text


async def test_the_advice_is_in_thai_for_a_thai_reader(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json=_register("12345678"), headers={"Accept-Language": "th"}
    )
    message = response.json()["errors"][0]["message"]
    expected = " ".join(
        i18n.t(f"password.feedback.{key}", Language.th) for key in ("top_10", "add_words")
    )
    assert message == f"รหัสผ่านนี้เดาได้ง่ายเกินไป {expected}"


async def test_staff_passwords_are_judged_too(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=admin_headers,
        json={
            "email": "admin2@example.org",
            "password": "password1",
            "display_name": "A",
            "role": "admin",
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "weak_password"


def test_every_sentence_zxcvbn_can_say_is_translated() -> None:
    """zxcvbn's sentences are read from its source: a new one in an upgrade fails here."""
    said = {
        node.args[0].value
        for node in ast.walk(ast.parse(inspect.getsource(zxcvbn.feedback)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and isinstance(node.args[0], ast.Constant)
    }
    assert said == set(FEEDBACK_KEYS)
    assert all(i18n.has(f"password.feedback.{key}") for key in FEEDBACK_KEYS.values())
