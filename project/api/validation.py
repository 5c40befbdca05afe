"""Input validation for API views.

Request bodies go through an input serializer (`validated_data`); the field errors a
service raises (Django's `ValidationError`) become 400s in the error shape in
`project.api.errors.exception_handler`, so views just call the service.
"""


def validated_data(serializer_class, request, **kwargs) -> dict:
    """The request body validated by `serializer_class` (a 400 when it is not valid)."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
