"""django-filter's DRF backend, without building a FilterSet for a request that filters
on nothing.

`DjangoFilterBackend` builds the view's FilterSet on every request: a deep copy of every
filter, a form with a field per filter, the form's validation, then each filter called
with its (empty) value, which hands the queryset back unchanged. On a list request that
names none of the filters (`?page_size=50`, a cursor, `?search=`, `?ordering=`) that is
all work for nothing (about 0.3 ms on the invoice list, `bench/bench_records.py`).

`FilterBackend` skips it exactly when the result cannot differ: no query parameter names
a filter (its name, or `name_<suffix>` as range and multi-value widgets send), no filter
is required, every filter is one of django-filter's own (each returns the queryset as
is for an empty value) or a `method=` filter (django-filter skips those on empty values
too), and the FilterSet keeps django-filter's own form and filtering. Anything else
goes through django-filter as before.
"""

from django import forms
from django_filters import filters as df_filters
from django_filters import filterset as df_filterset
from django_filters.rest_framework import DjangoFilterBackend

_OWN_FILTER_MODULES = {df_filters.__name__, "django_filters.rest_framework.filters"}
_skippable: dict[type, tuple[str, ...] | None] = {}


def _empty_request_names(filterset_class) -> tuple[str, ...] | None:
    """The filter names, when a request naming none of them cannot change the
    queryset; None when the FilterSet must always run."""
    if (
        filterset_class.filter_queryset is not df_filterset.BaseFilterSet.filter_queryset
        or filterset_class.qs is not df_filterset.BaseFilterSet.qs
        or filterset_class.get_form_class is not df_filterset.BaseFilterSet.get_form_class
        or filterset_class._meta.form is not forms.Form
    ):
        return None
    names = []
    for name, flt in filterset_class.base_filters.items():
        own = type(flt).__module__ in _OWN_FILTER_MODULES or flt.method is not None
        if not own or flt.extra.get("required"):
            return None
        names.append(name)
    return tuple(names)


def _names_any(params, names: tuple[str, ...]) -> bool:
    for key in params:
        for name in names:
            if key == name or key.startswith(f"{name}_"):
                return True
    return False


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if filterset_class is getattr(view, "filterset_class", None):  # a lasting class
            if filterset_class not in _skippable:
                _skippable[filterset_class] = _empty_request_names(filterset_class)
            names = _skippable[filterset_class]
        else:  # made for this request from `filterset_fields`
            names = _empty_request_names(filterset_class)
        if names is not None and not _names_any(request.query_params, names):
            return queryset
        return super().filter_queryset(request, queryset, view)
