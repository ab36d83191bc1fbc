"""Requests to addresses other people chose (webhook URLs): never to this machine or the intranet.

A URL's host may name only public unicast addresses: loopback, private (10/8, 172.16/12, 192.168/16,
fc00::/7), shared (100.64/10, where some clouds put their metadata service), link-local (169.254/16 with
the 169.254.169.254 metadata service, fe80::/10), multicast, reserved and unspecified addresses are
refused, IPv4 written inside IPv6 too. Exceptions are named by settings (default: none):
WEBHOOK_ALLOWED_HOSTS (host names, or IP literals, taken as they are) and WEBHOOK_ALLOWED_NETWORKS
(CIDRs such as "10.20.0.0/16": addresses inside them are allowed).

Checked twice: when a URL is saved (`check_url`, names resolved when they resolve) and when connecting
(`client()`): the connection is opened to the very address that was checked (httpcore's network
backend resolves, checks every address, then connects to one of them by IP), so a DNS answer that
changes between the check and the connect (rebinding) cannot reach another host. TLS still verifies the
certificate against the URL's host name (SNI and Host come from the URL, not the address). Environment
proxies are not used: they would make the proxy, not us, pick the address.

No library fits: `advocate` (requests only) is unmaintained since 2020; the httpx-based ones are new
one-person projects. This is ~100 lines over httpx/httpcore, which the project already uses.
"""
import ipaddress
import socket
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _


class AddressRefused(httpx.ConnectError):
    """The host names an address requests may not go to. A ConnectError, so httpx callers see a failed
    connection; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _allowed_hosts() -> set[str]:
    return {h.lower().strip("[]") for h in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", ())}


def _allowed_networks() -> list:
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "WEBHOOK_ALLOWED_NETWORKS", ())]


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 one carries (::ffff:a.b.c.d, 6to4, Teredo, NAT64 64:ff9b::/96), if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped or ip.sixtofour:
        return ip.ipv4_mapped or ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal(ip) -> str | None:
    """Why requests may not go to `ip` (an ipaddress object), or None when it is public unicast."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        return refusal(inner)
    if ip.is_loopback:
        return _("本机回环地址")
    if ip.is_link_local:
        return _("链路本地地址（含云元数据服务）")
    if ip.is_multicast:
        return _("组播地址")
    if ip.is_unspecified or ip.is_reserved:
        return _("保留地址")
    if ip.is_private or not ip.is_global:
        return _("内网或非公网地址")
    return None


def check_address(host: str, address: str) -> None:
    """Raise AddressRefused unless `address` (the IP `host` resolved to) may be connected to."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id names no other host
    if host.lower().strip("[]") in _allowed_hosts() or any(ip in net for net in _allowed_networks()):
        return
    reason = refusal(ip)
    if reason:
        raise AddressRefused(_("不允许的地址 %(address)s（%(reason)s）") % {"address": ip, "reason": reason})


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IP literals in any spelling getaddrinfo accepts, e.g. 127.1)."""
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> None:
    """Raise AddressRefused when the URL's host is or resolves to a refused address. A name that does not
    resolve now passes: it is checked again when connecting."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host.lower() in _allowed_hosts():
        return
    if host == "localhost" or host.endswith(".localhost"):
        check_address(host, "127.0.0.1")
    try:
        addresses = resolve(host, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError, ValueError):
        return
    for address in addresses:
        check_address(host, address)


class CheckedBackend(httpcore.SyncBackend):
    """Resolves the host itself, refuses it when any address is refused, and connects by IP."""

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        try:
            addresses = resolve(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        for address in addresses:
            check_address(host, address)
        error = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                           socket_options=socket_options)
            except httpcore.ConnectError as exc:  # try the next address, as create_connection would
                error = exc
        raise error or httpcore.ConnectError(f"{host}: no address")


class CheckedTransport(httpx.HTTPTransport):
    def __init__(self):
        super().__init__(trust_env=False)
        # httpx takes no network backend: its pool is replaced by one with ours. TLS as httpx's default
        # (SSL_CERT_FILE / SSL_CERT_DIR still name an intranet CA); the certificate is checked against the
        # URL's host name, which httpcore also sends as SNI, whatever address we connected to.
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(),
                                             network_backend=CheckedBackend())


def client(timeout: float) -> httpx.Client:
    """An httpx client that connects only to allowed addresses, follows no redirects, ignores proxies."""
    return httpx.Client(transport=CheckedTransport(), timeout=timeout, follow_redirects=False, trust_env=False)
