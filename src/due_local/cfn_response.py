"""A local HTTP endpoint that records CloudFormation custom resource responses."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ResponseCatcher:
    def __init__(self):
        self.responses: list[dict] = []
        catcher = self

        class _Handler(BaseHTTPRequestHandler):
            def do_PUT(self):
                length = int(self.headers.get("Content-Length", 0))
                catcher.responses.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/response"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self):
        self._server.shutdown()
        self._server.server_close()

    def event(self, request_type: str, properties: dict, physical_id: str | None = None, old: dict | None = None):
        event = {
            "RequestType": request_type, "ResponseURL": self.url, "StackId": "arn:aws:cloudformation:::stack/s/1",
            "RequestId": "r-1", "LogicalResourceId": "Thing", "ResourceType": "Custom::Thing",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:::function:f", **properties},
        }
        if physical_id:
            event["PhysicalResourceId"] = physical_id
        if old is not None:
            event["OldResourceProperties"] = old
        return event
