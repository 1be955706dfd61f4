"""`decode_body`: a JSON body decoded into a contract Struct, and the 400 naming the first wrong
field in the Struct's order, with the Struct's own message for it."""

from __future__ import annotations

import asyncio
from typing import Annotated, ClassVar

import msgspec
import orjson
import pytest
from starlette.requests import Request

from postmetric.web.errors import HttpError
from postmetric.web.bodies import decode_body
from postmetric.web.contract.accounts import SignupBody
from postmetric.web.contract.goals import FunnelBody


def decode(body: object, shape):
    """`decode_body` on a request carrying `body` as JSON."""
    raw = orjson.dumps(body)

    async def receive():
        return {"type": "http.request", "body": raw, "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": [(b"content-length", str(len(raw)).encode())]},
                      receive)
    return asyncio.run(decode_body(request, shape))


def refusal(body: object, shape) -> str:
    with pytest.raises(HttpError) as raised:
        decode(body, shape)
    assert raised.value.status == 400
    return raised.value.message


def test_a_valid_body_is_the_struct_and_unknown_fields_are_ignored():
    body = decode({"email": "ada@example.com", "password": "long enough", "colour": "red"}, SignupBody)
    assert body == SignupBody(email="ada@example.com", password="long enough", invitation=None)


@pytest.mark.parametrize(("body", "message"), [
    ({}, "email: is required"),
    ({"password": 5}, "email: is required"),  # the first field in the Struct's order, not the body's
    ({"password": 5, "email": "ada@example.com"}, "password: is required"),
    ({"email": "", "password": "x"}, "email: is required"),
    ({"email": "a@b.c", "password": "x", "invitation": 7}, "invitation: must be the token of the invitation link"),
])
def test_the_first_wrong_field_gets_the_structs_message(body, message):
    assert refusal(body, SignupBody) == message


def test_without_a_message_the_field_and_msgspecs_words_are_said_with_the_path_inside_it():
    assert refusal({"name": "Signup"}, FunnelBody) == "steps: is required"
    assert refusal({"name": "Signup", "steps": [{"type": "page", "match": 5}]}, FunnelBody) == (
        "steps[0].match: expected `str`, got `int`")


def test_an_unknown_field_of_a_closed_struct_is_named():
    class Closed(msgspec.Struct, forbid_unknown_fields=True):
        name: Annotated[str, msgspec.Meta(min_length=1)]
        MESSAGES: ClassVar[dict[str, str]] = {}

    assert refusal({"name": "x", "colour": "red"}, Closed) == "body: object contains unknown field `colour`"


def test_not_an_object_is_refused_before_decoding():
    assert refusal(["email"], SignupBody) == "body: must be a JSON object"
