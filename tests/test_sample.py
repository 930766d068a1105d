"""Tests of the sample generator (dxanalysis.sample): sizes, determinism and planted truths.

The planted truths are checked on the written CSV files with pandas / scipy / scikit-learn
directly, independently of the analysis modules.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import mannwhitneyu
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score

from dxanalysis.sample import generate_sample, render_files, write_sample

AGREE = {"まったくそう思わない": 1, "あまりそう思わない": 2, "どちらともいえない": 3, "ややそう思う": 4, "とてもそう思う": 5}
SAT_OK = {"やや満足", "満足"}
EXPECTED_FILES = {
    "municipality.yaml", "codebook.yaml", "roster.csv", "survey.csv", "hypotheses.yaml", "opportunities.yaml",
    "assessment.csv", "measures.csv", "training_pre.csv", "training_post.csv", "training_followup.csv",
    "truth/planted_segments.csv", "truth/truth.yaml",
    "2024/survey.csv", "2024/codebook.yaml", "2024/roster.csv", "actuals.csv", "truth/planted_segments_2024.csv",
}


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("sample") / "sample")


@pytest.fixture(scope="module")
def files(folder):
    """Everything read back from disk, as an analyst would."""
    out = {"codebook": yaml.safe_load((folder / "codebook.yaml").read_text(encoding="utf-8")),
           "truth": yaml.safe_load((folder / "truth" / "truth.yaml").read_text(encoding="utf-8"))}
    for name in ["roster", "survey", "assessment", "measures", "training_pre", "training_post", "training_followup"]:
        out[name] = read_csv(folder / f"{name}.csv")
    out["segments"] = read_csv(folder / "truth" / "planted_segments.csv")
    return out


@pytest.fixture(scope="module")
def scores(files) -> pd.DataFrame:
    """Construct means per respondent (reverse items flipped back, missing ignored) + attributes."""
    cb, survey = files["codebook"], files["survey"]
    out = survey[["ID", "所属部署", "職層", "年代", "雇用形態"]].copy()
    for cid in cb["constructs"]:
        cols = []
        for it in [i for i in cb["items"] if i["construct"] == cid]:
            x = survey[it["header"]].map(AGREE).astype(float)
            cols.append(6 - x if it["reverse"] else x)
        out[cid] = pd.concat(cols, axis=1).mean(axis=1)
    tool = next(t for t in cb["tools"]["items"] if t["id"] == "tool_chat")
    out["tool_chat"] = survey[tool["header"]].map({"使っている": 1.0, "使っていない": 0.0})
    return out


# --------------------------------------------------------------------------- files and determinism
def test_writes_every_file_and_is_byte_identical(folder, tmp_path):
    again = write_sample(tmp_path / "again")
    written = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert written == EXPECTED_FILES
    for rel in EXPECTED_FILES:
        assert (folder / rel).read_bytes() == (again / rel).read_bytes(), rel
    assert (folder / "survey.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM
    other = render_files(generate_sample(seed=1))
    assert other["survey.csv"] != (folder / "survey.csv").read_bytes()


def test_opportunities_is_the_package_default(folder):
    default = Path(__file__).resolve().parents[1] / "dxanalysis" / "resources" / "opportunities.yaml"
    assert (folder / "opportunities.yaml").read_bytes() == default.read_bytes()
    opps = yaml.safe_load(default.read_text(encoding="utf-8"))
    assert 6 <= len(opps) <= 8
    constructs = {"mind", "why", "data", "tech", "use", "caution"}
    for o in opps:
        assert set(o) == {"id", "name", "format", "addresses", "description"}
        assert set(o["addresses"]) <= constructs
    assert set().union(*(o["addresses"] for o in opps)) == constructs


def test_municipality_settings(folder):
    m = yaml.safe_load((folder / "municipality.yaml").read_text(encoding="utf-8"))
    assert m["id"] == "sample" and m["name"] == "サンプル市" and m["fiscal_year"] == 2025
    assert m["min_group_size"] == 5 and m["comment_min_group_size"] == 10 and m["language"] == "ja"
    for rel in m["inputs"].values():
        assert (folder / rel).exists()


def test_text_is_nfkc_stable(folder):
    """Headers and cells already are what the loader's NFKC normalisation produces."""
    for rel in EXPECTED_FILES:
        text = (folder / rel).read_text(encoding="utf-8-sig")
        assert unicodedata.normalize("NFKC", text) == text, rel


