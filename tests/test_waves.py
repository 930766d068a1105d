"""Change over time (dxanalysis.waves, notebook 06).

Two kinds of data: a small two-wave municipality written here (not by the sample
generator), whose weighted changes are checked against R ``survey``; and the bundled
sample, whose planted changes (docs/sample.md) must lie inside the intervals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import SAMPLE, write_csv

from dxanalysis import io, waves
from dxanalysis.views import waves as vwaves  # the words of notebook 06
from dxanalysis.validate import InputError

CODEBOOK = {
    "respondent_id": "番号",
    "attributes": {
        "department": {"header": "所属", "label": "所属", "values": ["総務部", "福祉部", "建設部"]},
        "age_band": {"header": "年代", "label": "年代", "values": ["30代以下", "40代以上"]},
    },
    "scales": {"agree5": {"min": 1, "max": 5, "labels": {1: "全く", 2: "あまり", 3: "中間", 4: "やや", 5: "とても"}, "missing": ["わからない"]}},
    "constructs": {"mind": {"label": "マインド", "area": "マインド・スタンス"}, "data": {"label": "データ", "area": "What"}},
    "items": [
        {"id": "mind_01", "header": "前向きだ", "construct": "mind", "scale": "agree5"},
        {"id": "mind_02", "header": "面倒だ", "construct": "mind", "scale": "agree5", "reverse": True},
        {"id": "data_01", "header": "データで判断する", "construct": "data", "scale": "agree5"},
        {"id": "data_02", "header": "集計できる", "construct": "data", "scale": "agree5"},
    ],
    "tools": {"items": [{"id": "tool_chat", "header": "チャットを使う", "label": "チャット"}]},
}
ROSTER_NOW = [("総務部", "30代以下", 40), ("総務部", "40代以上", 60), ("福祉部", "30代以下", 30), ("福祉部", "40代以上", 50),
              ("建設部", "30代以下", 20), ("建設部", "40代以上", 40)]
# the year before: 総務部 was called 総務課; one more staff member in 建設部
ROSTER_THEN = [("総務課", "30代以下", 38), ("総務課", "40代以上", 62), ("福祉部", "30代以下", 30), ("福祉部", "40代以上", 50),
               ("建設部", "30代以下", 21), ("建設部", "40代以上", 40)]


def _answers(rng, n: int, shift: float) -> list[tuple]:
    """n respondents: department, age, 4 items (mind_02 reverse) and chat; data items raised by shift."""
    dept = rng.choice(["総務部", "福祉部", "建設部"], size=n, p=[0.5, 0.3, 0.2])
    age = rng.choice(["30代以下", "40代以上"], size=n, p=[0.6, 0.4])
    base = rng.normal(3.0, 0.8, size=n)
    it = lambda s: np.clip(np.rint(base + s + rng.normal(0, 0.7, size=n)), 1, 5).astype(int)
    m1, m2, d1, d2 = it(0.0), 6 - it(0.0), it(shift), it(shift)
    chat = rng.random(n) < 0.5 + 0.1 * shift
    return [(str(i + 1), dept[i], age[i], str(m1[i]), str(m2[i]), str(d1[i]), str(d2[i]), "はい" if chat[i] else "いいえ") for i in range(n)]


HEADERS = ["番号", "所属", "年代", "前向きだ", "面倒だ", "データで判断する", "集計できる", "チャットを使う"]


def write_two_waves(folder: Path, *, renames: bool = True) -> Path:
    """This year (FY2025, 40 answers) and FY2024 (36 answers, 総務課, reworded header, FAX tool)."""
    rng = np.random.default_rng(20240601)
    now, then = _answers(rng, 40, 0.6), _answers(rng, 36, 0.0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2024").mkdir(exist_ok=True)
    cfg = {"id": "twowave", "name": "経年町", "fiscal_year": 2025, "min_group_size": 3,
           "waves": [{"fiscal_year": 2024, "survey": "2024/survey.csv", "codebook": "2024/codebook.yaml", "roster": "2024/roster.csv",
                      **({"renames": {"department": {"総務課": "総務部"}}} if renames else {})}]}
    (folder / "municipality.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (folder / "codebook.yaml").write_text(yaml.safe_dump(CODEBOOK, allow_unicode=True, sort_keys=False), encoding="utf-8")
    old = yaml.safe_load(yaml.safe_dump(CODEBOOK, allow_unicode=True))
    old["attributes"]["department"]["values"] = ["総務課", "福祉部", "建設部"]
    old["items"][2]["header"] = "データを根拠に判断する"  # reworded; same id
    old["tools"]["items"].append({"id": "tool_fax", "header": "FAXを使う", "label": "FAX"})  # dropped this year
    (folder / "2024" / "codebook.yaml").write_text(yaml.safe_dump(old, allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_csv(folder / "survey.csv", HEADERS, now)
    then_rows = [(r[0], "総務課" if r[1] == "総務部" else r[1], *r[2:5], r[5], r[6], r[7], "はい") for r in then]
    write_csv(folder / "2024" / "survey.csv", [*HEADERS[:5], "データを根拠に判断する", *HEADERS[6:], "FAXを使う"], then_rows)
    write_csv(folder / "roster.csv", ["所属", "年代", "職員数"], ROSTER_NOW)
    write_csv(folder / "2024" / "roster.csv", ["所属", "年代", "職員数"], ROSTER_THEN)
    return folder


@pytest.fixture
def two(tmp_path) -> Path:
    return write_two_waves(tmp_path / "twowave")


@pytest.fixture
def two_m(two):
    return io.load_municipality(two)


# --------------------------------------------------------------------------- loading
def test_waves_load_rename_and_item_matching(two_m):
    m = two_m
    assert [w.fiscal_year for w in m.waves] == [2024]
    assert set(m.waves[0].survey["department"].astype(str)) <= {"総務課", "福祉部", "建設部"}  # as answered then
    match = waves.item_matching(m).set_index("measure_id")
    assert match.loc["data_01", "match"] == "both" and bool(match.loc["data_01", "header_changed"])
    assert match.loc["tool_fax", "match"] == "dropped"
    assert not match.loc["mind_01", "header_changed"]
    data = waves.wave_data(m)
    assert [d.fiscal_year for d in data] == [2024, 2025] and data[-1].current
    assert "総務課" not in set(data[0].survey["department"].astype(str))  # mapped to 総務部
    assert data[0].weights.sum() == pytest.approx(241) and data[1].weights.sum() == pytest.approx(240)  # each wave to its own roster


def test_unmapped_department_is_a_problem(tmp_path):
    folder = write_two_waves(tmp_path / "t", renames=False)
    with pytest.raises(InputError) as err:
        io.load_municipality(folder)
    probs = [p for p in err.value.problems if p.file == "2024/survey.csv"]
    assert probs and probs[0].value == "総務課" and "renames" in probs[0].message() and probs[0].row >= 2


def test_wave_settings_problems(tmp_path):
    folder = write_two_waves(tmp_path / "t")
    cfg = yaml.safe_load((folder / "municipality.yaml").read_text(encoding="utf-8"))
    cfg["waves"][0].update(fiscal_year=2025, roster="2024/roster_missing.csv", codebook="../codebook.yaml", renames={"department": {"総務係": "総務部署"}})
    (folder / "municipality.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        io.load_municipality(folder)
    cols = {p.column for p in err.value.problems}
    assert {"waves[1].fiscal_year", "waves[1].roster", "waves[1].codebook"} <= cols  # year, missing file, outside the folder
    assert all(p.file == "municipality.yaml" and p.row for p in err.value.problems)
    (folder / "2024" / "roster_missing.csv").write_bytes((folder / "2024" / "roster.csv").read_bytes())
    cfg["waves"][0].update(fiscal_year=2024, codebook="2024/codebook.yaml")
    (folder / "municipality.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        io.load_municipality(folder)
    bad = {(p.column, p.value) for p in err.value.problems}
    assert ("waves[1].renames.department", "総務係") in bad and ("waves[1].renames.department", "総務部署") in bad
    assert any("総務部" in p.message() for p in err.value.problems if p.value == "総務部署")  # did-you-mean


def test_bad_survey_value_in_wave_names_its_file(tmp_path):
    folder = write_two_waves(tmp_path / "t")
    path = folder / "2024" / "survey.csv"
    raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    raw.loc[3, "前向きだ"] = "7"
    raw.to_csv(path, index=False, encoding="utf-8-sig")
    with pytest.raises(InputError) as err:
        io.load_municipality(folder)
    (p,) = err.value.problems
    assert (p.file, p.row, p.column, p.value) == ("2024/survey.csv", 5, "前向きだ", "7")


# --------------------------------------------------------------------------- statistics vs R
# R 4.2.2 / survey 4.1.1: the two waves written by write_two_waves() as CSV (d2024.csv, d2025.csv with
# dept, age, m1, m2, d1, d2; rosters r2024.csv, r2025.csv with dept, age, Freq); scores computed in R
# from the raw items: mind = (m1 + (6 - m2)) / 2, data = (d1 + d2) / 2. Then
#   rk <- function(d, r) rake(svydesign(ids=~1, weights=~w0, data=d), list(~dept, ~age),
#                             list(aggregate(Freq ~ dept, r, sum), aggregate(Freq ~ age, r, sum)),
#                             control=list(maxit=1000, epsilon=1e-12))
#   r24 <- rk(d24, ro24); r25 <- rk(d25, ro25)          # each wave raked to its own roster (総務課 in 2024)
#   a <- svymean(~data, r24); b <- svymean(~data, r25)
#   chg <- coef(b) - coef(a); se <- sqrt(SE(a)^2 + SE(b)^2)   # independent samples: variances add
#   chg + c(-1, 1) * qnorm(0.975) * se; 2 * pnorm(-abs(chg / se))
#   svyby(~data, ~dept, r24, svymean); svyby(~data, ~dept, r25, svymean)   # domains
# (svycontrast(svyby(..., covmat=TRUE)) on one raked design stratified by wave fails in survey 4.1.1
# for raked designs, so the two design-based SEs are combined by hand, as the issue allows.)
R_DATA = {"est_2024": 3.0719316724, "se_2024": 0.2147930106, "est_2025": 3.3825218676, "se_2025": 0.1572663742,
          "change": 0.3105901952, "ci_low": -0.2111754460, "ci_high": 0.8323558365, "p_value": 0.2433302862}
R_MIND = {"est_2024": 3.1696594673, "est_2025": 2.9666186962, "change": -0.2030407711, "ci_low": -0.7460029506, "ci_high": 0.3399214084, "p_value": 0.4636018788}
R_WELFARE_DATA = {"est_2024": 3.1506032214, "se_2024": 0.51363446192, "est_2025": 3.7943734537, "se_2025": 0.16997870698}


def _tables(m):
    data = waves.wave_data(m)
    est = waves.wave_estimates(data, m)
    return data, est, waves.wave_changes(est)


def test_change_matches_r_survey(two_m):
    _, est, ch = _tables(two_m)
    e = est.set_index(["fiscal_year", "measure_id"])
    assert (e.loc[(2024, "data"), "estimate"], e.loc[(2024, "data"), "se"]) == pytest.approx((R_DATA["est_2024"], R_DATA["se_2024"]), abs=1e-8)
    assert (e.loc[(2025, "data"), "estimate"], e.loc[(2025, "data"), "se"]) == pytest.approx((R_DATA["est_2025"], R_DATA["se_2025"]), abs=1e-8)
    assert list(ch.columns[:11]) == waves.CHANGE_COLUMNS
    r = ch.set_index("measure_id").loc["data"]
    assert (r["change"], r["ci_low"], r["ci_high"], r["p_value"]) == pytest.approx((R_DATA["change"], R_DATA["ci_low"], R_DATA["ci_high"], R_DATA["p_value"]), abs=1e-8)
    mind = ch.set_index("measure_id").loc["mind"]
    assert (mind["estimate_from"], mind["estimate_to"], mind["change"], mind["ci_low"], mind["ci_high"], mind["p_value"]) == pytest.approx(
        (R_MIND["est_2024"], R_MIND["est_2025"], R_MIND["change"], R_MIND["ci_low"], R_MIND["ci_high"], R_MIND["p_value"]), abs=1e-8)
    assert "tool_fax" not in set(ch["measure_id"])
    # BH within the constructs (hand: p × 2 / rank)
    cons = ch[ch["kind"] == "construct"].sort_values("p_value")
    assert cons["q_value"].iloc[0] == pytest.approx(min(cons["p_value"].iloc[0] * 2, cons["q_value"].iloc[1]))


def test_group_change_matches_r_svyby(two_m):
    data, _, _ = _tables(two_m)
    g = waves.changes_by_group(data, two_m, attributes=["department"])
    r = g.set_index(["group", "measure_id"]).loc[("福祉部", "data")]
    assert (r["estimate_from"], r["estimate_to"]) == pytest.approx((R_WELFARE_DATA["est_2024"], R_WELFARE_DATA["est_2025"]), abs=1e-8)
    se = np.hypot(R_WELFARE_DATA["se_2024"], R_WELFARE_DATA["se_2025"])
    assert (r["ci_high"] - r["ci_low"]) / 2 == pytest.approx(1.959963984540054 * se, abs=1e-8)
    assert set(g["group"]) == {"総務部", "福祉部", "建設部"}  # renamed department under today's name
    assert (g["n"] == g[["n_from", "n_to"]].min(axis=1)).all()


def test_change_interval_by_hand():
    r = waves.change_interval(2.0, 0.3, 2.5, 0.4)
    assert r["se"] == pytest.approx(0.5) and r["change"] == pytest.approx(0.5)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((0.5 - 1.959963984540054 * 0.5, 0.5 + 1.959963984540054 * 0.5))
    assert r["p_value"] == pytest.approx(0.3173105078629141)  # 2 * pnorm(-1)


# --------------------------------------------------------------------------- KPIs
class _M:
    language = "ja"

    def __init__(self, measures, actuals=None):
        self.measures, self.actuals = measures, actuals


def test_kpi_progress_statuses():
    measures = pd.DataFrame({"measure_id": ["A", "B", "C"], "measure": ["a", "b", "c"], "kpi": ["課の数", "平均点", "割合"],
                             "kpi_survey": ["", "data", "tool_chat"], "target_2026": ["10", "3.0", "60"], "target_2027": ["20", "3.5", ""]})
    actuals = pd.DataFrame({"measure_id": ["A", "A"], "fiscal_year": [2024, 2025], "actual": [2.0, 7.0], "row": [2, 3]})
    est = pd.DataFrame({"fiscal_year": [2024, 2025, 2024, 2025], "measure_id": ["data", "data", "tool_chat", "tool_chat"],
                        "statistic": ["mean", "mean", "share_using", "share_using"], "estimate": [2.5, 2.6, 0.40, 0.58],
                        "ci_low": [2.4, 2.5, 0.35, 0.52], "ci_high": [2.6, 2.7, 0.45, 0.64]})
    k = waves.kpi_progress(_M(measures, actuals), est).set_index(["measure_id", "fiscal_year"])
    assert k.loc[("A", 2024), "status"] == "baseline"
    # A: line from 2 (2024) to 10 (2026) puts 2025 at 6; 7 > 6 and no interval → ahead
    assert k.loc[("A", 2025), "expected"] == pytest.approx(6.0) and k.loc[("A", 2025), "status"] == "ahead"
    # B: line 2.5 → 3.0 puts 2025 at 2.75; interval 2.5–2.7 is below → behind
    assert k.loc[("B", 2025), "expected"] == pytest.approx(2.75) and k.loc[("B", 2025), "status"] == "behind"
    # C: shares in percent: line 40 → 60 gives 50; interval 52–64 is above → ahead
    assert k.loc[("C", 2025), "actual"] == pytest.approx(58.0) and k.loc[("C", 2025), "status"] == "ahead"
    assert k.loc[("C", 2025), "source"] == "survey:tool_chat"


def test_actuals_problems(sample_copy):
    (sample_copy / "actuals.csv").write_text("measure_id,fiscal_year,actual\nN03,2025,4\nM03,令和7年度,たくさん\nM09,2025,3\nM03,2024,1\nM03,FY2024,2\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        io.load_municipality(sample_copy)
    got = {(p.row, p.column) for p in err.value.problems}
    assert got == {(2, "measure_id"), (3, "actual"), (4, "measure_id"), (6, "fiscal_year")}
    assert "M03" in next(p.message() for p in err.value.problems if p.row == 2)  # did-you-mean


# --------------------------------------------------------------------------- notebook 06 applies only with waves
def test_not_applicable_without_waves(tiny):
    from dxanalysis.config import load_config
    from dxanalysis.runner import not_applicable_reason

    assert "waves" in not_applicable_reason(load_config(tiny), "06_waves")
    assert not_applicable_reason(load_config(SAMPLE), "06_waves") == ""


# --------------------------------------------------------------------------- the sample's planted changes
@pytest.fixture(scope="module")
def sample_tables(sample_municipality):
    m = sample_municipality
    data = waves.wave_data(m)
    est = waves.wave_estimates(data, m)
    truth = yaml.safe_load((SAMPLE / "truth" / "truth.yaml").read_text(encoding="utf-8"))["waves"]
    return m, data, est, waves.wave_changes(est), truth


def test_sample_planted_changes_recovered(sample_tables):
    _, _, _, ch, truth = sample_tables
    c = ch[ch["kind"] == "construct"].set_index("measure_id")
    for cid, expected in truth["expected_change"].items():
        assert c.loc[cid, "ci_low"] <= expected <= c.loc[cid, "ci_high"], cid  # every construct: the truth is inside
    for cid in ("data", "tech"):
        assert c.loc[cid, "q_value"] < 0.05 and c.loc[cid, "change"] > 0, cid
    for cid in truth["unchanged"]:  # mind, why, use, caution: not flagged
        assert not c.loc[cid, "clear"], cid
    assert truth["expected_change"]["mind"] == pytest.approx(0.0, abs=0.01)


def test_sample_trained_segment_moved(sample_tables):
    """With the planted segments (truth/), the trained segment 2 gained on data and tech."""
    m, data, _, _, truth = sample_tables
    labels = {2024: pd.read_csv(SAMPLE / "truth" / "planted_segments_2024.csv", dtype={"respondent_id": str}),
              2025: pd.read_csv(SAMPLE / "truth" / "planted_segments.csv", dtype={"respondent_id": str})}
    for d in data:
        seg = d.survey["respondent_id"].astype(str).map(labels[d.fiscal_year].set_index("respondent_id")["segment"])
        d.survey = d.survey.assign(segment=pd.Categorical(seg.astype(str), categories=["1", "2", "3", "4"]))  # a new frame: the current wave's is the session's sample_municipality.survey
    g = waves.changes_by_group(data, m, attributes=["segment", "department"]).set_index(["attribute", "group", "measure_id"])
    for cid in ("data", "tech", "mind"):
        r = g.loc[("segment", "2", cid)]
        assert r["ci_low"] <= truth["expected_change_segment_2"][cid] <= r["ci_high"], cid
    assert g.loc[("segment", "2", "data"), "clear"] and not g.loc[("segment", "2", "mind"), "clear"]
    assert g.loc[("department", "こども未来部", "data"), "n_from"] > 0  # 子育て支援部 answers counted under today's name
    assert g.loc[("department", "会計課", "data"), "n"] < m.min_group_size  # hidden by Publisher.table


def test_sample_kpi_progress(sample_tables):
    m, _, est, _, _ = sample_tables
    k = waves.kpi_progress(m, est).set_index(["measure_id", "fiscal_year"])
    assert k.loc[("M03", 2025), "status"] == "behind" and k.loc[("M08", 2025), "status"] == "ahead"
    m09 = k.loc[("M09", 2025)]
    assert m09["source"] == "survey:data" and m09["ci_low"] < m09["actual"] < m09["ci_high"]


@pytest.mark.slow
def test_notebook_06_end_to_end(tmp_path):
    """dxanalysis run on the sample, notebook 06 only: tables, a change finding, 06 in index.html."""
    from dxanalysis.cli import main

    assert main(["run", str(SAMPLE), "--reports", str(tmp_path), "--notebook", "06", "--workers", "1", "--no-progress"]) == 0
    rep = tmp_path / "sample"
    for name in ("wave_estimates", "wave_changes", "segment_shift", "kpi_progress", "wave_changes_by_group"):
        assert (rep / "tables" / f"{name}.csv").exists(), name
    ch = pd.read_csv(rep / "tables" / "wave_changes.csv", encoding="utf-8-sig")
    assert list(ch.columns[:11]) == waves.CHANGE_COLUMNS
    grp = pd.read_csv(rep / "tables" / "wave_changes_by_group.csv", encoding="utf-8-sig")
    assert grp.loc[grp["group"] == "会計課", "change"].isna().all()  # 3 respondents: hidden
    index = (rep / "index.html").read_text(encoding="utf-8")
    assert "前回からの変化" in index and "06 経年変化" in index
    html = (rep / "06_waves.html").read_text(encoding="utf-8")
    assert "会計課" not in html or "非表示" in html


def test_run_without_waves_is_not_applicable(tiny, tmp_path):
    """A municipality without earlier waves lists 06 as 対象外 in index.html (no kernel started)."""
    from dxanalysis.runner import run_municipality

    (res,) = run_municipality(tiny, reports_root=tmp_path, notebooks=["06"])
    assert res.status == "not_applicable" and "waves" in res.error
    assert "対象外" in (tmp_path / "tiny" / "index.html").read_text(encoding="utf-8")


def test_describe_matching_words_come_from_the_catalogue():
    # one body for both languages; the sentences are the ones the notebook showed before the move
    m = pd.DataFrame({"match": ["both", "both", "added", "dropped", "dropped"], "label": ["A", "B", "C", "D", "E"], "header_changed": [True, False, False, False, False]})
    assert vwaves.describe_matching(m, "ja") == "両方の年度にある設問・ツール 2 件を比べます。今回から追加: C(比較なし)。今回は削除: D、E(比較なし)。設問文が変わったもの: A(id が同じなので同じ設問として比べます)。"
    assert vwaves.describe_matching(m, "en") == ("2 items and tools present in both years are compared. Added this year: C (not compared). Dropped this year: D, E (not compared). "
                                                "Reworded: A (same id, so compared as the same item).")
