"""The API's filter backend: django-filter's, with datetimes bounded for the database.

Python accepts UTC offsets up to 24 hours and PostgreSQL only up to 15:59, so
`?created_after=2020-01-01T00:00:00+16:00` reached the database and failed there (a 500).
Every date and datetime filter of every FilterSet gets `validate_filter_datetime`: an
offset beyond ±15:59 or a moment outside the years 1..9999 in UTC is a 400 naming the
parameter.
"""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django_filters.rest_framework import DjangoFilterBackend

MAX_UTC_OFFSET = dt.timedelta(hours=15, minutes=59)


def validate_filter_datetime(value) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        return
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise ValidationError("The UTC offset must be between -15:59 and +15:59.")
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError("The date is out of range.") from None


class FilterBackend(DjangoFilterBackend):
    """`DjangoFilterBackend` whose datetime filters refuse what the database cannot take."""

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            for field in filterset.form.fields.values():
                if isinstance(field, forms.DateTimeField):
                    field.validators.append(validate_filter_datetime)
        return filterset
