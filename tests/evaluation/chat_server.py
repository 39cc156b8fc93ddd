"""A small real HTTP server that speaks OpenAI chat-completions (and vLLM's LoRA loading endpoint), on
127.0.0.1, for testing the openai backend over a real socket. Its behaviour is scripted per request."""
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_BODY = "internal: postgres://flywheel:hunter2-db-password@10.0.0.5/prod"


class ChatServer:
    """`script` is a list of actions consumed one per chat request: "ok", "500", "503", "500-secret" (a 500
    whose body holds a secret-looking value, SECRET_BODY), "400", "429", or ("sleep", seconds); when it runs
    out every request gets `always` (None: succeeds). `lora_script` does the same for
    /v1/load_lora_adapter ("ok", "404", "already")."""

    def __init__(self):
        self.script: list = []
        self.always: str | None = None
        self.lora_script: list = []
        self.requests: list[tuple[str, dict, dict]] = []  # (path, json body, headers)
        self.loaded: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append((self.path, body, dict(self.headers)))
                if self.path == "/v1/load_lora_adapter":
                    action = server.lora_script.pop(0) if server.lora_script else "ok"
                    if action == "404":
                        return self._send(404, {"detail": "Not Found"})
                    if action == "already":
                        return self._send(400, {"message": f"The lora adapter '{body['lora_name']}' has already "
                                                           "been loaded."})
                    server.loaded[body["lora_name"]] = body["lora_path"]
                    return self._send(200, {"status": "ok"})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"detail": "Not Found"})
                action = server.script.pop(0) if server.script else (server.always or "ok")
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                    action = "ok"
                if action == "500":
                    return self._send(500, {"error": {"message": "engine overloaded"}})
                if action == "503":
                    return self._send(503, {"error": {"message": "warming up"}})
                if action == "500-secret":
                    return self._send(500, {"error": {"message": SECRET_BODY}})
                if action == "429":
                    return self._send(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.05"})
                if action == "400":
                    return self._send(400, {"error": {"message": "max_tokens is too large"}})
                prompt = " ".join(m["content"] for m in body["messages"])
                text = f"[{body['model']}] 答：{prompt[:20]}"
                return self._send(200, {
                    "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": len(prompt), "completion_tokens": len(text),
                              "total_tokens": len(prompt) + len(text)},
                })

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def chat_requests(self):
        return [r for r in self.requests if r[0] == "/v1/chat/completions"]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
