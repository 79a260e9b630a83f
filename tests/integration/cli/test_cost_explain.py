"""``groups-tui cost --explain``: per member, the rule applied, its source and its origin.

The command runs as a user runs it (a separate process) against the in-process stack's
sandbox and database, today: first with no evidence (configuration, a range), then after
a marketing template went out in an open window and the sandbox's status webhooks said it
was free (evidence, contradicting the configuration).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from groups_tui.domain.models import TemplateCategory
from tests.integration.e2e.support import (
    BR,
    DE,
    IN,
    PHONE_NUMBER_ID,
    STATUS_HORIZON,
    WABA_ID,
    Stack,
    default_knobs,
    params_for,
    running_stack,
)


async def _cost(stack: Stack, db: Path, tmp: Path, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "WHATSAPP_API_BASE_URL": stack.sandbox.base_url,
        "WHATSAPP_ACCESS_TOKEN": stack.access_token,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_BUSINESS_ACCOUNT_ID": WABA_ID,
        "GROUPS_TUI_DB": str(db),
        "GROUPS_TUI_CONFIG": str(tmp / "absent.toml"),
    }
    # A separate process, so that this loop keeps serving the sandbox meanwhile.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "groups_tui",
        "cost",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _member(report: dict[str, Any], wa_id: str) -> dict[str, Any]:
    return next(m for m in report["members"] if m["wa_id"] == wa_id)


async def test_cost_explain_json_lists_rule_source_and_origin(tmp_path: Path) -> None:
    # GIVEN a stack running today, whose sandbox makes in-window marketing free, and a
    # group whose window one member just opened
    db = tmp_path / "inbox.db"
    knobs = dataclasses.replace(default_knobs(), marketing_in_window="free")
    async with running_stack(db, start=float(int(time.time())), knobs=knobs) as stack:
        group_id = await stack.create_group("Offers")
        await stack.join(group_id, DE, BR, IN)
        await stack.say(group_id, BR, "Anything new?")
        marketing = await stack.template(TemplateCategory.MARKETING)
        args = (group_id, "--template", marketing.name, "--explain", "--json")

        # WHEN the cost is explained before any evidence
        code, out, err = await _cost(stack, db, tmp_path, *args)

        # THEN every member has its market, rate, rule, source and origin (configuration),
        # and the totals are a range
        assert code == 0, err
        report = json.loads(out)
        assert report["is_range"] is True
        assert report["low_total"] == "0"
        assert report["total"] == report["high_total"] != "0"
        germany = _member(report, DE)
        assert germany["market"] == "Germany" and germany["rate"] == germany["high"]
        assert germany["rule"] == "marketing inside window: charged"
        assert germany["origin"] == "configuration"
        assert germany["source"] == "the 1:1 rules and Meta's Groups pricing tables (2026-05-21)"
        assert "groups/pricing" in germany["source_url"]
        [dispute] = report["disputes"]
        assert dispute["rule"] == "marketing_in_window" and dispute["origin"] == "configuration"
        assert {r["source"]["dated"] for r in dispute["readings"]} == {"2025-10-22", "2026-05-21"}
        assert report["contradictions"] == []

        # WHEN marketing goes out in the open window and the sandbox says it was free
        sent = await stack.service.sending.send_template(group_id, marketing, params_for(marketing))
        assert sent.wamid
        await stack.settle(STATUS_HORIZON)
        code, out, err = await _cost(stack, db, tmp_path, *args)

        # THEN each member's rule comes from evidence, the total is what Meta charged,
        # and the contradiction with the configuration is listed
        assert code == 0, err
        report = json.loads(out)
        assert report["is_range"] is False and report["total"] == "0"
        assert {m["origin"] for m in report["members"]} == {"evidence"}
        assert {m["rule"] for m in report["members"]} == {"marketing inside window: free"}
        assert _member(report, BR)["source"].startswith("Meta's status webhooks: 3 free")
        [evidence] = [e for e in report["evidence"] if e["rule"] == "marketing_in_window"]
        assert (evidence["free"], evidence["observed"], evidence["configured"]) == (
            3,
            "free",
            "charged",
        )
        assert evidence["contradicts"] is True
        [contradiction] = report["contradictions"]
        assert "contradicting the configuration (charged)" in contradiction

        # AND the plain explanation says the same in lines
        code, out, err = await _cost(
            stack, db, tmp_path, group_id, "--template", marketing.name, "--explain"
        )
        assert code == 0, err
        assert "evidence: Meta's status webhooks: 3 free" in out
        assert "contradiction: marketing inside the group window" in out
        assert "as charged on" in out
