"""Tells the serving backends about a new adapter.

- transformers / vllm: nothing to do; the adapter is per request (`GenerationRequest.adapter`, vLLM `LoRARequest`).
- openai (e.g. `vllm serve --enable-lora` with VLLM_ALLOW_RUNTIME_LORA_UPDATING=True): POST
  `{base_url}/load_lora_adapter` (the version's allowlisted endpoint) {"lora_name", "lora_path"}; the version's `lora_name` option is then the model
  name requests use. The server must see the adapter at the same path (shared artifacts dir).
"""
import json
import os
import urllib.error
import urllib.request


class AnnounceError(RuntimeError):
    pass


def adapter_announce(version, *, log=print, timeout: float = 30) -> str:
    """Returns what was done ("per-request", "loaded on <url>", "already loaded on <url>")."""
    if version.backend != "openai" or not version.adapter_path:
        return "per-request"
    from labelstudio_app.evaluation.services import backend_options_for_worker

    options = backend_options_for_worker(version)  # the allowlisted endpoint's URL and key variable
    url = options["base_url"].rstrip("/") + "/load_lora_adapter"
    body = json.dumps({"lora_name": options.get("lora_name") or version.name,
                       "lora_path": version.adapter_path}).encode()
    headers = {"Content-Type": "application/json"}
    key = os.environ.get(options.get("api_key_env") or "", "")
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body, headers=headers, method="POST"),
                                    timeout=timeout) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        text = exc.read().decode(errors="replace")[:500]
        if exc.code == 400 and "already" in text.lower():
            log(f"adapter already loaded on {url}")
            return f"already loaded on {url}"
        raise AnnounceError(f"{url} answered {exc.code} {exc.reason}") from None
    except OSError as exc:
        raise AnnounceError(f"could not reach {url}: {exc}") from None
    log(f"adapter loaded on {url} as {options.get('lora_name') or version.name}")
    return f"loaded on {url}"
