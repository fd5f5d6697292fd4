"""actions: one-click signed links (approve/reject applications, and what colleagues register)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import action_http


@functions_framework.http
def actions(request: Request) -> Response:
    return action_http.handle(request)
