"""Cursor (keyset) pagination: a deep page costs what the first one does, no COUNT(*)."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """`?page_size=` from 1 to 100 (larger values are capped), 25 by default."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-created_at"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            value = int(raw)
        except ValueError:
            return self.page_size
        return max(1, min(value, self.max_page_size))
