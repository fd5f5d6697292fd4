"""console: the organizer console, server-rendered pages (docs/console.md)."""

import functions_framework
from flask import Request, Response

from shared.entrypoints import console as web_console


@functions_framework.http
def console(request: Request) -> Response:
    return web_console.handle(request)
