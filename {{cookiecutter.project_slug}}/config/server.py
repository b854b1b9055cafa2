"""The uvicorn worker gunicorn runs (gunicorn.conf.py), with bounds on what a connection may hold open.

uvicorn closes a connection that stays idle GUNICORN_KEEPALIVE seconds after a response, but has no limit on
a connection that is opened and never sends a request, or trickles its headers a byte at a time: each holds a
socket and memory forever. HeadersTimeoutH11Protocol closes any connection whose request line and headers have
not all arrived within REQUEST_HEADER_TIMEOUT seconds. Both are below the load balancer's 60 s idle timeout only
where that matters: the keep-alive is deliberately above it (the balancer closes idle connections first, never
gunicorn under a request it is about to send), the header timeout is far below it.
"""

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn_worker import UvicornWorker as BaseUvicornWorker

from config.env import env_int

REQUEST_HEADER_TIMEOUT = env_int("REQUEST_HEADER_TIMEOUT", 10, minimum=1)


class HeadersTimeoutH11Protocol(H11Protocol):
    headers_timer = None

    def connection_made(self, transport):
        super().connection_made(transport)
        self.arm_headers_timer()

    def data_received(self, data):
        cycle = self.cycle
        if self.headers_timer is None and (cycle is None or cycle.response_complete):
            self.arm_headers_timer()  # the next request on a kept-alive connection starts arriving
        super().data_received(data)
        if self.cycle is not cycle:  # a request's headers were complete: the app has it now
            self.disarm_headers_timer()

    def connection_lost(self, exc):
        self.disarm_headers_timer()
        super().connection_lost(exc)

    def arm_headers_timer(self):
        self.headers_timer = self.loop.call_later(REQUEST_HEADER_TIMEOUT, self.headers_timed_out)

    def disarm_headers_timer(self):
        if self.headers_timer is not None:
            self.headers_timer.cancel()
            self.headers_timer = None

    def headers_timed_out(self):
        self.headers_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class UvicornWorker(BaseUvicornWorker):
    # h11 with the header timeout; no `Server: uvicorn` header telling scanners what to try.
    CONFIG_KWARGS = {"loop": "auto", "http": HeadersTimeoutH11Protocol, "server_header": False}
