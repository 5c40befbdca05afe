"""The API's JSON parser: bounded in size and in nesting depth.

Python's `json` recurses once per `[` or `{`: a body of 100,000 `[` ends in a
RecursionError (a 500). Before decoding, the brackets outside strings are counted; a
body nested deeper than `JSON_MAX_DEPTH` is a 400 in the error shape. A body larger than
`DATA_UPLOAD_MAX_MEMORY_SIZE` (Django's own limit, 2.5 MB by default) is a 413: it is
read up to the limit and no further.
"""

import codecs
import re

from django.conf import settings
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json

JSON_MAX_DEPTH = 32
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


def max_body_size() -> int | None:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def read_bounded(stream, limit: int | None) -> bytes:
    """The whole body, or PayloadTooLarge as soon as it passes `limit` bytes."""
    if stream is None:
        return b""
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"The request body is larger than {limit} bytes.")
    return body


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (brackets inside strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class JSONParser(DRFJSONParser):
    """DRF's JSON parser with a size limit (413) and a nesting limit (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        body = read_bounded(stream, max_body_size())
        try:
            text = codecs.decode(body, encoding)
        except (LookupError, UnicodeError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if json_depth(text) > JSON_MAX_DEPTH:
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {JSON_MAX_DEPTH} levels."
            )
        try:
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            return json.loads(text, parse_constant=parse_constant)
        except (ValueError, RecursionError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
