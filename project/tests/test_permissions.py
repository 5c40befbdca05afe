"""`ModelPermissions` reads the model from a view's class-level `queryset`: every API view
that declares one must name the model its `get_queryset` returns rows of."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIRequestFactory, force_authenticate

from accounts.tests.factories import UserFactory
from project.api.permissions import ModelPermissions

pytestmark = pytest.mark.django_db


def _views(patterns=None):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield pattern.callback


def _model_permission_views():
    seen = set()
    for callback in _views():
        cls = callback.cls
        actions = getattr(callback, "actions", None) or {"get": None}
        for method, action in actions.items():
            view = cls(**callback.initkwargs)
            view.action = action
            handler = getattr(view, action, None) if action else None
            permission_classes = getattr(handler, "kwargs", {}).get(
                "permission_classes", view.permission_classes
            )
            if not any(issubclass(p, ModelPermissions) for p in permission_classes):
                continue
            if (cls, action) not in seen:
                seen.add((cls, action))
                yield cls, callback.initkwargs, getattr(callback, "actions", None), method, action


def test_every_declared_queryset_names_the_model_of_get_queryset():
    admin = UserFactory(role="administrator")
    factory = APIRequestFactory()
    checked = 0
    for cls, initkwargs, actions, method, action in _model_permission_views():
        if getattr(cls, "queryset", None) is None:
            continue
        request = factory.generic(method.upper(), "/")
        force_authenticate(request, user=admin)
        view = cls(**initkwargs)
        view.action = action
        if actions:
            view.action_map = actions
        view.kwargs = {}
        view.format_kwarg = None
        view.request = view.initialize_request(request)
        assert view.get_queryset().model is cls.queryset.model, (cls.__name__, action)
        checked += 1
    assert checked >= 5  # users, contacts, products, tax rates, invoices, connections...
