"""Admin for records. Every write goes through `records.services` (via=admin), so admin
changes are validated, recomputed and recorded in the history like API changes.

A service error that model validation did not catch (a rule across fields, a state
conflict) rolls the whole change back and is shown as a message on the same page.
"""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join

from project.admin import ReadOnlyAdminMixin

from . import selectors, services
from .models import (
    ChangeRecord,
    Contact,
    Interface,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    Product,
    TaxRate,
)

ADMIN = Interface.ADMIN
HISTORY_ROWS = 50


def _messages(exc) -> list[str]:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [f"{field}: {'; '.join(msgs)}" for field, msgs in exc.message_dict.items()]
        return exc.messages
    if isinstance(exc, services.StaleVersion):
        return ["The record was changed meanwhile; reload and try again."]
    return [str(exc)]


SERVICE_ERRORS = (ValidationError, services.Conflict, services.StaleVersion)


class ServiceAdmin(admin.ModelAdmin):
    """Saves and deletes through services; shows the record's change history.

    Each subclass calls its services in `service_create(request, data)` (returns the new
    row), `service_update(request, obj, fields)` and `service_delete(request, obj)`."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except SERVICE_ERRORS as exc:  # the change form's transaction has rolled back
            for message in _messages(exc):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            if fields:
                self.service_update(request, obj, fields)
        else:
            data = {name: value for name, value in form.cleaned_data.items() if name in form.fields}
            _adopt(obj, self.service_create(request, data))

    def delete_model(self, request, obj):
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except SERVICE_ERRORS as exc:
            for message in _messages(exc):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description="history")
    def history(self, obj):
        if obj is None or obj.pk is None:
            return "-"
        rows = selectors.history_list(obj=obj)[:HISTORY_ROWS]
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (
                    f"{row.created_at:%Y-%m-%d %H:%M:%S}",
                    row.actor or "-",
                    row.get_via_display(),
                    row.get_action_display(),
                    ", ".join(f"{k}: {v[0]!r} → {v[1]!r}" for k, v in row.changes.items()),
                )
                for row in rows
            ),
        )
        return format_html(
            "<table><tr><th>when</th><th>who</th><th>via</th><th>what</th><th>changes</th></tr>"
            "{}</table>",
            body,
        )


def _adopt(target, created) -> None:
    """Make the admin's unsaved instance the row the service created (for redirects)."""
    for field in created._meta.concrete_fields:
        setattr(target, field.attname, getattr(created, field.attname))
    target._state.adding = False
    target._state.db = created._state.db


@admin.register(TaxRate)
class TaxRateAdmin(ServiceAdmin):
    list_display = ("name", "percentage", "updated_at")
    search_fields = ("name",)
    fields = ("name", "percentage", "version", "history")
    readonly_fields = ("version", "history")

    def service_create(self, request, data):
        return services.taxrate_create(**data, by=request.user, via=ADMIN)

    def service_update(self, request, obj, fields):
        services.taxrate_update(tax_rate=obj, **fields, by=request.user, via=ADMIN)

    def service_delete(self, request, obj):
        services.taxrate_delete(tax_rate=obj, by=request.user, via=ADMIN)


