"""Counts the database queries of each request into the `X-Bench-Queries` header."""

from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = {"n": 0}

        def count(execute, sql, params, many, context):
            counter["n"] += 1
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(count):
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(counter["n"])
        return response
