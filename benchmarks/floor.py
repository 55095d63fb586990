"""The raw-list floor, in a fresh process: one JSON line on stdout.

    NCCONSOLE_CONFIG=DIR/config.yaml python benchmarks/floor.py [--best]

What any client must do to know the fleet, and nothing more: the console's own lists (the
paths and selectors of ncconsole/fleet/watches.py), one thread and one HTTPS connection per
list as the console's watchers have, each body read and `json.loads`-ed. `floor` runs from the
first request to the last list parsed (after the imports, like `cold_start` in coldstart.py),
so cold start / floor says what the console spends beyond reading the data. `--best` is the
floor with the console's own two tricks: lists read in pages of 500 and the cyclic GC off.
"""

from __future__ import annotations

import argparse
import base64
import gc
import http.client
import json
import ssl
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

STARTED = time.monotonic()

from ncconsole.fleet.watches import fleet_watch_specs  # noqa: E402
from ncconsole.settings import load_settings  # noqa: E402


def cluster_access(kubeconfig: Path) -> tuple[str, ssl.SSLContext, str]:
    """(server URL, TLS context, bearer token) of the kubeconfig's current context (the
    simulator writes token users with inline CA data)."""
    config = json.loads(kubeconfig.read_text())
    contexts = {c["name"]: c["context"] for c in config["contexts"]}
    context = contexts[config["current-context"]]
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    with tempfile.NamedTemporaryFile("wb", suffix=".crt") as ca:
        ca.write(base64.b64decode(cluster["certificate-authority-data"]))
        ca.flush()
        tls = ssl.create_default_context(cafile=ca.name)
    return cluster["server"], tls, user["token"]


def read_list(
    server: str, tls: ssl.SSLContext, token: str, url: str, out: list[int], page: int
) -> None:
    parts = urlsplit(server)
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=tls)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    items, token_next = 0, ""
    while True:
        query = f"limit={page}&continue={token_next}" if page else ""
        separator = "&" if "?" in url else "?"
        conn.request("GET", f"{url}{separator}{query}" if query else url, headers=headers)
        data = json.loads(conn.getresponse().read())
        items += len(data.get("items") or ())
        token_next = (data.get("metadata") or {}).get("continue") or ""
        if not page or not token_next:
            break
    out.append(items)
    conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--best", action="store_true", help="paged lists, cyclic GC off")
    args = parser.parse_args()
    imported = time.monotonic()
    settings = load_settings()
    server, tls, token = cluster_access(Path(str(settings.kubeconfig)))
    urls = []
    for spec in fleet_watch_specs(settings):
        query = {"labelSelector": spec.label_selector, "fieldSelector": spec.field_selector}
        query = {key: value for key, value in query.items() if value}
        urls.append(f"{spec.path}?{urlencode(query)}" if query else spec.path)
    counts: list[int] = []
    page = 500 if args.best else 0
    if args.best:
        gc.disable()
    began = time.monotonic()
    threads = [
        threading.Thread(target=read_list, args=(server, tls, token, url, counts, page))
        for url in urls
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    floor = time.monotonic() - began
    print(json.dumps({"imports": imported - STARTED, "floor": floor, "items": sum(counts)}))
    return 0 if len(counts) == len(urls) else 1


if __name__ == "__main__":
    sys.exit(main())