# --------------------------------------------------------------------------- survey shape
def test_sizes_and_roster(files):
    roster, survey = files["roster"], files["survey"]
    staff = roster["職員数"].astype(int)
    assert list(roster.columns) == ["所属部署", "職層", "年代", "雇用形態", "職員数"]
    assert 1350 <= staff.sum() <= 1450 and (staff > 0).all()
    assert len(survey) == 500 and survey["ID"].is_unique
    assert roster["所属部署"].nunique() == 9
    # 会計年度任用職員 are 一般職員 only
    assert set(roster.loc[roster["雇用形態"] == "会計年度任用職員", "職層"]) == {"一般職員"}


def test_survey_matches_codebook(files):
    cb, survey = files["codebook"], files["survey"]
    known = {cb["respondent_id"], *cb["ignore"], *(a["header"] for a in cb["attributes"].values()),
             *(i["header"] for i in cb["items"]), *(t["header"] for t in cb["tools"]["items"]),
             *(f["header"] for f in cb["free_text"])}
    assert list(survey.columns[:5]) == ["ID", "開始時刻", "完了時刻", "メール", "名前"]
    assert set(survey.columns) == known
    assert (survey["メール"] == "").all() and (survey["名前"] == "").all()
    for a in cb["attributes"].values():
        assert set(survey[a["header"]]) <= set(a["values"])
    assert len(cb["items"]) == 30 and len(cb["tools"]["items"]) == 5
    for cid in ["mind", "why", "data", "tech", "use", "caution"]:
        items = [i for i in cb["items"] if i["construct"] == cid]
        assert len(items) == 5 and sum(i["reverse"] for i in items) == 1
    likert = survey[[i["header"] for i in cb["items"]]].to_numpy().ravel()
    assert set(likert) <= set(AGREE) | {"わからない", ""}
    assert 0.012 < np.mean(likert == "わからない") < 0.03
    assert 0.005 < np.mean(likert == "") < 0.017
    tools = survey[[t["header"] for t in cb["tools"]["items"]]].to_numpy().ravel()
    assert set(tools) <= {"使っている", "使っていない", ""}
    assert cb["scales"]["sat5"]["labels"][1] == "不満" and cb["scales"]["sat5"]["labels"][5] == "満足"


def test_response_rates_differ_and_small_department(files):
    staff = files["roster"].assign(n=lambda d: d["職員数"].astype(int)).groupby("所属部署")["n"].sum()
    rate = files["survey"]["所属部署"].value_counts().reindex(staff.index, fill_value=0) / staff
    assert rate.max() >= 0.55 and rate.min() <= 0.22
    assert abs(rate["企画政策部"] - 0.6) < 0.05 and abs(rate["都市整備部"] - 0.2) < 0.05
    small = files["survey"]["所属部署"].eq("会計課").sum()
    assert 0 < small < 5 and 10 <= staff["会計課"] <= 14


def test_weighting_changes_construct_means(files, scores):
    """Post-stratifying to the roster (department × age) moves the means visibly."""
    roster = files["roster"].assign(n=lambda d: d["職員数"].astype(int))
    pop = roster.groupby(["所属部署", "年代"])["n"].sum()
    cell = scores.groupby(["所属部署", "年代"])["ID"].transform("size")
    w = pop.reindex(pd.MultiIndex.from_frame(scores[["所属部署", "年代"]])).to_numpy() / cell.to_numpy()
    diffs = {}
    for cid in ["mind", "why", "data", "tech", "use", "caution"]:
        ok = scores[cid].notna().to_numpy()
        diffs[cid] = np.average(scores[cid][ok], weights=w[ok]) - scores[cid][ok].mean()
    assert max(abs(v) for v in diffs.values()) >= 0.1
    truth = files["truth"]["weighting"]
    assert truth["unweighted"]["tech"] - truth["weighted_department_x_age"]["tech"] == pytest.approx(-diffs["tech"], abs=0.002)


# --------------------------------------------------------------------------- planted truths
def test_planted_segments_are_recovered(files, scores):
    cols = ["mind", "why", "data", "tech", "use", "caution"]
    x = scores[cols].to_numpy()
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    labels = KMeans(n_clusters=4, n_init=10, random_state=0).fit_predict(z)
    planted = files["segments"].set_index("respondent_id").loc[scores["ID"], "segment"].astype(int)
    assert adjusted_rand_score(planted, labels) >= 0.85
    sil = {k: silhouette_score(z, KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(z)) for k in range(2, 7)}
    assert max(sil, key=sil.get) == 4
    # the planted profile: 1 high on all, 2 high mind/why low skills, 3 the reverse, 4 low on all
    m = scores.assign(seg=planted.to_numpy()).groupby("seg")[cols].mean()
    skills = ["data", "tech", "use"]
    assert (m.loc[1] > 3.5).all() and (m.loc[4, cols[:5]] < 2.5).all()
    assert (m.loc[2, ["mind", "why"]] > 3.5).all() and (m.loc[2, skills] < 2.5).all()
    assert (m.loc[3, ["mind", "why"]] < 2.5).all() and m.loc[3, skills].between(2.8, 4.0).all()
    assert files["truth"]["segments"]["count"] == 4


