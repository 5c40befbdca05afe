"""The shared API plumbing of `project.api`: strict input, If-Match parsing."""

import pytest
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from project.api.serializers import StrictInputSerializer
from project.api.views import expected_version
from project.errors import StaleVersion


class NameInput(StrictInputSerializer):
    name = serializers.CharField()


class KnownNameInput(NameInput):
    known_field_names = frozenset({"id", "name"})


def test_strict_input_names_every_key_it_does_not_accept():
    serializer = NameInput(data={"name": "A", "id": "x", "extra": 1})

    assert not serializer.is_valid()
    assert serializer.errors == {"id": ["Unknown field."], "extra": ["Unknown field."]}


def test_strict_input_calls_the_resource_s_own_fields_read_only():
    serializer = KnownNameInput(data={"id": "x", "extra": 1})

    assert not serializer.is_valid()
    assert serializer.errors == {
        "id": ["This field is read-only."],
        "extra": ["Unknown field."],
        "name": ["This field is required."],
    }


@pytest.mark.parametrize(
    ("header", "version"), [(None, None), ("*", None), ("3", 3), ('"3"', 3), ('W/"3"', 3)]
)
def test_if_match_names_a_version(header, version):
    headers = {} if header is None else {"HTTP_IF_MATCH": header}
    request = APIRequestFactory().patch("/", **headers)

    assert expected_version(request) == version


@pytest.mark.parametrize("header", ["garbage", '"-1"', "W/x"])
def test_if_match_without_a_version_matches_no_row(header):
    request = APIRequestFactory().patch("/", HTTP_IF_MATCH=header)

    with pytest.raises(StaleVersion):
        expected_version(request)
