"""Offline checks of infra/ against the code (tools/infra_check.py), on the real tree and on broken copies.

Each broken copy removes one thing from ONE side (a function, an env var, a schedule, a TTL policy,
an index) and the matching check must name it. Plus checkov, the static IaC security scan.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tools import infra_check as ic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of infra/, functions/ and shared/ to break."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".terraform*", "terraform.tfstate*")
    for name in ("infra", "functions", "shared"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def drop_block(path: Path, start: str) -> None:
    """Remove the `start` line and everything up to its closing brace (two-space indented entries)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(n for n, line in enumerate(lines) if line.strip().startswith(start))
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = next(n for n in range(i + 1, len(lines)) if lines[n].strip() == "}" and len(lines[n]) - len(lines[n].lstrip()) == indent)
    path.write_text("".join(lines[:i] + lines[j + 1:]), encoding="utf-8")


def find(problems: list[str], *words: str) -> list[str]:
    return [p for p in problems if all(w in p for w in words)]


# ------------------------------------------------------------------------------------ the real tree

def test_every_tf_file_parses() -> None:
    assert ic.parse_errors(ROOT) == []
    assert len(list((ROOT / "infra").rglob("*.tf"))) >= 8


def test_the_real_tree_has_no_drift() -> None:
    problems = ic.run_all(ROOT)
    assert problems == [], "\n".join(problems)


def test_the_catalogue_is_read_with_defaults() -> None:
    cat = ic.catalogue(ROOT)
    assert cat["generate_slots"]["kind"] == "cron" and cat["generate_slots"]["schedule"]
    assert all(isinstance(e["secrets"], list) for e in cat.values())
    assert set(ic.common_env_names(ROOT)) >= {"GOOGLE_CLOUD_PROJECT", "FIRESTORE_DATABASE", "COMMUNITY_CONFIG"}


def test_tfvars_example_holds_placeholders_only() -> None:
    text = (ROOT / "infra" / "terraform.tfvars.example").read_text(encoding="utf-8")
    doc = ic.parse_tf_text(text)
    assert doc["project_id"] == "your-project-id"
    assert "functions" not in doc  # the catalogue is code, not a deployment setting
    assert not re.search(r"(?i)(secret|password|token)\s*=\s*\"[^\"]+\"", text)


# ------------------------------------------------------------------------------------ broken copies

def test_the_copy_is_clean_apart_from_what_the_real_tree_has(tree: Path) -> None:
    assert ic.run_all(tree) == ic.run_all(ROOT)


def test_function_missing_from_terraform(tree: Path) -> None:
    drop_block(tree / "infra" / "functions.tf", "generate_slots = {")
    assert find(ic.check_functions(tree), "functions/generate_slots has no entry")


def test_function_missing_from_code(tree: Path) -> None:
    shutil.rmtree(tree / "functions" / "zoom_webhook")
    assert find(ic.check_functions(tree), "'zoom_webhook'", "does not exist")


def test_entry_point_must_match_the_folder(tree: Path) -> None:
    edit(tree / "functions" / "generate_slots" / "main.py", "def generate_slots(", "def generate(")
    assert find(ic.check_functions(tree), "def generate_slots(request)")
    edit(tree / "infra" / "main.tf", "entry_point           = each.key", 'entry_point           = "main"')
    assert find(ic.check_functions(tree), "entry_point = each.key")


def test_env_var_missing_from_terraform(tree: Path) -> None:
    edit(tree / "infra" / "main.tf", "    LOG_LEVEL            = var.log_level\n", "")
    assert find(ic.check_env(tree), "reads LOG_LEVEL", "sets it for no function")


def test_env_var_no_longer_read_by_code(tree: Path) -> None:
    edit(tree / "shared" / "platform" / "log.py", "os.environ.get(env.LOG_LEVEL, \"INFO\")", "\"INFO\"")
    edit(tree / "shared" / "entrypoints" / "cli.py", "os.environ.setdefault(env.LOG_LEVEL, \"WARNING\")", "pass")
    assert find(ic.check_env(tree), "Terraform sets LOG_LEVEL, which no code")