def _bh(p):
    p = np.asarray(p)
    order = np.argsort(p)
    q = np.minimum.accumulate((p[order] * len(p) / np.arange(1, len(p) + 1))[::-1])[::-1]
    out = np.empty(len(p))
    out[order] = q
    return out


def test_hypotheses_verdicts_are_visible(folder, scores, files):
    hyps = yaml.safe_load((folder / "hypotheses.yaml").read_text(encoding="utf-8"))
    attr_header = {k: v["header"] for k, v in files["codebook"]["attributes"].items()}
    diffs, pvals = [], []
    for h in hyps:
        col = scores[attr_header[h["attribute"]]]
        g = col.isin(h["group"])
        v = col.isin(h["versus"]) if "versus" in h else ~g
        a, b = scores.loc[g, h["measure"]].dropna(), scores.loc[v, h["measure"]].dropna()
        diffs.append(a.mean() - b.mean())
        pvals.append(mannwhitneyu(a, b).pvalue)
    q = dict(zip([h["id"] for h in hyps], _bh(pvals)))
    d = dict(zip([h["id"] for h in hyps], diffs))
    assert d["H1"] < 0 and q["H1"] < 0.001  # young staff are LESS positive: 反証
    assert d["H2"] > 0 and q["H2"] < 0.001  # young staff know more tech: 支持
    assert d["H4"] > 0 and q["H4"] < 0.001  # managers understand why: 支持
    assert q["H3"] > 0.05 and q["H5"] > 0.05  # no difference: 判定不能
    verdicts = {h["id"]: h["verdict"] for h in files["truth"]["hypotheses"]}
    assert verdicts == {"H1": "反証", "H2": "支持", "H3": "判定不能", "H4": "支持", "H5": "判定不能"}
    for h in files["truth"]["hypotheses"]:
        if h["verdict"] != "判定不能":
            assert 0.5 <= abs(h["cohens_d"]) <= 0.85


def test_null_hypotheses_are_exactly_null_in_the_model():
    """At n=100,000 the planted null effects vanish and the planted ones stay."""
    data = generate_sample(n_respondents=100_000)
    assert len(data.survey) == 100_000 and data.roster["職員数"].sum() == 280_000
    d = {h["id"]: h["cohens_d"] for h in data.truth["hypotheses"]}
    assert abs(d["H3"]) < 0.03 and abs(d["H5"]) < 0.03
    assert d["H1"] < -0.4 and d["H2"] > 0.4 and d["H4"] > 0.4


def test_free_text_and_planted_personal_data(files):
    cb, survey = files["codebook"], files["survey"]
    text = survey[cb["free_text"][0]["header"]]
    assert 0.33 <= (text != "").mean() <= 0.47
    assert text[text != ""].nunique() >= 60
    planted = files["truth"]["comments"]["personal_data"]
    kinds = {k for p in planted for k in p["kinds"]}
    assert kinds == {"name", "phone", "email", "staff_number"}
    rows = set()
    for p in planted:
        i = p["row"] - 2  # spreadsheet row → index
        assert survey["ID"].iloc[i] == p["respondent_id"]
        assert all(v in text.iloc[i] for v in p["values"])
        rows.add(i)
    pattern = re.compile(r"@|\d{2,4}-\d{4}-\d{4}|[A-Z]\d{5}|さん|課長|係長")
    hits = {i for i, t in text.items() if pattern.search(t)}
    assert hits == rows


def test_measures_have_one_dependency_violation(files):
    m = files["measures"].set_index("measure_id")
    start = m["start_fy"].astype(int)
    assert 6 <= len(m) <= 10 and (start >= 2026).all() and (m["end_fy"].astype(int) <= 2028).all()
    violations = [mid for mid, deps in m["depends_on"].items() for dep in filter(None, deps.split(";")) if start[dep] > start[mid]]
    assert violations == [files["truth"]["measures"]["dependency_violation"]]
    assert {s for v in m["segments"] for s in v.split(";") if s} <= {"1", "2", "3", "4"}
    items = set(files["assessment"]["item_id"])
    assert all(i in items for s in m["items"] for i in s.split(";"))


