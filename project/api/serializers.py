"""Output serializers at a list's scale: DRF's result, without its per-field overhead.

DRF's `Serializer.to_representation` asks every field to find its attribute
(`get_attribute`: source walking, callable checks, relation PK wrappers) and then to
format it. For plain columns that lookup is one `getattr`; `FastOutputMixin` plans,
once per serializer instance, which fields are such plain columns and reads those
directly, formatting them with the field's own `to_representation` (decimals that
already carry the field's scale, as database values do, are formatted without the
quantize round trip). Every other field (nested serializers, method fields, `source="*"`,
dotted sources) goes through DRF exactly as before. The output is the same, field for
field and in the same order (`project/tests/test_fast_output.py` compares the two).

On the invoice list (50 invoices, 250 lines) this halves the time spent serializing
(`bench/bench_records.py`).
"""

from collections.abc import Mapping
from decimal import Decimal

from rest_framework import fields as drf_fields
from rest_framework import relations
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

# Fields whose `get_attribute` is DRF's plain source lookup and whose `to_representation`
# depends only on the value (exact types: a subclass may change either).
_PLAIN = {
    drf_fields.BooleanField, drf_fields.CharField, drf_fields.ChoiceField,
    drf_fields.DateField, drf_fields.DateTimeField, drf_fields.DecimalField,
    drf_fields.EmailField, drf_fields.FloatField, drf_fields.IntegerField,
    drf_fields.JSONField, drf_fields.ReadOnlyField, drf_fields.UUIDField,
    drf_fields.URLField, drf_fields.SlugField,
}  # fmt: skip

_GENERIC, _COLUMN, _PK = 0, 1, 2


def _decimal_formatter(field):
    """`field.to_representation`, short-cut for a Decimal already at the field's scale
    (quantizing it would change nothing)."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    places, digits = field.decimal_places, field.max_digits
    if not coerce or field.localize or field.normalize_output or not places or not digits:
        return field.to_representation
    slow = field.to_representation

    def to_representation(value):
        if type(value) is Decimal:
            text = f"{value:f}"
            # Exactly `places` decimals, and (counting a sign and a leading zero as digits,
            # which only errs towards the slow path) no more than `max_digits` digits.
            if text.find(".") == len(text) - places - 1 and len(text) - 1 <= digits:
                return text
        return slow(value)

    return to_representation


def _step(serializer, field):
    """How to produce one field: (kind, output name, attribute, formatter)."""
    attrs = field.source_attrs
    if type(field) in _PLAIN and len(attrs) == 1:
        if type(field) is drf_fields.DecimalField:
            return (_COLUMN, field.field_name, attrs[0], _decimal_formatter(field))
        return (_COLUMN, field.field_name, attrs[0], field.to_representation)
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if (
        type(field) is relations.PrimaryKeyRelatedField
        and field.pk_field is None
        and len(attrs) == 1
        and model is not None
    ):
        model_field = next((f for f in model._meta.concrete_fields if f.name == attrs[0]), None)
        if model_field is not None and model_field.is_relation:
            # DRF reads `instance.serializable_value(name)`, i.e. the `<name>_id` column.
            return (_PK, field.field_name, model_field.attname, None)
    return (_GENERIC, field.field_name, None, field)


class FastOutputMixin:
    """Put before `serializers.Serializer` / `ModelSerializer` of an output serializer."""

    def _output_plan(self):
        plan = self.__dict__.get("_fast_output_plan")
        if plan is None:
            plan = [_step(self, f) for f in self.fields.values() if not f.write_only]
            self.__dict__["_fast_output_plan"] = plan
        return plan

    def to_representation(self, instance):
        ret = {}
        mapping = isinstance(instance, Mapping)
        for kind, name, attr, handler in self._output_plan():
            if kind == _COLUMN and not mapping:
                try:
                    value = getattr(instance, attr)
                except AttributeError:
                    value = handler = None  # let DRF decide (default, SkipField, error)
                if handler is not None and not callable(value):
                    ret[name] = None if value is None else handler(value)
                    continue
            elif kind == _COLUMN and attr in instance:
                value = instance[attr]
                if not callable(value):
                    ret[name] = None if value is None else handler(value)
                    continue
            elif kind == _PK and not mapping:
                ret[name] = getattr(instance, attr)
                continue
            field = self.fields[name]
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check is None else field.to_representation(attribute)
        return ret
