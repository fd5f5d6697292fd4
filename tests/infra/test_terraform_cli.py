"""infra/ as Terraform itself sees it: `terraform fmt -check -recursive` (never skipped) and
`terraform validate` (when the google provider can be installed), as `make infra-check` runs them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tools import infra_check as ic

ROOT = Path(__file__).resolve().parents[2]
MISALIGNED = 'locals {\n  a = 1\n  long_name = 2\n}\n'


@pytest.fixture
def infra_copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "infra", tmp_path / "infra", ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    return tmp_path


def test_infra_is_formatted_as_terraform_fmt_wants() -> None:
    result = ic.terraform_fmt(ROOT)
    assert result.problems == [], "\n".join(result.problems)
    assert result.tool in ("terraform", "hclwrite")


def test_fmt_names_the_misformatted_file(infra_copy: Path) -> None:
    (infra_copy / "infra" / "modules" / "function" / "extra.tf").write_text(MISALIGNED, encoding="utf-8")
    problems = ic.terraform_fmt(infra_copy).problems
    assert [p for p in problems if "infra/modules/function/extra.tf" in p and "terraform fmt" in p], problems


def test_the_hclwrite_fallback_agrees_with_terraform(infra_copy: Path) -> None:
    """Without a terraform binary, the check runs HCL's own formatter (what `terraform fmt` calls):
    it must see the same misformatted file, so a machine without Terraform never skips fmt."""
    (infra_copy / "infra" / "extra.tf").write_text(MISALIGNED, encoding="utf-8")
    by_hclwrite = ic.terraform_fmt(infra_copy, terraform=None)
    assert by_hclwrite.tool == "hclwrite"
    assert [p for p in by_hclwrite.problems if "infra/extra.tf" in p], by_hclwrite.problems
    assert ic.terraform_fmt(ROOT, terraform=None).problems == []
    if shutil.which("terraform"):
        assert len(ic.terraform_fmt(infra_copy).problems) == len(by_hclwrite.problems)


def test_validate_runs_or_says_why_not() -> None:
    result = ic.terraform_validate(ROOT)
    if result.skipped:
        # offline, `terraform init` cannot download hashicorp/google: the reason is printed, never hidden
        assert result.skipped.startswith("skipped: ") and ("provider" in result.skipped or "no terraform binary" in result.skipped)
    else:
        assert result.problems == [], "\n".join(result.problems)


def test_validate_finds_an_error_when_it_can_run(infra_copy: Path) -> None:
    (infra_copy / "infra" / "broken.tf").write_text('output "x" {\n  value = local.no_such_local\n}\n', encoding="utf-8")
    result = ic.terraform_validate(infra_copy)
    if result.skipped:
        pytest.skip(result.skipped)  # the skip reason names the missing provider download
    assert [p for p in result.problems if "no_such_local" in p], result.problems


def test_make_infra_check_runs_fmt_and_reports_validate(capsys: pytest.CaptureFixture[str]) -> None:
    code = ic.main([str(ROOT)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "terraform fmt -check -recursive: ok" in out
    assert "terraform validate:" in out
