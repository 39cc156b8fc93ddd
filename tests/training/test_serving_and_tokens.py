"""The edges of a run: announcing an adapter to an OpenAI-compatible server (a small real HTTP server in the
test), counting a snapshot's tokens with the base model's tokenizer (the real task, in-process), the CLI runner."""
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from labelstudio_app.evaluation.models import ModelVersion, OutboundEndpoint
from labelstudio_app.jobs.models import Job
from labelstudio_app.training import services
from tests.conftest import ROOT, make_world
from tests.training.factories import approved_items, base_version
from workers.training.serving import AnnounceError, adapter_announce


class _Server:
    def __init__(self, status=200, body=b"{}"):
        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                seen.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"]))),
                             self.headers.get("Authorization")))
                self.send_response(status)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def close(self):
        self.httpd.shutdown()


def _version(url, api_key_env=""):
    OutboundEndpoint.objects.create(name="serving", base_url=url, api_key_env=api_key_env)
    return ModelVersion(name="v", base_model="/m", adapter_path="/data/adapters/7", backend="openai",
                        backend_options={"endpoint": "serving", "lora_name": "flywheel-run-7"})


def test_it_loads_the_adapter_on_an_openai_compatible_server(db, monkeypatch):
    server = _Server()
    monkeypatch.setenv("FW_TEST_KEY", "sekret")
    try:
        assert adapter_announce(_version(server.url, api_key_env="FW_TEST_KEY"), log=lambda t: None).startswith("loaded")
    finally:
        server.close()
    assert server.seen == [("/v1/load_lora_adapter", {"lora_name": "flywheel-run-7", "lora_path": "/data/adapters/7"},
                            "Bearer sekret")]


def test_it_reports_a_server_that_refuses_the_adapter_without_its_body(db):
    server = _Server(status=404, body=b"no such endpoint; internal token abc123")
    try:
        with pytest.raises(AnnounceError, match="404 Not Found") as refused:
            adapter_announce(_version(server.url), log=lambda t: None)
    finally:
        server.close()
    assert "abc123" not in str(refused.value)


def test_it_needs_no_announcement_for_per_request_backends():
    assert adapter_announce(ModelVersion(backend="transformers", adapter_path="/a")) == "per-request"


def test_it_counts_snapshot_tokens_with_the_base_tokenizer_in_a_job(transactional_db, tiny_model_dir):
    from transformers import AutoTokenizer

    from workers.tasks import run_job

    world = make_world()
    approved_items(world.project, 5)
    base = base_version(world.project, world.users["admin"], tiny_model_dir)
    snap = services.snapshot_create(project=world.project, user=world.users["admin"], name="s",
                                    tokenizer_version=base)
    assert snap.token_job.kind == "snapshot" and snap.token_count is None
    assert run_job.apply(args=[snap.token_job_id]).get() == "succeeded"
    snap.refresh_from_db()
    tok = AutoTokenizer.from_pretrained(base.base_model)
    rows = [json.loads(line) for line in services.snapshot_file(snap).read_text(encoding="utf-8").splitlines()]
    expected = sum(len(tok.apply_chat_template(r["messages"], tokenize=True, return_dict=False)) for r in rows)
    assert snap.token_count == expected > 0 and snap.tokenizer_model == base.base_model
    assert Job.objects.get(pk=snap.token_job_id).result == {"token_count": expected, "rows": 5}


def test_it_runs_the_cli_the_multi_gpu_launch_uses(tmp_path, tiny_model_dir):
    from workers.tiny_model import corpus

    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"messages": c, "task_type": "t"}, ensure_ascii=False) + "\n"
                            for c in corpus(16)), encoding="utf-8")
    spec = {"config": {"base_model": str(tiny_model_dir), "output_dir": str(tmp_path / "ckpt"),
                       "adapter_dir": str(tmp_path / "adapter"),
                       "hyperparams": {"r": 4, "max_steps": 3, "batch_size": 4, "max_seq_length": 128}},
            "data": str(data), "result": str(tmp_path / "result.json")}
    (tmp_path / "run.json").write_text(json.dumps(spec))
    out = subprocess.run([sys.executable, "-m", "workers.training.lora", str(tmp_path / "run.json")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    steps = [json.loads(line)["step"] for line in out.stdout.splitlines() if line.startswith('{"step"')]
    assert steps == [1, 2, 3]
    assert json.loads((tmp_path / "result.json").read_text())["steps"] == 3
    assert (Path(tmp_path) / "adapter" / "adapter_model.safetensors").exists()