def test_env_var_misspelt_in_terraform(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", 'secrets       = ["ZOOM_WEBHOOK_SECRET"]', 'secrets       = ["ZOOM_WEBHOOK"]')
    problems = ic.check_env(tree) + ic.check_access(tree)
    assert find(problems, "Terraform sets ZOOM_WEBHOOK,", "does not name")
    assert find(problems, "uses secret ZOOM_WEBHOOK,")
    assert find(problems, "reads ZOOM_WEBHOOK_SECRET")


def test_literal_environ_read_counts_as_a_read(tree: Path) -> None:
    (tree / "shared" / "sneaky.py").write_text('import os\nVALUE = os.environ.get("SNEAKY_SETTING")\n', encoding="utf-8")
    edit(tree / "shared" / "entrypoints" / "jobs.py", "from shared import bootstrap", "from shared import bootstrap, sneaky  # noqa")
    assert find(ic.check_env(tree), "reads SNEAKY_SETTING")


def test_local_only_vars_need_no_terraform_and_must_not_get_one(tree: Path) -> None:
    assert not find(ic.check_env(tree), "FIRESTORE_EMULATOR_HOST")
    edit(tree / "infra" / "main.tf", "    LOG_LEVEL            = var.log_level\n",
         "    LOG_LEVEL            = var.log_level\n    FIRESTORE_EMULATOR_HOST = \"x\"\n")
    assert find(ic.check_env(tree), "sets FIRESTORE_EMULATOR_HOST", "LOCAL_ONLY")


def test_schedule_missing(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", '      schedule      = "15 4 * * *" # daily 04:15, community time\n', "")
    assert find(ic.check_schedules(tree), "cron function generate_slots needs a unix-cron schedule")


def test_scheduler_job_without_oidc(tree: Path) -> None:
    drop_block(tree / "infra" / "main.tf", "oidc_token {")
    assert find(ic.check_schedules(tree), "needs oidc_token")


def test_scheduler_job_removed(tree: Path) -> None:
    drop_block(tree / "infra" / "main.tf", 'resource "google_cloud_scheduler_job" "tick" {')
    assert find(ic.check_schedules(tree), "exactly one google_cloud_scheduler_job (the tick)", "found 0")


def test_a_scheduler_job_per_function_again_is_refused(tree: Path) -> None:
    """The fixed fee: 7 jobs cost $0.40 a month beyond the 3 free ones; cron_dispatch calls them all."""
    with (tree / "infra" / "main.tf").open("a", encoding="utf-8") as f:
        f.write('''
resource "google_cloud_scheduler_job" "cron" {
  for_each  = local.cron_functions
  name      = each.key
  schedule  = each.value.schedule
  time_zone = local.time_zone
  http_target {
    uri = module.function[each.key].url
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = module.function[each.key].url
    }
  }
}
''')
    problems = ic.check_schedules(tree)
    assert find(problems, "exactly one google_cloud_scheduler_job", "found 2")
    assert find(problems, "google_cloud_scheduler_job.cron must call module.dispatch[each.key].url")


def test_a_cron_function_left_out_of_the_dispatch_plan(tree: Path) -> None:
    edit(tree / "infra" / "main.tf", "audience = module.function[name].url", "audience = \"https://example.invalid\"")
    assert find(ic.check_schedules(tree), "local.cron_plan.jobs must map every local.cron_functions entry")


def test_the_dispatcher_without_its_plan_or_as_another_identity(tree: Path) -> None:
    edit(tree / "infra" / "main.tf", "env          = merge(local.common_env, { CRON_PLAN = jsonencode(local.cron_plan) })",
         "env          = local.common_env")
    edit(tree / "infra" / "main.tf", "  service_account_email = google_service_account.scheduler.email\n",
         "  service_account_email = google_service_account.build.email\n")
    problems = ic.check_schedules(tree)
    assert find(problems, "CRON_PLAN = jsonencode(local.cron_plan)")
    assert find(problems, "must run as google_service_account.scheduler")


def test_two_dispatchers(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", '      kind          = "cron"\n      description   = "Keeps the next months',
         '      kind          = "dispatch"\n      description   = "Keeps the next months')
    assert find(ic.check_schedules(tree), "exactly one function must be the dispatcher", "found 2")


def test_an_optional_secret_not_in_the_catalogue(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", '    SLACK_WEBHOOK_URL      = "Slack incoming webhook URL of the weekly prompt"\n', "")
    assert find(ic.check_access(tree), "weekly_prompt uses secret SLACK_WEBHOOK_URL", "does not declare")


def test_public_cron_and_unknown_public_function(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", "      timeout       = 300\n      max_instances = 1\n    }\n    provision_events",
         "      timeout       = 300\n      max_instances = 1\n      public        = true\n    }\n    provision_events")
    problems = ic.check_schedules(tree) + ic.check_access(tree)
    assert find(problems, "cron function generate_slots must not be public")
    assert find(problems, "function generate_slots is public")


def test_ttl_removed_from_terraform(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", 'ttl_collections = ["idempotency", "claims",', 'ttl_collections = ["idempotency",')
    assert find(ic.check_ttl(tree), "'claims'", "no TTL policy")


def test_ttl_for_a_collection_the_code_does_not_use(tree: Path) -> None:
    edit(tree / "infra" / "functions.tf", 'ttl_collections = ["idempotency", "claims",', 'ttl_collections = ["idempotency", "claims", "claim",')
    assert find(ic.check_ttl(tree), "'claim'", "no code")


def test_ttl_field_block_removed(tree: Path) -> None:
    drop_block(tree / "infra" / "firestore.tf", 'resource "google_firestore_field" "ttl" {')
    assert find(ic.check_ttl(tree), "google_firestore_field.ttl")


QUERY = '''

class _Probe:
    def __init__(self, client):
        self.slots = client.collection("slots")

    def open_from(self, start):
        return self.slots.where(filter=FieldFilter("status", "==", "scheduled")).where(
            filter=FieldFilter("start", ">=", start)).order_by("start", direction="DESCENDING")
'''


def test_composite_index_missing_then_declared(tree: Path) -> None:
    adapter = tree / "shared" / "adapters" / "firestore.py"
    adapter.write_text(adapter.read_text(encoding="utf-8") + QUERY, encoding="utf-8")
    problems = ic.check_indexes(tree)
    assert find(problems, 'add { collection = "slots", fields = [["status", "ASCENDING"], ["start", "DESCENDING"]] }',
                "shared/adapters/firestore.py:")
    edit(tree / "infra" / "functions.tf", "  firestore_indexes = [\n",
         '  firestore_indexes = [\n    { collection = "slots", fields = [["status", "ASCENDING"], ["start", "DESCENDING"]] },\n')
    assert ic.check_indexes(tree) == []


def test_single_field_queries_need_no_composite_index() -> None:
    qs = [q for q in ic.queries(ROOT) if q.where.startswith("shared/adapters/firestore.py")]
    assert qs and not any(q.needs_composite for q in qs)


def test_a_tf_file_that_does_not_parse(tree: Path) -> None:
    (tree / "infra" / "broken.tf").write_text('resource "x" "y" {\n  a = \n', encoding="utf-8")
    problems = ic.run_all(tree)
    assert problems and "infra/broken.tf does not parse" in problems[0]


# ------------------------------------------------------------------------------------ checkov

CHECKOV_VENV = ROOT / "build" / "checkov-venv"
CHECKOV_REQS = ROOT / "tools" / "checkov-requirements.txt"


def checkov() -> Path:
    """checkov in its own venv (its pins clash with the project's), built once and reused."""
    exe = CHECKOV_VENV / "bin" / "checkov"
    stamp = CHECKOV_VENV / ".installed"
    CHECKOV_VENV.parent.mkdir(parents=True, exist_ok=True)
    with open(CHECKOV_VENV.parent / ".checkov.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not stamp.is_file() or stamp.read_text() != CHECKOV_REQS.read_text():
            shutil.rmtree(CHECKOV_VENV, ignore_errors=True)
            venv.create(CHECKOV_VENV, with_pip=True)
            subprocess.run([CHECKOV_VENV / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            "-r", CHECKOV_REQS], check=True, env=_clean_env())
            stamp.write_text(CHECKOV_REQS.read_text())
    return exe


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}


def test_checkov_passes_offline() -> None:
    proc = subprocess.run([checkov(), "-d", ROOT / "infra", "--quiet", "--compact", "--framework", "terraform",
                           "--skip-download"], capture_output=True, text=True, env=_clean_env(), timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Failed checks: 0" in proc.stdout


def test_every_checkov_suppression_is_justified() -> None:
    skips = []
    for tf in (ROOT / "infra").rglob("*.tf"):
        for line in tf.read_text(encoding="utf-8").splitlines():
            if "checkov:skip" in line:
                skips.append(line.strip())
                assert re.search(r"#checkov:skip=CKV2?_[A-Z]+_\d+:\S.{20,}", line), f"{tf.name}: unjustified {line.strip()}"
    assert skips, "expected the documented suppressions (public webhooks, ingress, bucket logging)"


def test_checkov_fails_on_a_public_bucket(tmp_path: Path) -> None:
    """The scanner is really looking: an obviously bad resource fails it."""
    (tmp_path / "bad.tf").write_text('resource "google_storage_bucket" "b" {\n  name = "x"\n  location = "EU"\n}\n'
                                     'resource "google_storage_bucket_iam_member" "p" {\n  bucket = google_storage_bucket.b.name\n'
                                     '  role = "roles/storage.objectViewer"\n  member = "allUsers"\n}\n', encoding="utf-8")
    proc = subprocess.run([checkov(), "-d", tmp_path, "--quiet", "--compact", "--framework", "terraform", "--skip-download"],
                          capture_output=True, text=True, env=_clean_env(), timeout=300)
    assert proc.returncode != 0 and "CKV_GCP_28" in proc.stdout


if __name__ == "__main__":
    sys.exit(pytest.main([__file__]))
