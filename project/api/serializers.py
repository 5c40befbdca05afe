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

On the invoice list (50 invoices with their lines) it takes about a third off the
request's CPU time at p50 (`bench/compare_output.py`; figures in bench/README.md).

The plan is made once per serializer class, not per instance, when the class builds
its fields the standard way (no `__init__`, `get_fields` or `fields` of its own: its
fields then depend on its declaration and model only). DRF builds `serializer.fields`
for every instance, which on the invoice list is about half a millisecond per request
(the invoice's 24 fields from model introspection, and each nested serializer's);
with a class plan an output serializer never builds them. Nested output serializers
(`lines = LineSerializer(many=True)`, `accounting = X(source="*")`) and
`SerializerMethodField`s are planned too: a nested serializer is copied from the class
declaration and bound to this instance when first used, as DRF's `fields` would, so
its `context` and `root` are this serializer's. Decimal strings already in canonical
form at the field's scale (JSON rows such as `tax_breakdown`) skip the quantize round
trip as database decimals do. The class plans are dropped when settings change
(tests), as DRF reloads its own.
"""

import copy
import re
from collections.abc import Mapping
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.core.signals import setting_changed
from django.db.models.manager import BaseManager
from rest_framework import fields as drf_fields
from rest_framework import relations
from rest_framework import serializers as drf_serializers
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

_GENERIC, _COLUMN, _PK, _METHOD, _NESTED, _MANY = 0, 1, 2, 3, 4, 5

# Serializer classes whose fields depend only on their declaration (and model).
_STANDARD_GET_FIELDS = {drf_serializers.Serializer.get_fields,
                        drf_serializers.ModelSerializer.get_fields}  # fmt: skip
_STANDARD_FIELDS = drf_serializers.Serializer.__dict__["fields"]
_CLASS_PLANS: dict[type, list] = {}


def _clear_class_plans(**kwargs):
    _CLASS_PLANS.clear()


setting_changed.connect(_clear_class_plans)


def _decimal_formatter(field):
    """`field.to_representation`, short-cut for a Decimal already at the field's scale
    (quantizing it would change nothing)."""
    coerce = getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING)
    places, digits = field.decimal_places, field.max_digits
    if not coerce or field.localize or field.normalize_output or not places or not digits:
        return field.to_representation
    slow = field.to_representation
    # Text DRF would print unchanged: ASCII digits, no leading zeros, `places` decimals.
    canonical = re.compile(rf"-?(?:0|[1-9][0-9]*)\.[0-9]{{{places}}}").fullmatch

    def to_representation(value):
        kind = type(value)
        if kind is Decimal:
            text = f"{value:f}"
            # Exactly `places` decimals, and (counting a sign and a leading zero as digits,
            # which only errs towards the slow path) no more than `max_digits` digits.
            if text.find(".") == len(text) - places - 1 and len(text) - 1 <= digits:
                return text
        elif kind is str and len(value) - 1 <= digits and canonical(value):
            return value  # what Decimal(value), quantized and printed, gives back
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
    declared = type(serializer)._declared_fields.get(field.field_name)
    if type(field) is drf_fields.SerializerMethodField:
        return (_METHOD, field.field_name, field.method_name, None)
    if declared is not None and len(attrs) <= 1:
        # A nested output serializer: copied from the declaration and bound when used.
        if type(field) is drf_serializers.ListSerializer and _class_planned(type(field.child)):
            return (_MANY, field.field_name, attrs[0] if attrs else None, declared)
        if _class_planned(type(field)):
            return (_NESTED, field.field_name, attrs[0] if attrs else None, declared)
    return (_GENERIC, field.field_name, None, field)


def _class_planned(cls) -> bool:
    """Whether `cls` is a FastOutputMixin serializer whose fields depend only on its
    declaration: then one plan serves every instance."""
    return (
        issubclass(cls, FastOutputMixin)
        and cls.__init__ is drf_serializers.BaseSerializer.__init__
        and cls.get_fields in _STANDARD_GET_FIELDS
        and getattr(cls, "fields", None) is _STANDARD_FIELDS
    )


def _read(instance, attr):
    """`getattr` as DRF's plain lookup, or `_GENERIC` to leave the field to DRF."""
    if attr is None:
        return instance  # source="*"
    if isinstance(instance, Mapping):
        return _GENERIC
    try:
        value = getattr(instance, attr)
    except (AttributeError, ObjectDoesNotExist):
        return _GENERIC  # defaults, SkipField, None and errors: DRF decides
    return value


