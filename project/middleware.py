"""Response headers the API adds to everything it answers."""

from django.utils.cache import patch_cache_control


def api_no_store(get_response):
    """`Cache-Control: no-store` on every `/api/` response: they carry a user's data or
    tokens, and no browser or proxy cache may keep them (the health check, admin and
    static files are not under `/api/`)."""

    def middleware(request):
        response = get_response(request)
        if request.path.startswith("/api/"):
            patch_cache_control(response, no_store=True)
        return response

    return middleware
