"""Filters for the users list: age (as date-of-birth ranges), verification, role."""

from django import forms
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.ages import birth_date_range
from accounts.models import User
from accounts.roles import Role
from accounts.selectors import role_filter_q


@extend_schema_field(OpenApiTypes.INT)
class AgeFilter(filters.Filter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 150)
        super().__init__(*args, **kwargs)


class UserFilter(filters.FilterSet):
    """`age` is never stored: `?age=30` becomes "born after today-31y, on or before
    today-30y" (see `accounts.ages` for the 29 February rule). Users without a date
    of birth match no age filter."""

    age = AgeFilter(method="filter_age", label="Age in whole years today")
    age__gte = AgeFilter(method="filter_age", label="At least this age")
    age__lte = AgeFilter(method="filter_age", label="At most this age")
    is_verified = filters.BooleanFilter()
    is_active = filters.BooleanFilter()
    role = filters.ChoiceFilter(choices=Role.choices, method="filter_role")

    class Meta:
        model = User
        fields = []

    def filter_age(self, queryset, name, value):
        bounds = {
            "age": {"age_min": value, "age_max": value},
            "age__gte": {"age_min": value, "age_max": None},
            "age__lte": {"age_min": None, "age_max": value},
        }[name]
        earliest, latest = birth_date_range(**bounds, today=timezone.localdate())
        queryset = queryset.filter(date_of_birth__isnull=False)
        if earliest is not None:
            queryset = queryset.filter(date_of_birth__gte=earliest)
        if latest is not None:
            queryset = queryset.filter(date_of_birth__lte=latest)
        return queryset

    def filter_role(self, queryset, name, value):
        return queryset.filter(role_filter_q(Role(value))).distinct()