def test_assessment_levels(files):
    a = files["assessment"]
    linked = a["survey_construct"] != ""
    assert linked.sum() == 2 and (a.loc[linked, "current"] == "").all()
    current = a.loc[~linked, "current"].astype(int)
    target = a["target"].astype(int)
    assert abs(current.mean() - 1.67) < 0.15 and abs(target.mean() - 3.34) < 0.15
    assert (target[~linked] >= current).all() and a["item_id"].is_unique


# --------------------------------------------------------------------------- training
def test_training_effect_and_matching_problems(files):
    pre, post, fu = files["training_pre"], files["training_post"], files["training_followup"]
    truth = files["truth"]["training"]["matching_problems"]
    assert post["回答キー"][post["回答キー"].duplicated()].tolist() == [truth["duplicate_post_key"]]
    assert sorted(set(post["回答キー"]) - set(pre["回答キー"])) == sorted(truth["post_keys_without_pre"])
    assert sorted(set(pre["回答キー"]) - set(post["回答キー"])) == sorted(truth["pre_keys_without_post"])
    assert set(fu["区分"]) == {"受講者"} and set(fu["回答キー"]) <= set(pre["回答キー"]) & set(post["回答キー"])
    assert set(pre["回答キー"]) <= set(files["survey"]["ID"])  # keys join to the survey
    assert "研修の満足度" not in pre.columns and "研修の満足度" in post.columns

    items = ["デジタル化に前向きだ", "業務データの集計や見える化の方法が分かる",
             "クラウドや生成AIなどの技術の特徴を説明できる", "新しいデジタルツールを自分で試してみる自信がある"]
    m = pre.merge(post.drop_duplicates("回答キー"), on=["回答キー", "区分"], suffixes=("_pre", "_post"))
    change = {g: {h: (d[h + "_post"].map(AGREE) - d[h + "_pre"].map(AGREE)).mean() for h in items}
              for g, d in m.groupby("区分")}
    part, nonp = change["受講者"], change["非受講者"]
    assert part[items[0]] == pytest.approx(0.5, abs=0.2)
    assert np.mean([part[h] for h in items[1:]]) == pytest.approx(1.0, abs=0.2)
    assert all(abs(v) < 0.2 for v in nonp.values())
    p = m[m["区分"] == "受講者"]
    assert (p["業務の具体的な改善をイメージできる_pre"] == "はい").mean() <= 0.1
    assert (p["業務の具体的な改善をイメージできる_post"] == "はい").mean() >= 0.25
    sat = post.drop_duplicates("回答キー").query("区分 == '受講者'")["研修の満足度"]
    assert sat.isin(SAT_OK).mean() >= 0.9
    # follow-up keeps about 70% of the knowledge gain
    f = pre.merge(fu, on=["回答キー", "区分"], suffixes=("_pre", ""))
    kept = np.mean([(f[h].map(AGREE) - f[h + "_pre"].map(AGREE)).mean() for h in items[1:]])
    assert 0.5 <= kept / np.mean([part[h] for h in items[1:]]) <= 0.9
    seg = files["segments"].set_index("respondent_id")["segment"]
    parts = set(pre.loc[pre["区分"] == "受講者", "回答キー"]) | set(post.loc[post["区分"] == "受講者", "回答キー"])
    assert 40 <= len(parts) <= 50 and (seg.loc[sorted(parts)] == "2").sum() == 30


# --------------------------------------------------------------------------- scaling and API
def test_small_sample_writes(tmp_path):
    folder = write_sample(tmp_path / "tiny", n_respondents=50, seed=7, municipality_id="tiny", name="ちいさな町")
    survey = read_csv(folder / "survey.csv")
    assert len(survey) == 50
    assert 120 <= read_csv(folder / "roster.csv")["職員数"].astype(int).sum() <= 160
    assert yaml.safe_load((folder / "municipality.yaml").read_text(encoding="utf-8"))["name"] == "ちいさな町"
    assert len(read_csv(folder / "training_pre.csv")) >= 5


def test_bad_arguments():
    with pytest.raises(ValueError):
        generate_sample(municipality_id="Bad ID")
    with pytest.raises(ValueError):
        generate_sample(n_respondents=5)


def test_loads_with_the_project_loader(folder):
    io = pytest.importorskip("dxanalysis.io")
    m = io.load_municipality(folder)
    assert len(m.survey) == 500
    assert m.training is not None and len(m.training.pre) > 0
