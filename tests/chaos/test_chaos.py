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
    # The seams: every delivery ran with only its function's Terraform settings on "Cloud Functions"
    # (a resumed mail that went to a throw-away outbox would be sent here but missing in Gmail), a
    # backlog of spent intents did not starve the month's, a broken character and failing record
    # writes lost no applicant, the response no retry can store was set aside (the poller went on), a
    # crash inside a link action was finished, a lost Zoom create answer followed by a host change
    # left no meeting behind.
    assert f["intents marked sent but not in Gmail"] == 0, f
    kinds = f["faults by kind"]
    assert kinds["broken_character"] >= 1 and kinds.get("write_fail_before", 0) + kinds.get("write_fail_after", 0) \
        + kinds.get("write_crash_after", 0) >= 1, f
    assert f["applicants without a live application"] == 0 and f["applications sent again by the applicant"] >= 1, f
    assert [r for r, _ in f["responses set aside"]] == ["ACYDBNsim00030"] and f["posts the webhook never got"] >= 1, f
    assert kinds["action_crash"] >= 1 and f["link actions left running"] == 0, f
    assert kinds["lost_create_then_host_change"] >= 1 and f["meetings left behind"] == 0, f
    assert f["faults survived"] == f["faults injected"]
