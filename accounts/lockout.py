"""django-axes glue: whom a login attempt is for, and how long a cool-down lasts."""

LOCKOUT_DETAIL = "Too many failed login attempts."


def axes_username(request, credentials: dict | None) -> str | None:
    """The account a login attempt names, case-folded (emails are case-insensitive)."""
    value = None
    if credentials:
        value = credentials.get("email") or credentials.get("username")
    elif request is not None:
        value = request.POST.get("email") or request.POST.get("username")
    return str(value).strip().lower() if value else None


def cool_off_seconds(request=None) -> int:
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 0
