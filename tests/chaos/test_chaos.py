"""The short seeded chaos run (docs/proof.md): one simulated week with faults at every boundary, then
recovery; the invariants are assertions. The long run: `make chaos` (tools/chaos.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import chaos


@pytest.mark.parametrize("seed", [11])
def test_a_week_with_faults_recovers_to_exactly_once(emulator_host: str, tmp_path: Path, seed: int) -> None:
    f = chaos.run(emulator_host, tmp_path, seed=seed, members=60, days=7, applications=30, rate=0.12)
    print("\n".join(f"{k:36} {v}" for k, v in f.items()))
    assert f["faults injected"] >= 10 and f["crashed deliveries"] + f["faults by kind"].get("fail_after", 0) >= 1, f
    assert f["online events"] >= 1 and f["mail intents"] >= 30
    assert f["events without exactly 1 meeting"] == 0, f
    assert f["events without exactly 1 entry"] == 0 and f["extra calendar entries"] == 0, f
    assert f["intents mailed more than once"] == 0, f
    # Every intent ends sent (Gmail can always tell, so never stuck) and reached Gmail exactly once:
    # the hourly provision_events run resumes intents nobody sends again (ExactlyOnceMailer.resume).
    assert f["intents unfinished after recovery"] == 0, f
    assert f["mail intents"] == f["mail ledger by status"].get("sent", 0), f
    assert f["applications lost"] == 0 and f["slots lost"] == 0, f
    assert f["faults survived"] == f["faults injected"]
