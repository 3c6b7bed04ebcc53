"""``cellseg serve``: serve an exported site on this computer only (127.0.0.1)."""

import argparse
import functools
import http.server
from pathlib import Path
from typing import ClassVar

from cellseg.web_site import CONTENT_SECURITY_POLICY


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the headers ONNX Runtime Web's threads need (cross-origin
    isolation) and a policy that forbids the page any other origin."""

    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".wasm": "application/wasm",
        ".onnx": "application/octet-stream",
        ".json": "application/json",
    }

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, format, *args):  # quiet: one line per request is noise here
        pass


class SiteServer(http.server.ThreadingHTTPServer):
    """A threading server that lets a browser drop a connection without a traceback (a
    page closed or reloaded while a file was being sent)."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def make_server(folder, port: int = 8000) -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``folder`` bound to 127.0.0.1 (port 0: any free port)."""
    handler = functools.partial(SiteHandler, directory=str(folder))
    return SiteServer(("127.0.0.1", port), handler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cellseg serve",
        description="Serve a site made by 'cellseg export' on 127.0.0.1 (this computer only), "
        "with the cross-origin isolation headers that let the model use several threads.",
    )
    parser.add_argument("folder", metavar="DIR", help="the exported site")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)

    from cellseg.errors import CellsegError

    folder = Path(arguments.folder)
    if not (folder / "index.html").is_file() or not (folder / "model.onnx").is_file():
        raise CellsegError(
            f"{folder}: not a site made by 'cellseg export' (no index.html or model)"
        )
    try:
        server = make_server(folder, arguments.port)
    except OSError as error:
        raise CellsegError(
            f"127.0.0.1:{arguments.port}: cannot listen ({error.strerror})"
        ) from None
    host, port = server.server_address[:2]
    print(f"cellseg serve: {folder} at http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
