"""The overview page: data golden file and escaping of untrusted post text."""

from __future__ import annotations

import json
import os
from pathlib import Path

from equilibrio.api import Workspace
from equilibrio.report.overview import overview_data, render_overview

GOLDEN = Path(__file__).parent / "golden" / "overview_uci.json"


def test_overview_data_matches_golden(workspace: Workspace, uci_sample: Path) -> None:
    workspace.ingest(uci_sample)
    data = overview_data(workspace.store)
    info = data["info"]
    stable = {
        "posts": info["posts"],
        "brand_posts": info["brand_posts"],
        "accounts": info["accounts"],
        "by_kind": info["by_kind"],
        "by_platform": info["by_platform"],
        "by_language": info["by_language"],
        "ingests": [{k: v for k, v in i.items() if k != "source"} for i in info["ingests"]],
    }
    if os.environ.get("UPDATE_GOLDEN"):  # regenerate deliberately, then review the diff
        GOLDEN.write_text(json.dumps(stable, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert stable == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_post_text_is_escaped(workspace: Workspace, tmp_path: Path) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    path = tmp_path / "xss.jsonl"
    path.write_text(
        json.dumps(
            {
                "post_id": "1",
                "platform": "twitter",
                "account_id": "a",
                "handle": "<b>evil</b>",
                "created_at": "2021-01-01T00:00:00Z",
                "text": attack,
                "kind": "post",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    workspace.ingest(path)
    page = render_overview(workspace.store, tmp_path / "page.html", title="<i>t</i>", subtitle="s")
    html = page.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>evil</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
