"""config/urls.py's order: the API's busiest routes are tried first, and no route shadows another."""
import re

from django.urls import get_resolver, resolve, reverse

SAMPLE = "7"  # fits the project's converters and router lookups (int, str, slug, [^/.]+, [0-9]+)


def named_routes():
    """(name, sample kwargs) for every name the URLconf reverses, each of its variants: SAMPLE, or for a
    parameter limited to words (`(?P<kind>notice|decision|file)`), its first word."""
    resolver = get_resolver()
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        for possibilities, pattern, _defaults, _converters in resolver.reverse_dict.getlist(name):
            for _template, params in possibilities:
                kwargs = {}
                for param in params:
                    words = re.search(rf"\(\?P<{param}>([\w|-]+)\)", pattern)
                    kwargs[param] = words.group(1).split("|")[0] if words else SAMPLE
                yield name, kwargs


def test_every_named_route_resolves_back_to_itself():
    """A route shadowed by one tried before it (an include moved up, a new catch-all) would answer its URL
    with another view: every route's own URL must resolve to it."""
    checked = 0
    for name, kwargs in named_routes():
        if "format" in kwargs:
            continue  # the routers' .json twins: the same view as the route without the suffix
        url = reverse(name, kwargs=kwargs)
        assert resolve(url).url_name == name, f"{url} answers {resolve(url).url_name}, not {name}"
        checked += 1
    assert checked > 150


def test_api_routes_are_tried_before_the_pages():
    """Each pattern tried costs the request (an include at "" walks all of its own): intake and the desk's
    snapshot are the command center's first routes, and no page route is tried before an API one."""
    snapshot = resolve("/api/v1/command/snapshot/")
    assert snapshot.url_name == "command-snapshot" and len(snapshot.tried) == 1
    events = resolve("/api/v1/events/")
    assert events.url_name == "event-list"
    assert len(events.tried) < 10
    for tried in (snapshot.tried, events.tried, resolve("/api/v1/officers/7/").tried):
        assert all(str(chain[0].pattern) == "api/v1/" for chain in tried)
