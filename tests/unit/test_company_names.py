import pytest

from shared.config import load_config
from shared.domain.applications import normalise_company, parse_submission, screen
from tests.conftest import EXAMPLE_CONFIG
from tests.fakes import form_submissions as fs


@pytest.mark.parametrize("typed,canonical", [
    ("ソニー株式会社", "ソニー"), ("ｿﾆｰ㈱", "ソニー"), ("ソニー（株）", "ソニー"), ("株式会社ソニー", "ソニー"),
    ("ソニ－", "ソニー"), ("ＳＯＮＹ　Ｃｏｒｐｏｒａｔｉｏｎ", "Sony Corp."), ("Sony Co., Ltd.", "SONY"),
    ("ソニーグループ 株式会社", "ソニーグループ(株)"), ("ソニー・インタラクティブエンタテインメント", "ソニーインタラクティブ エンタテインメント"),
    ("ソニー銀行　株式会社", "ｿﾆｰ銀行"), ("Sony Group Inc.", "sony group"),
])
def test_same_company_however_typed(typed, canonical):
    assert normalise_company(typed) == normalise_company(canonical)


@pytest.mark.parametrize("a,b", [("ソニー", "ソニー銀行"), ("ソニー生命", "ソニー銀行"), ("パナソニック", "ソニー")])
def test_different_companies_stay_different(a, b):
    assert normalise_company(a) != normalise_company(b)


def test_screening_matches_group_company_and_hints_otherwise():
    cfg = load_config(EXAMPLE_CONFIG).applications
    s = screen(parse_submission(fs.submission(affiliation="ｿﾆｰｾﾐｺﾝﾀﾞｸﾀｿﾘｭｰｼｮﾝｽﾞ㈱", relation="現社員")), cfg, "ja")
    assert s.matched_company == "ソニーセミコンダクタソリューションズ株式会社" and s.eligible and s.locale == "ja"
    s = screen(parse_submission(fs.submission(affiliation="ソニーセミコンダクター", relation="その他")), cfg, "ja")
    assert s.matched_company is None and s.hints[0] == "ソニーセミコンダクタソリューションズ株式会社"
    assert not s.eligible and s.complete
