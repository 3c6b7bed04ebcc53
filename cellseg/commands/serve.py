"""``cellseg serve``: serve an exported site on this computer only (127.0.0.1)."""

import argparse
import functools
import http.server
import os
from http import HTTPStatus
from pathlib import Path
from typing import ClassVar

from cellseg.commands.arguments import port_number
from cellseg.web_site import CONTENT_SECURITY_POLICY


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with the headers ONNX Runtime Web's threads need (cross-origin
    isolation) and a policy that forbids the page any other origin.

    Folders are not listed (404), and a path the file system cannot take (a NUL byte,
    ``%00``) is a 400 response rather than a dropped connection.
    """

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

    def send_head(self):
        try:  # no file can be named with a NUL byte (%00) or a lone surrogate (%ed%a0%80)
            usable = b"\0" not in os.fsencode(self.translate_path(self.path))
        except UnicodeEncodeError:
            usable = False
        if not usable:
            self.send_error(HTTPStatus.BAD_REQUEST, "Bad request path")
            return None
        return super().send_head()

    def list_directory(self, path):
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")
        return None

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
    parser.add_argument(
        "--port",
        type=port_number,
        default=8000,
        help="port to listen on, 1 to 65535, or 0 for any free port (8000)",
    )
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
    try:  # a Ctrl-C as soon as the line shows stops it as well
        print(f"cellseg serve: {folder} at http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:  # how a server is meant to stop: not an error
        print(f"cellseg serve: stopped serving {folder}", flush=True)
    finally:
        server.server_close()
    return 0
