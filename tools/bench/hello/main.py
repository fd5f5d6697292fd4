"""The baseline for every cold-start figure: a bare functions-framework hello-world."""

import functions_framework


@functions_framework.http
def hello(request):  # type: ignore[no-untyped-def]
    return "Hello, World!"
