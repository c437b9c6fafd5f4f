"""A threaded local HTTP server that speaks one provider's wire format.

Stdlib ``ThreadingHTTPServer`` with HTTP/1.1 keep-alive (the SDKs pool
connections), TCP_NODELAY, daemon threads, and hangs that never block other
requests or ``stop()``: every wait is on one stop event, and open sockets are
shut down when the emulator stops.
"""

from __future__ import annotations

import collections
import contextlib
import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.emulators.behaviour import Behaviour, RecordedRequest
from tests.emulators.flavours import Flavour, Reply, get_flavour


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    emulator: Emulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY: keep-alive requests otherwise pay ~40 ms
    timeout = 300  # idle keep-alive connections are closed after this
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.emulator._track(self.connection, add=True)

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        self.server.emulator._track(self.connection, add=False)

    def version_string(self) -> str:
        return self.server.emulator.flavour.server_header

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        emu = self.server.emulator
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        try:
            payload: Any = json.loads(body) if body else None
        except ValueError:
            payload = None
        req = RecordedRequest(
            flavour=emu.flavour.name,
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=payload,
            endpoint=emu.flavour.route(self.command, parts.path),
            peer=(str(self.client_address[0]), int(self.client_address[1])),
        )
        emu._record(req)
        if req.endpoint is None:
            self._send(emu.flavour.error_reply(404, f"Not found: {self.command} {parts.path}", req))
            return
        rejected = emu.flavour.auth_error(req, emu.api_key)
        if rejected is not None:
            self._send(emu.flavour._with_ids(rejected))
            return
        try:
            behaviour = emu._next_behaviour(req)
        except Exception as exc:  # a broken respond() callback is a 500, not a hung test
            self._send(emu.flavour.error_reply(500, f"emulator respond() failed: {exc!r}", req))
            return
        if behaviour.latency_s > 0 and emu._stopped.wait(behaviour.latency_s):
            self._drop()
            return
        if behaviour.kind == "hang":
            self._hang(behaviour.max_s)
            return
        if behaviour.kind == "drop":
            self._drop()
            return
        if behaviour.kind not in ("status", "raw") and emu.flavour.is_stream(req):
            self._stream(behaviour, req)
            return
        if behaviour.stall_after is not None:  # a stall without a stream is a hang
            self._hang(behaviour.max_s)
            return
        if behaviour.stream_s > 0 and emu._stopped.wait(behaviour.stream_s):
            self._drop()
            return
        if behaviour.junk_after is not None:
            behaviour = Behaviour.malformed_json("body")
        self._send(emu.flavour.render(behaviour, req))

    def _stream(self, behaviour: Behaviour, req: RecordedRequest) -> None:
        """Answer as a server-sent-event stream (chunked), in the flavour's real event shapes;
        ``stream_s`` spreads the events out, ``stall_after`` / ``junk_after`` break it."""
        emu = self.server.emulator
        junk_after = behaviour.junk_after
        if behaviour.kind == "malformed_json" and behaviour.part == "body":
            junk_after, behaviour = 0, Behaviour.ok()
        reply = emu.flavour.render(behaviour, req)
        events = emu.flavour.stream_events(req, json.loads(reply.body))
        self.send_response(200)
        headers = {k: v for k, v in reply.headers.items() if k.lower() != "content-type"}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        gap = behaviour.stream_s / max(1, len(events) - 1)
        try:
            for index, event in enumerate(events):
                if index == behaviour.stall_after:
                    self._hang(behaviour.max_s)
                    return
                if index == junk_after:
                    self._chunk(emu.flavour.junk_event())
                    break
                if index and gap and emu._stopped.wait(gap):
                    self._drop()
                    return
                self._chunk(event)
            else:
                if behaviour.stall_after is not None and behaviour.stall_after >= len(events):
                    self._hang(behaviour.max_s)
                    return
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client went away mid-stream (cancelled): nothing to do
            self.close_connection = True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(reply.body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(reply.body)

    def _drop(self) -> None:
        """Close the connection without a response (the client sees a disconnect)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _hang(self, max_s: float) -> None:
        """Say nothing until the server stops, the client gives up, or ``max_s`` passes."""
        emu = self.server.emulator
        deadline = time.monotonic() + max_s
        while time.monotonic() < deadline and not emu._stopped.wait(0.05):
            try:
                readable, _, _ = select.select([self.connection], [], [], 0)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    break  # client closed its end
            except (OSError, ValueError):
                break
        self._drop()


class Emulator:
    """A provider API on ``127.0.0.1:<ephemeral port>``; use as a context manager.

    ``flavour`` is ``"anthropic"``, ``"openai"`` (Responses + Chat Completions) or
    ``"gemini"`` (``/v1`` and ``/v1beta``). Answers come from the queue filled by
    ``enqueue`` (one behaviour per request), then from the default behaviour.
    """

    def __init__(
        self,
        flavour: str,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Behaviour | None = None,
    ) -> None:
        self.flavour: Flavour = get_flavour(flavour)
        self.api_key = api_key if api_key is not None else self.flavour.default_key
        self.host = host
        self._port = port
        self._default = default or Behaviour.ok()
        self._queue: collections.deque[Behaviour] = collections.deque()
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        self._stopped.clear()
        server = _Server((self.host, self._port), _Handler)
        server.emulator = self
        self._server = server
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"emulator-{self.flavour.name}-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopped.set()
        server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses -------------------------------------------------------------
    @property
    def port(self) -> int:
        return self._port

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    @property
    def base_url(self) -> str:
        """What to give the SDK (OpenAI's includes ``/v1``; Anthropic's and Gemini's don't)."""
        return self.root_url + self.flavour.base_path

    # -- scripting ---------------------------------------------------------------
    def set_default(self, behaviour: Behaviour) -> None:
        """The behaviour for every request once the queue is empty."""
        with self._lock:
            self._default = behaviour

    def enqueue(self, *behaviours: Behaviour) -> None:
        """Behaviours consumed one per (authenticated, routed) request, in order."""
        with self._lock:
            self._queue.extend(behaviours)

    def reset(self) -> None:
        """Forget requests and queued behaviours; default back to ``Behaviour.ok()``."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._default = Behaviour.ok()

    # -- observation ---------------------------------------------------------------
    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far (auth failures and 404s included)."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def last_request(self) -> RecordedRequest | None:
        with self._lock:
            return self._requests[-1] if self._requests else None

    def wait_for_requests(self, count: int, timeout_s: float = 5.0) -> bool:
        """Block until ``count`` requests arrived (for tests of concurrent callers)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.request_count >= count:
                return True
            time.sleep(0.01)
        return self.request_count >= count

    # -- internals -----------------------------------------------------------------
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(req)

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _next_behaviour(self, req: RecordedRequest) -> Behaviour:
        with self._lock:
            behaviour = self._queue.popleft() if self._queue else self._default
        if behaviour.kind == "respond" and behaviour.fn is not None:
            behaviour = behaviour.fn(req)
            if behaviour.kind == "respond":
                raise ValueError("respond() must return a concrete behaviour")
        return behaviour

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"Emulator({self.flavour.name!r}, {self.base_url!r}, {state})"
