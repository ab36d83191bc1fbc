from core.context import current_ip


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        # Behind a proxy, REMOTE_ADDR is the proxy; production sets it from X-Forwarded-For at the proxy.
        token = current_ip.set(request.META.get("REMOTE_ADDR"))
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)


class ChineseByDefaultMiddleware:
    """The UI is Chinese unless the user picked another language with the switch (cookie).

    LocaleMiddleware would otherwise follow the browser's Accept-Language, and an English browser on a
    government desk would be served English without anyone asking for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)
