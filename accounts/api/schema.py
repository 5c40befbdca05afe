"""OpenAPI descriptions of the project's authenticators (drf-spectacular extensions).

Imported from `AccountsConfig.ready` so the schema names both ways in: the Bearer
access token and Django's session cookie (admin login).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.TokenAuthentication"
    name = "accessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An access token from /api/v1/auth/login/ with client=app, or "
            "the HttpOnly access cookie (then send X-CSRFToken on unsafe methods).",
        }


class SessionAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "project.api.authentication.SessionAuthentication"
    name = "sessionCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
