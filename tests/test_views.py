"""Views (issue #18, words in one place): one body per sentence, words from the catalogue.

The Japanese sentences are pinned to what the step modules wrote before the move (the
Japanese run is unchanged); the English ones hold no Japanese beyond the data values.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest

from dxanalysis import i18n
from dxanalysis.views import roadmap as vroadmap
from dxanalysis.views import segments as vseg
from dxanalysis.views import training as vtraining
from dxanalysis.views import waves as vwaves

ROOT = Path(__file__).resolve().parents[1]
DATA = {"データ活用", "Web会議", "推進役", "学びたい層", "前向き", "試す自信", "不満", "満足", "推進体制", "業務改革", "慎重派", "所属部署", "総務部", "福祉部"}


def _cases(language: str) -> dict[str, str]:
    row = SimpleNamespace(label="データ活用", fy_from=2024, fy_to=2025, estimate_from=2.56, estimate_to=2.80, change=0.24, ci_low=0.10, ci_high=0.38, q_value=0.00518, statistic="mean")
    share = SimpleNamespace(label="Web会議", fy_from=2024, fy_to=2025, estimate_from=0.816, estimate_to=0.791, change=-0.025, ci_low=-0.079, ci_high=0.029, q_value=0.4, statistic="share_using")
    shift = pd.DataFrame({"segment_name": ["推進役", "学びたい層"], "share_from": [0.21, 0.30], "share_to": [0.24, 0.31], "clear": [True, False]})
    tests = pd.DataFrame({"label": ["前向き", "試す自信"], "share_improved": [0.5, 0.3], "share_worse": [0.1, 0.05], "n_improved": [10, 6], "n_worse": [2, 1], "n_pairs": [20, 20],
                          "effect_size": [0.6, 0.3], "ci_low": [0.4, np.nan], "ci_high": [0.8, np.nan], "ci_note": ["", "same"], "q_value": [0.01, 0.2]})
    dist = pd.DataFrame({"label": ["不満", "満足"], "count": [2, 18], "n": [20, 20], "share": [0.1, 0.9], "value": [1, 5]})
    did = pd.DataFrame({"label": ["前向き"], "estimate": [0.61], "ci_low": [0.36], "ci_high": [0.86]})
    domains = pd.DataFrame({"domain": ["推進体制", "業務改革"], "gap_mean": [2.0, 0.7]})
    prof = pd.DataFrame({"segment": [1, 1, 2, 2], "segment_name": ["推進役", "推進役", "慎重派", "慎重派"], "construct_label": ["データ活用", "Web会議", "データ活用", "Web会議"],
                         "z": [0.5, 0.2, 0.3, -0.4], "mean": [3.5, 3.2, 3.3, 2.6]})
    comp = pd.DataFrame({"attribute": ["department"] * 2, "attribute_label": ["所属部署"] * 2, "segment": [1, 1], "segment_name": ["推進役"] * 2, "group": ["総務部", "福祉部"],
                         "group_share": [0.5, 0.2]})
    return {
        "change": vwaves.describe_change(row, language),
        "change_share": vwaves.describe_change(share, language),
        "shift": vwaves.describe_shift(shift, language),
        "t_changes": vtraining.describe_changes(tests, language=language),
        "t_effects": vtraining.describe_effects(tests, language=language),
        "t_dist": vtraining.describe_distribution(dist, language=language),
        "t_did": vtraining.describe_did(did, language=language),
        "r_domains": vroadmap.describe_domain_gaps(domains, language=language),
        "g_profiles": vseg.describe_profiles(prof, language=language),
        "g_comp": vseg.describe_compositions(comp, language=language),
    }


#: what the step modules wrote before the sentences moved to the views (the Japanese run is unchanged)
PINNED_JA = {
    "change": "データ活用: 令和6年度 2.56 → 令和7年度 2.80(変化 +0.24、95%信頼区間 +0.10〜+0.38、q = 0.00518)。上がりました。",
    "change_share": "Web会議: 令和6年度 81.6% → 令和7年度 79.1%(変化 -2.5ポイント、95%信頼区間 -7.9ポイント〜+2.9ポイント、q = 0.4)。はっきりした変化はありません。",
    "shift": "職員全体に占める割合(推定): 推進役 21% → 24%、学びたい層 30% → 31%。割合がはっきり変わったセグメント: 推進役。",
    "t_changes": "研修前より回答が上がった人の割合は「前向き」が最も高く50%、最も低い「試す自信」で30%。下がった人は各項目5%〜10%。",
    "t_effects": "最も大きいのは「前向き」(+0.60、95%区間 0.40〜0.80)、最も小さいのは「試す自信」(+0.30、変化した人は全員が同じ向きのため区間なし)。q値が0.05未満(変化あり)は2件中1件。",
    "t_dist": "回答の分布は「不満」2人(10%)、「満足」18人(90%)。4以上は合わせて90%(18/20人)。",
    "t_did": "受講者の変化から非受講者の変化を引いた差は「前向き」+0.61(95%区間 0.36〜0.86)。",
    "r_domains": "ギャップ(目標−現状)の平均が最も大きい領域は「推進体制」(2.0段階)、最も小さいのは「業務改革」(0.7段階)。",
    "g_profiles": "構成概念の平均(1〜5点): 1「推進役」はすべての構成概念で職員平均を上回る(最も上回るのはデータ活用 3.50点)。"
                  "2「慎重派」はデータ活用が職員平均を最も上回り(3.30点)、Web会議が最も下回る(2.60点)。",
    "g_comp": "所属部署別: 1「推進役」の割合が最も高いのは総務部(50%)。",
}


def _assert_english_beyond(cases: dict, data) -> None:
    """Every English sentence holds no Japanese once the data values (longest first) are removed."""
    for key, text in cases.items():
        rest = text
        for v in sorted(data, key=len, reverse=True):
            rest = rest.replace(v, " ")
        assert not i18n.has_japanese(rest), f"{key}: {text}"


def test_japanese_sentences_are_unchanged_by_the_move():
    assert _cases("ja") == PINNED_JA


def test_merge_note_in_both_languages():
    model = SimpleNamespace(merged_=[(5, 2)], min_segment_size=10, k_=5, n_segments_=4)
    assert vseg.describe_merges(model) == "人数が10人未満のセグメントが1つあったため、中心が最も近いセグメントに統合しました(統合前 k=5、統合後 4)。"
    assert vseg.describe_merges(model, "en") == "1 segments had fewer than 10 people and were merged into the segment with the nearest centre (k=5 before, 4 after)."
    assert vseg.describe_merges(SimpleNamespace(merged_=[])) is None


def test_english_sentences_hold_no_japanese_beyond_data_values():
    _assert_english_beyond(_cases("en"), DATA)
    en = _cases("en")
    assert en["change"] == "データ活用: FY2024 2.56 → FY2025 2.80 (change +0.24, 95% confidence interval +0.10 to +0.38, q = 0.00518). Up."
    assert "-2.5 points" in en["change_share"] and "No clear change." in en["change_share"]


# --------------------------------------------------------------------------- every key used exists
_LITERAL_KEY = re.compile(r"""(?:i18n\.t|pub\.text|\.text)\(\s*f?["']([\w.]+)["']""")


def _view_keys(path: Path) -> set[str]:
    """Keys a views module looks up through its ``_t("…")`` helper (prefix + key)."""
    src = path.read_text(encoding="utf-8")
    prefix = re.search(r'i18n\.t\(f"(\w+)\.\{key\}"', src)
    if not prefix:
        return set()
    keys = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "_t" and node.args and isinstance(node.args[0], ast.Constant):
            keys.add(f"{prefix.group(1)}.{node.args[0].value}")
    return keys


def test_every_catalogue_key_used_exists():
    used: dict[str, str] = {}
    for path in [*sorted((ROOT / "dxanalysis").rglob("*.py"))]:
        for key in _LITERAL_KEY.findall(path.read_text(encoding="utf-8")):
            if "{" not in key:
                used[key] = path.name
        for key in _view_keys(path):
            used[key] = path.name
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(str(path), as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                for key in _LITERAL_KEY.findall(cell.source):
                    used[key] = path.name
    dynamic = {k for k in used if k.endswith(".")}  # f-string prefixes such as "verdict."
    missing = {k: where for k, where in used.items() if k not in i18n.TEXT and k not in dynamic and "." in k}
    assert len(used) > 150, len(used)
    assert not missing, missing


@pytest.mark.parametrize("key", sorted(i18n.TEXT))
def test_catalogue_entry_has_both_languages_and_the_same_placeholders(key):
    import string

    ja, en = i18n.TEXT[key]
    fields = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in (ja, en)]
    assert ja.strip() and en.strip()
    assert fields[0] == fields[1]
    assert not i18n.has_japanese(en)


def test_segment_weighting_and_opportunities_in_both_languages():
    res = SimpleNamespace(weights=pd.Series([1.0]), design_effect=1.2345, n_eff=412.6)
    opp = pd.DataFrame({"rank": [1, 2, 1], "segment": [1, 1, 2], "segment_name": ["推進役", "推進役", "慎重派"], "opportunity": ["A研修", "B", "C研修"]})
    assert vseg.describe_weighting(res) == ("職員全体の推定割合の95%信頼区間は、重みのばらつきによるデザイン効果 1.23(回答者509人が、重みのない約413人分の情報に相当)"
                                            "を考慮したWilsonの方法で計算しました。")
    assert vseg.describe_opportunities(opp) == "セグメントごとに最初に勧める機会: 1「推進役」→A研修、2「慎重派」→C研修。"
    assert vseg.describe_opportunities(opp, language="en") == "First opportunity for each segment: 1 \u201c推進役\u201d → A研修, 2 \u201c慎重派\u201d → C研修."


# --------------------------------------------------------------------------- segments: number of segments, sizes, training targets
def _seg_model(rule="silhouette", k=3, structure=True, k_sil=3, k_bic=3, sil=0.51, ari=1.0):
    sel = pd.DataFrame({"method": ["kmeans", "gmm", "gmm", "gmm"], "k": [k, 1, 3, 4], "chosen": [True, False, False, False],
                        "silhouette": [sil, np.nan, np.nan, np.nan], "stability_ari": [ari, np.nan, np.nan, np.nan], "bic": [np.nan, 5012.34, 4890.12, 4950.5]})
    return SimpleNamespace(selection_=sel, criterion_k_={"silhouette": k_sil, "bic": k_bic}, k_=k, rule_=rule, stability_threshold=0.8,
                           structure_found_=structure, bic_single_=5012.34)


SEG_MODELS = {
    "agree": _seg_model(), "disagree": _seg_model(k_bic=4), "unstable": _seg_model(rule="silhouette_unstable", ari=0.55), "bic": _seg_model(rule="bic", sil=np.nan),
    "given": _seg_model(rule="given", k_sil=4, k_bic=4), "none": _seg_model(structure=False, k_bic=1),
    "k1": _seg_model(rule="bic", k=1, structure=False, k_sil=2, k_bic=1, sil=np.nan, ari=np.nan),
}
SEG_TABLE = pd.DataFrame({"segment": [1, 2, 3], "name": ["推進役", "学びたい層", "慎重派"], "n": [120, 132, np.nan], "share": [0.24, 0.26, np.nan],
                          "weighted_share": [0.238, 0.311, np.nan], "weighted_ci_low": [0.1996, 0.2684, np.nan], "weighted_ci_high": [0.2815, 0.3573, np.nan]})
SEG_TARGETS = pd.DataFrame({"segment": [2, 3], "segment_name": ["学びたい層", "慎重派"], "reason": ["スキルが低い", "意欲が低い"]})


def _seg_cases(language: str) -> dict[str, str]:
    out = {}
    for name, model in SEG_MODELS.items():
        out[f"selection.{name}"] = vseg.describe_selection(model, language=language)
        out[f"support.{name}"] = vseg.describe_support(model, language)
        out[f"table.{name}"] = vseg.describe_table(SEG_TABLE, model=model, language=language)
    out["targets"] = vseg.describe_training_targets(SEG_TARGETS, SEG_TABLE, "ハンズオン研修", language=language)
    out["targets.none"] = vseg.describe_training_targets(SEG_TARGETS.iloc[:0], SEG_TABLE, "ハンズオン研修", language=language)
    return out


#: what segments.describe_selection / describe_support / describe_table / describe_training_targets wrote before the move
SEG_PINNED_JA = {
    "selection.agree": "安定性の基準(再標本化ARI≥0.8)を満たすkのうち平均シルエット幅が最大のk=3を選択。k=3のシルエット0.51、再標本化ARI1.00。シルエット(k平均法)とBIC(混合ガウスモデル)はどちらも同じk=3を支持し、k=3のBIC 4,890.1は分けないモデル(k=1)のBIC 5,012.3より小さい。",
    "selection.disagree": "安定性の基準(再標本化ARI≥0.8)を満たすkのうち平均シルエット幅が最大のk=3を選択。k=3のシルエット0.51、再標本化ARI1.00。シルエット(k平均法)はk=3、BIC(混合ガウスモデル)はk=4を支持し、基準が一致しない(k=4のBIC 4,950.5は分けないモデル(k=1)のBIC 5,012.3より小さい)。",
    "selection.unstable": "安定性の基準を満たすkがなく、平均シルエット幅が最大のk=3を選択(解釈に注意)。k=3のシルエット0.51、再標本化ARI0.55。シルエット(k平均法)とBIC(混合ガウスモデル)はどちらも同じk=3を支持し、k=3のBIC 4,890.1は分けないモデル(k=1)のBIC 5,012.3より小さい。",
    "selection.given": "セグメント数はアドバイザーが3に指定。k=3のシルエット0.51、再標本化ARI1.00。シルエット(k平均法)とBIC(混合ガウスモデル)はどちらも同じk=4を支持し、k=4のBIC 4,950.5は分けないモデル(k=1)のBIC 5,012.3より小さい。",
    "selection.none": "安定性の基準(再標本化ARI≥0.8)を満たすkのうち平均シルエット幅が最大のk=3を選択。k=3のシルエット0.51、再標本化ARI1.00。混合ガウスモデルのBICは、セグメントに分けないモデル(k=1、全員が1つのまとまり)で最も小さく(5,012.3)、データには明確なセグメント構造が見つかりませんでした。k=3のセグメントは、連続的に分布する得点を便宜上区切ったもので、はっきり分かれた集団ではありません。境目付近の職員はどちらのセグメントにも入りうるので、名称と人数は目安として読んでください。",
    "selection.k1": "全員を1つのセグメントとし、セグメントには分けませんでした。混合ガウスモデルのBICは、セグメントに分けないモデル(k=1、全員が1つのまとまり)で最も小さく(5,012.3)、データには明確なセグメント構造が見つかりませんでした。",
    "support.bic": "再標本化の安定性ARI 1.00、混合ガウスモデルのBICもk=3で最小で、分けないモデル(k=1)より小さい",
    "table.agree": "回答者を3つのセグメントに分けました(根拠: 再標本化の安定性ARI 1.00、平均シルエット幅 0.51が最大、混合ガウスモデルのBICもk=3で最小で、分けないモデル(k=1)より小さい): 1「推進役」120人(回答者の24%。職員全体では推定24%、95%信頼区間20〜28%)、2「学びたい層」132人(回答者の26%。職員全体では推定31%、95%信頼区間27〜36%)。",
    "table.none": "明確なセグメント構造は見つかりませんでした(混合ガウスモデルのBICでは分けないモデル(k=1)が最も良く、明確なセグメント構造は見つかっていない)。便宜上3つに区切ると: 1「推進役」120人(回答者の24%。職員全体では推定24%、95%信頼区間20〜28%)、2「学びたい層」132人(回答者の26%。職員全体では推定31%、95%信頼区間27〜36%)。",
    "table.k1": "明確なセグメント構造は見つかりませんでした(混合ガウスモデルのBICでは分けないモデル(k=1)が最も良く、明確なセグメント構造は見つかっていない)。便宜上3つに区切ると: 1「推進役」120人(回答者の24%。職員全体では推定24%、95%信頼区間20〜28%)、2「学びたい層」132人(回答者の26%。職員全体では推定31%、95%信頼区間27〜36%)。",
    "targets": "研修「ハンズオン研修」の対象は セグメント2「学びたい層」(回答者の26%。職員全体では推定31%、95%信頼区間27〜36%; 理由: スキルが低い)、セグメント3「慎重派」(少人数; 理由: 意欲が低い)。",
    "targets.none": "研修「ハンズオン研修」を第一の推奨とするセグメントはありません。",
}


def test_segment_sentences_in_japanese_are_unchanged_by_the_move():
    got = _seg_cases("ja")
    assert {k: got[k] for k in SEG_PINNED_JA} == SEG_PINNED_JA


def test_segment_sentences_in_english_hold_no_japanese_beyond_data_values():
    data = {"推進役", "学びたい層", "慎重派", "ハンズオン研修", "スキルが低い", "意欲が低い"}
    _assert_english_beyond(_seg_cases("en"), data)
    en = _seg_cases("en")
    assert en["support.disagree"] == "resampling stability ARI 1.00, mean silhouette width 0.51 (the largest), but the Gaussian mixture's BIC is lowest at k=4: the criteria disagree"
    assert "(24% of respondents; an estimated 24% of all staff, 95% confidence interval 20–28%)" in en["table.agree"]


def test_wave_codes_labelled_by_the_view_as_before():
    """The step returns ``match`` / ``status`` codes; the view adds the labels the step wrote before the move."""
    matching = pd.DataFrame({"kind": ["item"] * 3, "measure_id": ["a", "b", "c"], "label": ["A", "B", "C"], "match": ["both", "added", "dropped"],
                             "header_before": ["x", None, "z"], "header_now": ["x", "y", None], "header_changed": [False, False, False]})
    ja = vwaves.label_matching(matching)
    assert list(ja.columns) == ["kind", "measure_id", "label", "match", "match_label", "header_before", "header_now", "header_changed"]
    assert ja["match_label"].tolist() == ["両方の年度", "今回から追加", "今回は削除"]
    assert vwaves.label_matching(matching, "en")["match_label"].tolist() == ["both years", "added this year", "dropped this year"]
    assert [vwaves.status_label(s) for s in ("ahead", "on_track", "behind", "baseline", "no_target")] == ["計画より先行", "計画どおり", "計画より遅れ", "基準年(前回の値)", "目標なし"]
    assert [vwaves.status_label(s, "en") for s in ("ahead", "on_track", "behind", "baseline", "no_target")] == ["ahead", "on track", "behind", "baseline", "no target"]


# --------------------------------------------------------------------------- training: headlines, notes, method texts
def _pairs(before, after, kind="likert"):
    n = len(before)
    return pd.DataFrame({"key": [f"k{i}" for i in range(n)], "group": "participant", "item": "a", "kind": kind,
                         "before": np.array(before, float), "after": np.array(after, float), "row_before": 2, "row_after": 2})


def _training_cases(language: str) -> dict[str, str]:
    from dxanalysis import training as tr

    out = {"share": vtraining.share_sentence("満足", 199, 200, 0.972, 0.999, language=language), "share.0": vtraining.share_sentence("満足", 0, 0, np.nan, np.nan, language=language),
           "same_up": tr.same_direction_note(6, 0, 6, language=language), "same_down": tr.same_direction_note(0, 4, 10, language=language)}
    for role in ("satisfaction", "attitude", "planned_action", "comment"):
        out[f"role.{role}"] = vtraining.role_note(role, language=language)
    for name, b, a, kind in [("p.up", [3] * 6, [4] * 6, "likert"), ("p.mixed", [3, 4, 2, 5, 3, 1, 2, 4], [4, 3, 4, 5, 5, 2, 3, 4], "likert"), ("p.none", [3] * 4, [3] * 4, "likert"),
                             ("p.yesno", [0, 0, 1, 0, 1, 0, 0, 1], [1, 1, 1, 0, 1, 1, 0, 1], "yesno")]:
        t = tr.paired_tests(_pairs(b, a, kind), n_boot=200, language=language).iloc[0]
        out[name] = f"{t['method']} | {t['ci_note']}"
    heads = pd.DataFrame([{"metric": "satisfied", "label": "研修に満足", "n": 4, "sentence": "x"}])
    out["head.hidden"] = vtraining.headline_text(heads, "satisfied", min_group_size=5, language=language)
    out["head.none"] = vtraining.headline_text(heads, "positive_after", min_group_size=5, language=language)
    return out


#: what training.share_sentence / same_direction_note / METHOD_TEXT / ROLE_MISSING / headline_text wrote before the move
TRAINING_PINNED_JA = {
    "share": "満足: 99.5%(199/200人、95%信頼区間 97.2–99.9%)",
    "share.0": "満足: 回答なし",
    "same_up": "全員が同じ向き(変化した6人は全員上がった)。上がった人 100%(6/6人、95%信頼区間 61.0–100.0%)",
    "same_down": "全員が同じ向き(変化した4人は全員下がった)。下がった人 40%(4/10人、95%信頼区間 16.8–68.7%)",
    "role.satisfaction": "研修の満足度の設問がないため省略",
    "role.comment": "研修の感想の設問がないため省略",
    "p.up": "Wilcoxon符号付順位検定(Pratt法、正確法)。効果量: 順位双列相関。効果量の区間なし(全員が同じ向き) | 全員が同じ向き(変化した6人は全員上がった)。上がった人 100%(6/6人、95%信頼区間 61.0–100.0%)",
    "p.mixed": "Wilcoxon符号付順位検定(Pratt法、正確法)。効果量: 順位双列相関。区間: ブートストラップ200回 | ",
    "p.yesno": "McNemar検定(正確二項検定)。効果量: 「はい」の割合の差。区間: Newcombe法(Wilson区間の組合せ) | ",
    "p.none": "全員が前後で同じ回答(差がすべて0)のため検定できません | ",
    "head.hidden": "研修に満足: 非表示(少人数)",
    "head.none": "該当する項目がありません。",
}


def test_training_words_in_japanese_are_unchanged_by_the_move():
    got = _training_cases("ja")
    assert {k: got[k] for k in TRAINING_PINNED_JA} == TRAINING_PINNED_JA


def test_training_words_in_english_hold_no_japanese_beyond_data_values():
    _assert_english_beyond(_training_cases("en"), {"満足", "研修に"})
    en = _training_cases("en")
    assert en["share"] == "満足: 99.5% (199/200, 95% CI 97.2–99.9%)"
    assert en["same_up"] == "all changed the same way (all 6 who changed rose). rose: 100% (6/6, 95% CI 61.0–100.0%)"


# --------------------------------------------------------------------------- roadmap: labels, dependency notes, sensitivity summary
def test_roadmap_words_in_japanese_are_unchanged_by_the_move():
    """What roadmap.py's WEIGHT_LABELS / QUADRANT_LABELS / FAMILY_LABELS / dependency_check / fy_labels /
    sensitivity_summary wrote before the move to the catalogue and views.roadmap."""
    from dxanalysis import roadmap as rm

    assert [rm.weight_label(w) for w in rm.WEIGHT_NAMES] == ["ギャップ", "重要度", "実現容易性"]
    assert [rm.quadrant_label(*k) for k in rm.QUADRANTS] == ["重点課題(最優先で取り組む)", "計画的に取り組む", "維持・強化する", "経過を見守る"]
    assert [rm.family_label(f) for f in rm.FAMILIES] == ["重みの変更", "評価±1", "アンケートの区間"]
    assert vroadmap.fy_labels(["fy_2026", "target_2027", "x"]) == {"fy_2026": "令和8年度", "target_2027": "令和9年度目標"}
    assert vroadmap.fy_labels(["fy_2026", "target_2027"], "en") == {"fy_2026": "FY2026", "target_2027": "FY2027 target"}
    ms = pd.DataFrame({"measure_id": ["M06", "M07"], "measure": ["データ活用ワークショップ", "基盤の整備"], "start_fy": [2026, 2027], "end_fy": [2027, 2028],
                       "depends_on": [["M07"], []]})
    assert rm.dependency_check(ms)["note"].tolist() == ["M06 データ活用ワークショップ(令和8年度開始)は、前提の M07 基盤の整備(令和9年度開始)より先に始まります。開始年度を見直してください。"]
    assert rm.dependency_check(ms, language="en")["note"].tolist() == ["M06 データ活用ワークショップ (FY2026) starts before M07 基盤の整備 (FY2027), which it depends on. Review the start years."]
    sens = pd.DataFrame({"item_id": ["A1"] * 3, "item": ["x"] * 3, "base_rank": [2] * 3, "family": ["weight", "rating", "survey"], "scenario_id": ["g", "r", "s"],
                         "rank": [5, 2, 1]})
    ja = vroadmap.sensitivity_summary(sens, top=3).iloc[0]
    assert (ja["weight_ranks"], ja["rating_ranks"], ja["survey_ranks"]) == ("2〜5位", "2位", "1〜2位")
    en = vroadmap.sensitivity_summary(sens, top=3, language="en").iloc[0]
    assert (en["weight_ranks"], en["rating_ranks"], en["survey_ranks"], en.name) == ("#2–5", "#2", "#1–2", 0)
    assert rm.rank_stability(sens, top=3)["moved_by"].iloc[0] == "重みの変更・アンケートの区間"


# --------------------------------------------------------------------------- compare (notebook 05)
def _compare_cases(mod, language):
    rates = pd.DataFrame({"name": ["A市", "B町"], "response_rate": [0.42, 0.71]})
    same = pd.DataFrame({"name": ["A市", "B町"], "response_rate": [0.42, 0.418]})
    scores = pd.DataFrame({"municipality": ["a", "b", "a", "b"], "name": ["A市", "B町"] * 2, "construct": ["c1", "c1", "c2", "c2"], "construct_label": ["データ活用"] * 2 + ["マインド"] * 2,
                           "weighted": [2.5, 3.1, 3.0, 3.05], "ci_low": [2.3, 2.9, 2.8, 2.9], "ci_high": [2.7, 3.3, 3.2, 3.2]})
    scores_ov = scores.assign(ci_low=[2.3, 2.4, 2.8, 2.9], ci_high=[2.7, 3.3, 3.2, 3.2])
    shares = pd.DataFrame({"municipality": ["a", "b", "a", "b"], "name": ["A市", "B町"] * 2, "segment": [1, 1, 2, 2], "segment_name": ["推進役"] * 2 + ["慎重派"] * 2, "share": [0.2, 0.35, 0.8, 0.65]})
    return {"rates": mod.describe_response_rates(rates, language=language), "rates.same": mod.describe_response_rates(same, language=language),
            "rates.none": mod.describe_response_rates(rates.iloc[:0], language=language),
            "scores": mod.describe_construct_scores(scores, language=language), "scores.ov": mod.describe_construct_scores(scores_ov, language=language),
            "scores.none": mod.describe_construct_scores(scores.iloc[:1], language=language),
            "shares": mod.describe_segment_shares(shares, language=language), "shares.none": mod.describe_segment_shares(shares.iloc[:0], language=language)}


#: what compare.describe_* wrote before the move to views.compare
COMPARE_PINNED = {
    "ja": {
        "rates": "回答率はA市の42%からB町の71%まで。",
        "rates.same": "回答率はどの自治体も約42%。",
        "rates.none": "表示できる自治体がありません。",
        "scores": "自治体間の差が最も大きいのはデータ活用で、B町が3.10、A市が2.50(重み付き平均)。95%信頼区間は重なっていません。",
        "scores.ov": "自治体間の差が最も大きいのはデータ活用で、B町が3.10、A市が2.50(重み付き平均)。95%信頼区間は重なっており、はっきりした差とはいえません。",
        "scores.none": "比較できる自治体がありません。",
        "shares": "割合の差が最も大きいのはセグメント2(慎重派)で、A市は80%、B町は65%。",
        "shares.none": "比較できる自治体がありません。"
    },
    "en": {
        "rates": "Response rates range from 42% (A市) to 71% (B町).",
        "rates.same": "All response rates are about 42%.",
        "rates.none": "No municipality can be shown.",
        "scores": "Municipalities differ most on データ活用: B町 3.10 vs A市 2.50 (weighted means); the 95% intervals do not overlap.",
        "scores.ov": "Municipalities differ most on データ活用: B町 3.10 vs A市 2.50 (weighted means); the 95% intervals overlap.",
        "scores.none": "Nothing to compare.",
        "shares": "The share of segment 2 (慎重派) differs most: 80% in A市 vs 65% in B町.",
        "shares.none": "Nothing to compare."
    }
}


def test_compare_sentences_unchanged_by_the_move():
    from dxanalysis.views import compare as vcmp

    assert {language: _compare_cases(vcmp, language) for language in ("ja", "en")} == COMPARE_PINNED


def test_explorer_chart_title_and_alt_in_both_languages():
    """explore.explorer_view's chart title and alt text (were Japanese f-strings) through the explore.* keys."""
    assert i18n.t("explore.chart_title", measure="クラウドの理解", attribute="年代", where=i18n.t("explore.chart_where", where="総務部")) == "クラウドの理解(年代別、総務部)"
    assert i18n.t("explore.chart_title", "en", measure="Cloud", attribute="age band", where="") == "Cloud by age band"
    assert (i18n.t("explore.alt", measure="データ活用", attribute="年代", high="20代以下", high_value="3.27", low="50代以上", low_value="2.47")
            == "データ活用を年代別に示す図。最も高いのは20代以下(3.27)、最も低いのは50代以上(2.47)。")
