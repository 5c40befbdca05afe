"""Session authentication that answers 401 (not 403) to anonymous callers."""

from rest_framework import authentication


class SessionAuthentication(authentication.SessionAuthentication):
    """Django's session cookie (admin login), CSRF-checked on unsafe methods.

    DRF turns a failed check into 403 when the first authenticator offers no
    challenge; the design wants 401 for "not authenticated", so this one offers one.
    """

    def authenticate_header(self, request):
        return 'Session realm="api"'
