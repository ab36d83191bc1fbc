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
