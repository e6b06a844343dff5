"""A local HTTP server that speaks the parts of LINE's Messaging API civicloop uses: reply,
push (with its retry key), message content and user profiles, checking the channel access
token."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.notifications.receivers import free_port


@dataclass
class Sent:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class LineServer:
    token: str
    port: int = field(default_factory=free_port)
    sent: list[Sent] = field(default_factory=list)
    contents: dict[str, bytes] = field(default_factory=dict)
    # LINE user id → the profile's language; a user not here has no profile (404).
    languages: dict[str, str | None] = field(default_factory=dict)
    profiles_asked: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def replies(self) -> list[str]:
        return [
            m["text"] for s in self.sent if s.path.endswith("/reply") for m in s.body["messages"]
        ]

    def pushes(self) -> list[Sent]:
        return [s for s in self.sent if s.path.endswith("/push")]

    def start(self) -> LineServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") == f"Bearer {server.token}":
                    return True
                self._json(401, {"message": "Authentication failed"})
                return False

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                if not self._authorised():
                    return
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                server.sent.append(Sent(self.path, body, dict(self.headers.items())))
                if self.path == "/v2/bot/message/reply":
                    self._json(200, {"sentMessages": [{"id": "1", "quoteToken": "q"}]})
                elif self.path == "/v2/bot/message/push":
                    self._json(200, {"sentMessages": [{"id": "2", "quoteToken": "q"}]})
                else:
                    self._json(404, {"message": "Not found"})

            def _profile(self, user_id: str) -> None:
                server.profiles_asked.append(user_id)
                if user_id not in server.languages:
                    self._json(404, {"message": "Not found"})
                    return
                profile = {"displayName": "Resident", "userId": user_id}
                language = server.languages[user_id]
                self._json(200, profile if language is None else {**profile, "language": language})

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                parts = self.path.strip("/").split("/")  # v2/bot/message/{id}/content
                if parts[:3] == ["v2", "bot", "profile"] and len(parts) == 4:
                    self._profile(parts[3])
                    return
                data = server.contents.get(parts[3]) if len(parts) == 5 else None
                if data is None:
                    self._json(404, {"message": "Not found"})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
