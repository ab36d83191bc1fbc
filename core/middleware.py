import logging

from django.conf import settings
from django.db import OperationalError
from django.template.loader import render_to_string

from core.context import current_ip
from core.login_guard import client_ip

logger = logging.getLogger(__name__)


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # The client's address by the trusted-proxy rule (TRUSTED_PROXY_COUNT), as the login lock-out sees it.
        token = current_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class ChineseByDefaultMiddleware:
    """The UI is Chinese unless the user picked another language with the switch (cookie).

    LocaleMiddleware would otherwise follow the browser's Accept-Language, and an English browser on a
    government desk would be served English without anyone asking for it.

    API clients are programs, not desks: a request to the API or Open311 that is not a browser session
    (it carries an Authorization header, or no session cookie) keeps its Accept-Language, so an English
    client gets English errors. The desk's own scripts call the API with the session cookie and follow
    the page's language (the cookie the switch sets).
    """

    API_PREFIXES = ("/api/", "/open311/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._api_client(request):
            request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)

    def _api_client(self, request) -> bool:
        if not request.path.startswith(self.API_PREFIXES):
            return False
        return "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME not in request.COOKIES


class BusyDatabaseMiddleware:
    """A page whose database is busy or unreachable (SQLite locked past its timeout under a burst,
    PostgreSQL out of connections) answers 503 with Retry-After, not a server error. The page is plain
    HTML with no database access of its own. (The API's handler in core.api.errors does the same in JSON.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError):
            return None
        from django.http import HttpResponse

        from core.api.errors import busy_retry_after

        logger.warning("database unavailable for %s: %s", request.path, exception)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = busy_retry_after()
        return response