@admin.register(Contact)
class ContactAdmin(ServiceAdmin):
    list_display = ("customer_number", "display_name", "email", "city", "country", "created_at")
    list_filter = ("country",)
    search_fields = ("customer_number", "company_name", "first_name", "last_name", "email")
    readonly_fields = ("version", "created_at", "updated_at", "history")
    fieldsets = (
        (None, {"fields": ("customer_number", "company_name", "first_name", "last_name")}),
        ("Reach", {"fields": ("email", "phone")}),
        (
            "Address",
            {"fields": ("address_line1", "address_line2", "postal_code", "city", "country")},
        ),
        ("Registration", {"fields": ("tax_number", "chamber_of_commerce")}),
        ("Record", {"fields": ("version", "created_at", "updated_at", "history")}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.base_fields["customer_number"].required = False
        form.base_fields["customer_number"].help_text = "Leave empty to assign the next one."
        return form

    def service_create(self, request, data):
        return services.contact_create(**data, by=request.user, via=ADMIN)

    def service_update(self, request, obj, fields):
        services.contact_update(contact=obj, **fields, by=request.user, via=ADMIN)

    def service_delete(self, request, obj):
        services.contact_delete(contact=obj, by=request.user, via=ADMIN)


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    list_display = ("sku", "title", "price", "tax_rate", "is_active")
    list_filter = ("is_active", "tax_rate")
    list_select_related = ("tax_rate",)
    search_fields = ("sku", "title", "description")
    fields = ("sku", "title", "description", "price", "tax_rate", "is_active", "version", "history")
    readonly_fields = ("version", "history")

    def service_create(self, request, data):
        return services.product_create(**data, by=request.user, via=ADMIN)

    def service_update(self, request, obj, fields):
        services.product_update(product=obj, **fields, by=request.user, via=ADMIN)

    def service_delete(self, request, obj):
        services.product_delete(product=obj, by=request.user, via=ADMIN)


class InvoiceLineInline(admin.TabularInline):
    """Editable while the invoice is a draft, read-only afterwards."""

    model = InvoiceLine
    extra = 0
    fields = ("product", "description", "quantity", "unit_price", "tax_rate", "amount")
    readonly_fields = ("amount",)
    autocomplete_fields = ("product",)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("records.view_invoice")

    def has_add_permission(self, request, obj=None):
        is_draft = obj is None or obj.status == InvoiceStatus.DRAFT
        return is_draft and request.user.has_perm("records.change_invoice")

    def has_change_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.has_add_permission(request, obj)


class PaymentInline(admin.TabularInline):
    """Payments already registered are fixed; a new one can be added to an open invoice."""

    model = Payment
    fields = ("amount", "date", "method", "reference", "created_at")
    readonly_fields = ("created_at",)
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is None or obj.status != InvoiceStatus.OPEN else ("created_at",)

    def has_add_permission(self, request, obj=None):
        is_open = obj is not None and obj.status == InvoiceStatus.OPEN
        return is_open and request.user.has_perm("records.add_payment")

    def has_change_permission(self, request, obj=None):
        return False


INVOICE_TOTALS = ("subtotal", "tax_total", "total", "total_paid", "due", "breakdown")
INVOICE_RECORD = ("created_by", "finalized_at", "paid_at", "cancelled_at", "version")


@admin.register(Invoice)
class InvoiceAdmin(ServiceAdmin):
    list_display = (
        "__str__",
        "contact",
        "shown_status",
        "issue_date",
        "due_date",
        "total",
        "total_paid",
    )
    list_filter = ("status", "issue_date", "currency")
    list_select_related = ("contact",)
    search_fields = ("number", "notes", "contact__company_name", "contact__last_name")
    date_hierarchy = "issue_date"
    autocomplete_fields = ("contact",)
    inlines = [InvoiceLineInline, PaymentInline]
    actions = ["finalize_selected", "cancel_selected"]
    readonly_fields = ("number", "shown_status", *INVOICE_TOTALS, *INVOICE_RECORD, "history")
    fieldsets = (
        (None, {"fields": ("number", "shown_status", "contact", "currency")}),
        ("Dates", {"fields": ("issue_date", "due_date")}),
        ("Totals", {"fields": INVOICE_TOTALS}),
        ("Notes", {"fields": ("notes",)}),
        ("Record", {"fields": INVOICE_RECORD}),
        ("History", {"fields": ("history",)}),
    )

    def get_queryset(self, request):
        return selectors.with_effective_status(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != InvoiceStatus.DRAFT:
            return (*self.readonly_fields, "contact", "currency", "issue_date", "due_date")
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status != InvoiceStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def has_finalize_permission(self, request):
        return request.user.has_perm("records.finalize_invoice")

    def has_cancel_permission(self, request):
        return request.user.has_perm("records.cancel_invoice")

    @admin.display(description="status", ordering="status")
    def shown_status(self, obj):
        return selectors.effective_status(obj)

    @admin.display(description="due")
    def due(self, obj):
        return obj.total_due

    @admin.display(description="tax per rate")
    def breakdown(self, obj):
        return (
            format_html_join(
                "",
                "<div>{} %: {} on {}</div>",
                ((row["percentage"], row["tax"], row["base"]) for row in obj.tax_breakdown),
            )
            or "-"
        )

    def save_model(self, request, obj, form, change):
        """Nothing yet: the header and the lines are saved together in `save_related`."""

    def service_delete(self, request, obj):
        services.invoice_delete(invoice=obj, by=request.user, via=ADMIN)

    def save_related(self, request, form, formsets, change):
        """One service call for header and lines (totals recomputed, one history entry),
        then one per new payment."""
        lines_formset = next((f for f in formsets if f.model is InvoiceLine), None)
        payments_formset = next((f for f in formsets if f.model is Payment), None)
        data = form.cleaned_data
        header_fields = services.INVOICE_FIELDS
        if not change:
            header = {name: data[name] for name in services.INVOICE_FIELDS if name in data}
            created = services.invoice_create(
                **header, lines=_lines(lines_formset), by=request.user, via=ADMIN
            )
            _adopt(form.instance, created)
        else:
            fields = {name: data[name] for name in form.changed_data if name in header_fields}
            if lines_formset is not None and lines_formset.has_changed():
                fields["lines"] = _lines(lines_formset)
            if fields:
                services.invoice_update(invoice=form.instance, **fields, by=request.user, via=ADMIN)
        if payments_formset is not None:
            for payment_form in payments_formset.extra_forms:
                if payment_form.has_changed():
                    services.payment_register(
                        invoice=form.instance,
                        amount=payment_form.cleaned_data.get("amount"),
                        date=payment_form.cleaned_data.get("date"),
                        method=payment_form.cleaned_data.get("method"),
                        reference=payment_form.cleaned_data.get("reference") or "",
                        by=request.user,
                        via=ADMIN,
                    )
        for formset in formsets:  # read by the admin's change message
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    @admin.action(description="Finalize selected drafts", permissions=["finalize"])
    def finalize_selected(self, request, queryset):
        self._each(request, queryset, services.invoice_finalize, "finalized")

    @admin.action(description="Cancel selected invoices", permissions=["cancel"])
    def cancel_selected(self, request, queryset):
        self._each(request, queryset, services.invoice_cancel, "cancelled")

    def _each(self, request, queryset, service, done: str) -> None:
        count = 0
        for invoice in queryset.order_by("issue_date", "created_at"):
            try:
                service(invoice=invoice, by=request.user, via=ADMIN)
                count += 1
            except SERVICE_ERRORS as exc:
                self.message_user(request, f"{invoice}: {' '.join(_messages(exc))}", messages.ERROR)
        if count:
            self.message_user(request, f"{count} invoice(s) {done}.", messages.SUCCESS)


def _lines(formset) -> list[dict]:
    """The lines of an inline formset, in order, without the ones marked for deletion."""
    if formset is None:
        return []
    lines = []
    for form in formset.forms:
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        lines.append({name: data.get(name) for name in services.LINE_FIELDS})
    return lines


@admin.register(ChangeRecord)
class ChangeRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The history of every record, read-only."""

    list_display = ("created_at", "content_type", "object_id", "action", "actor", "via")
    list_filter = ("via", "action", "content_type")
    search_fields = ("object_id", "actor__email")
    list_select_related = ("content_type", "actor")

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or request.user.has_perm("records.view_invoice")