class FastOutputMixin:
    """Put before `serializers.Serializer` / `ModelSerializer` of an output serializer."""

    def _output_plan(self):
        plan = self.__dict__.get("_fast_output_plan")
        if plan is None:
            cls = type(self)
            if _class_planned(cls):
                plan = _CLASS_PLANS.get(cls)
                if plan is None:
                    prototype = cls()
                    plan = [_step(prototype, f) for f in prototype.fields.values()
                            if not f.write_only]  # fmt: skip
                    _CLASS_PLANS[cls] = plan
            else:
                plan = [_step(self, f) for f in self.fields.values() if not f.write_only]
            self.__dict__["_fast_output_plan"] = plan
        return plan

    def _nested(self, name, declared):
        """The nested serializer `name`, bound to this one (made once per instance)."""
        nested = self.__dict__.setdefault("_fast_output_nested", {})
        field = nested.get(name)
        if field is None:
            field = nested[name] = copy.deepcopy(declared)
            field.bind(name, self)
        return field

    def to_representation(self, instance):
        ret = {}
        mapping = isinstance(instance, Mapping)
        for kind, name, attr, handler in self._output_plan():
            if kind == _COLUMN:
                if not mapping:
                    try:
                        value = getattr(instance, attr)
                    except AttributeError:
                        value = None  # let DRF decide (default, SkipField, error)
                    else:
                        if not callable(value):
                            ret[name] = None if value is None else handler(value)
                            continue
                elif attr in instance:
                    value = instance[attr]
                    if not callable(value):
                        ret[name] = None if value is None else handler(value)
                        continue
            elif kind == _PK and not mapping:
                ret[name] = getattr(instance, attr)
                continue
            elif kind == _METHOD:
                ret[name] = getattr(self, attr)(instance)
                continue
            elif kind == _MANY:
                value = _read(instance, attr)
                if isinstance(value, BaseManager):
                    value = value.all()
                elif not isinstance(value, list | tuple):
                    value = _GENERIC
                if value is not _GENERIC:
                    child = self._nested(name, handler).child
                    ret[name] = [child.to_representation(item) for item in value]
                    continue
            elif kind == _NESTED:
                value = _read(instance, attr)
                if value is None:
                    ret[name] = None
                    continue
                if value is not _GENERIC and not callable(value):
                    ret[name] = self._nested(name, handler).to_representation(value)
                    continue
            field = self.fields[name]
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check is None else field.to_representation(attribute)
        return ret


class StrictInputSerializer(drf_serializers.Serializer):
    """An input serializer that rejects keys it does not accept instead of silently
    dropping them (a 400 naming each).

    A key in `known_field_names` (the resource's own fields that are not writable here)
    gets "This field is read-only.", any other key "Unknown field.", each under its own
    name, next to the usual errors. Each app's input serializers set `known_field_names`
    to their resource's field names; by default every extra key is unknown.
    """

    known_field_names: frozenset[str] | set[str] = frozenset()

    def to_internal_value(self, data):
        extra = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            for key in data.keys() - writable:
                known = key in self.known_field_names
                extra[key] = ["This field is read-only." if known else "Unknown field."]
        try:
            value = super().to_internal_value(data)
        except drf_serializers.ValidationError as exc:
            raise drf_serializers.ValidationError({**extra, **exc.detail}) from exc
        if extra:
            raise drf_serializers.ValidationError(extra)
        return value
