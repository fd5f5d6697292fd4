"""The web kit: what every function that serves pages shares (docs/web.md).

- :mod:`.app`: :class:`~.app.WebApp` (one function, several paths), :class:`~.app.Ctx` (one
  request), :class:`~.app.HttpError` (an error page);
- :mod:`.router`: the tiny router (``/applications/<app_id>``);
- :mod:`.security`: headers (CSP without inline script or style, ``frame-ancestors 'none'``,
  ``nosniff``, ``Referrer-Policy``), ``__Host-`` cookies signed with itsdangerous, CSRF tokens;
- :mod:`.render`: Jinja templates with the base layout ``shared/templates/web/base.html`` and the
  one stylesheet ``static/site.css``;
- the words: ``shared.platform.texts``, per locale, from ``shared/templates/<locale>/texts/<area>.yaml``.
"""
