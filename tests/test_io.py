"""Reading and validating inputs: encodings, NFKC, every contract violation named."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import TINY_HEADERS, TINY_SURVEY_ROWS, write_csv

from dxanalysis import io
from dxanalysis.validate import InputError


def test_tiny_loads_with_normalised_values(tiny):
    m = io.load_municipality(tiny)
    assert len(m.survey) == 5  # row 6 has no answers
    r5 = m.survey.set_index("respondent_id").loc["5"]
    assert r5["mind_01"] == 5.0 and r5["data_01"] == 5.0  # full-width ５ normalised by NFKC
    assert m.survey.loc[m.survey.respondent_id == "3", "data_02"].isna().all()  # わからない → missing
    assert list(m.survey["department"].cat.categories) == ["総務部", "福祉部"]
    assert m.roster["staff"].sum() == 39


def test_exclusions_are_counted_not_silent(tiny):
    m = io.load_municipality(tiny)
    summary = io.exclusion_summary(m).set_index("reason")
    assert summary.loc["no_answers", "rows"] == 1
    assert summary.loc["non_substantive", "answers"] == 1
    assert m.exclusions.query("reason == 'no_answers'")["row"].tolist() == [7]  # spreadsheet row of respondent 6


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings_are_detected(tiny, encoding):
    write_csv(tiny / "survey.csv", TINY_HEADERS, TINY_SURVEY_ROWS, encoding=encoding)
    m = io.load_municipality(tiny)
    assert "総務部" in set(m.survey["department"].astype(str))


def test_xlsx_survey(tiny):
    df = pd.DataFrame(TINY_SURVEY_ROWS, columns=TINY_HEADERS)
    (tiny / "survey.csv").unlink()
    df.to_excel(tiny / "survey.xlsx", index=False)
    m = io.load_municipality(tiny)
    assert len(m.survey) == 5


def _errors(folder):
    with pytest.raises(InputError) as exc:
        io.load_municipality(folder)
    return exc.value


def test_out_of_range_and_unknown_label_are_named(tiny):
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[1][7] = "7"  # data_01 on a 1-5 scale, spreadsheet row 3
    rows[2][5] = "すごくそう思う"  # not a label
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    err = _errors(tiny)
    text = err.format()
    assert "survey.csv" in text and "行: 3" in text and "「データを根拠に判断している」" in text and "値: 7" in text and "1〜5" in text
    assert "行: 4" in text and "すごくそう思う" in text and "scales.agree5.labels" in text
    assert len(err.problems) == 2


def test_unknown_header_and_duplicate_id(tiny):
    rows = [list(r) + ["x"] for r in TINY_SURVEY_ROWS]
    write_csv(tiny / "survey.csv", TINY_HEADERS + ["謎の列"], rows)
    text = _errors(tiny).format()
    assert "謎の列" in text and "ignore" in text
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[3][0] = "1"
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    text = _errors(tiny).format()
    assert "重複" in text and "行: 5" in text and "2 行目" in text


def test_department_missing_from_roster(tiny):
    write_csv(tiny / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", 10), ("総務部", "40代以上", 12)])
    text = _errors(tiny).format()
    assert "福祉部" in text and "roster" in text


def test_unreadable_encoding(tiny):
    (tiny / "survey.csv").write_bytes(b"\x81\xff\xfe\x00garbage")
    text = _errors(tiny).format()
    assert "survey.csv" in text and "文字コード" in text


def test_english_messages(tiny):
    (tiny / "municipality.yaml").write_text("id: tiny\nname: Test\nfiscal_year: 2025\nlanguage: en\n", encoding="utf-8")
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[1][7] = "9"
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    text = _errors(tiny).format()
    assert "row: 3" in text and "outside 1-5" in text


def test_min_group_size_floor(tiny):
    (tiny / "municipality.yaml").write_text("id: tiny\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 2\n", encoding="utf-8")
    text = _errors(tiny).format()
    assert "min_group_size" in text and "3 以上" in text


def test_missing_file_named(tiny):
    (tiny / "roster.csv").unlink()
    text = _errors(tiny).format()
    assert "roster.csv" in text and "見つかりません" in text


def test_unquoted_yes_no_keys_in_codebook(tiny):
    text = (tiny / "codebook.yaml").read_text(encoding="utf-8").replace("tools:\n  items:", "tools:\n  yes: [使っている]\n  no: [使っていない]\n  items:")
    (tiny / "codebook.yaml").write_text(text, encoding="utf-8")
    m = io.load_municipality(tiny)
    assert m.codebook.tools.yes == ["使っている"] and m.survey["tool_chat"].sum() == 3


def test_outdated_roster_with_fewer_staff_than_respondents(tiny):
    write_csv(tiny / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", 1), ("総務部", "40代以上", 1), ("福祉部", "30代以下", 8), ("福祉部", "40代以上", 9)])
    text = _errors(tiny).format()
    assert "roster.csv" in text and "総務部" in text and "回答者(3人)" in text and "職員数(2人)" in text


# --------------------------------------------------------------------------- newcomer findings
TRAINING_SECTION = """training:
  key: 回答キー
  group: 区分
  items:
    - {id: attitude, header: 前向きだ, scale: agree5}
    - {id: concrete_idea, header: 改善をイメージできる, kind: yesno}
"""
TRAINING_HEADERS = ["回答キー", "区分", "開始時刻", "受講日", "前向きだ", "改善をイメージできる"]
TRAINING_ROWS = [("1", "受講者", "9:00", "10/1", "4", "はい"), ("2", "非受講者", "9:01", "10/1", "3", "いいえ")]


def _with_training(folder, rows=TRAINING_ROWS, section=TRAINING_SECTION):
    (folder / "codebook.yaml").write_text((folder / "codebook.yaml").read_text(encoding="utf-8") + section, encoding="utf-8")
    for wave in ("pre", "post"):
        write_csv(folder / f"training_{wave}.csv", TRAINING_HEADERS, rows)
    return folder


def test_training_files_as_exported_use_both_ignore_lists(tiny):
    # P1-1: 開始時刻 is in the top-level ignore; 受講日 goes to training.ignore
    _with_training(tiny)
    err = _errors(tiny)
    assert {(p.file, p.column, p.code) for p in err.problems} == {("training_pre.csv", "受講日", "unknown_training_header"), ("training_post.csv", "受講日", "unknown_training_header")}
    assert "training.ignore" in err.format()
    text = (tiny / "codebook.yaml").read_text(encoding="utf-8").replace("training:\n  key: 回答キー", "training:\n  key: 回答キー\n  ignore: [受講日]")
    (tiny / "codebook.yaml").write_text(text, encoding="utf-8")
    m = io.load_municipality(tiny)
    assert m.training.pre["group"].tolist() == ["participant", "non_participant"] and m.training.post["concrete_idea"].tolist() == [1.0, 0.0]


def test_training_messages_name_training_settings(tiny):
    # P2-6: yes/no → training.yes / training.no; group → training.participant / non_participant
    rows = [("1", "未受講", "9:00", "10/1", "4", "たぶん"), ("2", "", "9:01", "10/1", "3", "いいえ")]
    _with_training(tiny, rows, TRAINING_SECTION.replace("  key: 回答キー", "  key: 回答キー\n  ignore: [受講日]"))
    err = _errors(tiny)
    pre = {p.code: p for p in err.problems if p.file == "training_pre.csv"}
    assert set(pre) == {"unknown_training_group", "blank_training_group", "unknown_training_yesno"}
    assert "training.yes / training.no" in pre["unknown_training_yesno"].message() and "tools.yes" not in pre["unknown_training_yesno"].message()
    msg = pre["unknown_training_group"].message()
    assert "training.participant" in msg and "training.non_participant" in msg and "attributes" not in msg
    assert pre["unknown_training_group"].row == 2 and pre["blank_training_group"].row == 3


def _write_hypotheses(folder, text):
    (folder / "hypotheses.yaml").write_text(text, encoding="utf-8")


def test_hypotheses_are_checked_on_load(tiny):
    # P1-2: a typo in measure, an unknown value, a duplicate id: named before any notebook runs
    _write_hypotheses(tiny, """\
- id: H1
  statement: 若い職員ほど前向き
  measure: mindd
  attribute: age_band
  group: [30代以下]
  versus: [50代以上]
  expected: higher
- id: H1
  measure: data
  attribute: departmen
  group: 総務部
  expected: up
  verus: [福祉部]
""")
    err = _errors(tiny)
    found = sorted((p.row, p.column, p.code, None if p.value is None else str(p.value)) for p in err.problems)
    assert found == [
        (1, "measure", "hypothesis_bad_measure", "mindd"),
        (1, "versus", "hypothesis_bad_value", "50代以上"),
        (2, "attribute", "hypothesis_bad_attribute", "departmen"),
        (2, "expected", "hypothesis_bad_expected", "up"),
        (2, "id", "entry_duplicate_id", "H1"),
        (2, "verus", "entry_unknown_key", None),
    ]
    text = err.format()
    assert "ファイル: hypotheses.yaml 番号: 1 項目: 「measure」 値: mindd" in text and "「mind」の書き間違いではありませんか" in text
    assert "年代(age_band)の選択肢にない値" in text and "「versus」の書き間違い" in text and "「department」の書き間違い" in text
    assert "KeyError" not in text and "ValueError" not in text and "「40代以上」の書き間違い" not in text  # another band, not a typo


def test_hypothesis_values_are_nfkc_normalised(tiny):
    # P1-2: full-width digits in YAML are read like CSV cells
    _write_hypotheses(tiny, "- id: Ｈ１\n  measure: ｍｉｎｄ\n  attribute: age_band\n  group: [３０代以下]\n  expected: lower\n")
    m = io.load_municipality(tiny)
    assert m.hypotheses == [{"id": "H1", "statement": "", "measure": "mind", "attribute": "age_band", "group": ["30代以下"], "expected": "lower"}]
    from dxanalysis import survey as sv

    assert sv.test_hypotheses(m, min_n=2).iloc[0]["n_group"] == 3  # respondents 1, 3, 5 are 30代以下 and answered


def test_hypotheses_same_value_in_both_groups_and_missing_keys(tiny):
    _write_hypotheses(tiny, "- id: H1\n  measure: mind\n  attribute: age_band\n  group: [30代以下]\n  versus: [30代以下]\n  expected: higher\n- statement: x\n")
    found = sorted((p.row, p.column, p.code) for p in _errors(tiny).problems)
    assert found == [(1, "versus", "hypothesis_overlap"), (2, "attribute", "entry_missing_key"), (2, "expected", "entry_missing_key"),
                     (2, "group", "entry_missing_key"), (2, "id", "entry_missing_key"), (2, "measure", "entry_missing_key")]


def test_opportunity_with_unknown_construct_is_an_error(tiny):
    # P1-5: addresses: [techh] used to drop the opportunity from every recommendation silently
    (tiny / "opportunities.yaml").write_text("- id: a\n  name: データ研修\n  addresses: [data]\n- id: b\n  name: 操作研修\n  addresses: [dataa, mind]\n", encoding="utf-8")
    [p] = _errors(tiny).problems
    assert (p.file, p.row, p.column, p.value, p.params["suggest"]) == ("opportunities.yaml", 2, "addresses", "dataa", "data")
    assert "どの推奨にも出てきません" in p.message()
    (tiny / "opportunities.yaml").write_text("- id: a\n  name: データ研修\n  addresses: data\n", encoding="utf-8")
    assert io.load_municipality(tiny).opportunities[0]["addresses"] == ["data"]  # a single id becomes a list


def test_default_catalogue_mismatch_is_a_warning(tiny):
    # tiny has only the constructs mind and data; the package catalogue also names tech, why, use, caution
    m = io.load_municipality(tiny)
    warned = {p.value for p in m.warnings if p.code == "opportunity_default_mismatch"}
    assert warned == {"tech", "why", "use", "caution"}
    assert all(p.severity == "warning" for p in m.warnings)


def test_listed_optional_input_missing_says_it_is_optional(tiny):
    # P1-3: the line can be removed
    (tiny / "municipality.yaml").write_text("id: tiny\nname: テスト町\nfiscal_year: 2025\ninputs:\n  survey: survey.csv\n  training_pre: training_pre.csv\n", encoding="utf-8")
    [p] = _errors(tiny).problems
    assert (p.file, p.row, p.column, p.value) == ("municipality.yaml", 6, "inputs.training_pre", "training_pre.csv")
    assert "任意の入力" in p.message() and "削除" in p.message()


def test_blank_attribute_cells_are_kept_and_counted(tiny):
    # P1-5: a blank 所属部署 is not dropped silently
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[0][3] = ""  # respondent 1: no department
    rows[1][3] = ""  # respondent 2
    rows[5][4] = ""  # respondent 6 has no answers at all: excluded as no_answers, not counted twice
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    m = io.load_municipality(tiny)
    assert len(m.survey) == 5 and m.survey["department"].isna().sum() == 2
    summary = io.exclusion_summary(m)
    line = summary[summary["reason"] == "attribute_missing"]
    assert line["rows"].tolist() == [2] and "所属部署が空欄" in line["description"].iloc[0] and "加重推計" in line["description"].iloc[0]
    assert summary["reason"].tolist() == ["no_answers", "non_substantive", "attribute_missing"]


def test_roster_thousands_separators_and_total_rows(tiny):
    # P2-6: "1,008" is a count; 合計 and blank rows get one message per row
    write_csv(tiny / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", "1,008"), ("総務部", "40代以上", "12人"), ("福祉部", "30代以下", 8), ("福祉部", "40代以上", 9)])
    assert io.load_municipality(tiny).roster["staff"].tolist() == [1008, 12, 8, 9]
    write_csv(tiny / "roster.csv", ["所属部署", "年代", "職員数"], [("総務部", "30代以下", 10), ("総務部", "40代以上", 12), ("総務部", "計", 22), ("福祉部", "30代以下", 8), ("福祉部", "40代以上", 9), ("合計", "", "1,039"), ("", "", "")])
    err = _errors(tiny)
    assert [(p.row, p.code) for p in err.problems] == [(4, "roster_total_row"), (7, "roster_total_row"), (8, "roster_total_row")]
    assert "合計・小計の行や空行は削除してください" in err.format() and "attributes" not in err.format()


def test_not_whole_number_and_nan_text(tiny):
    # P2-8: 3.5 is in range but not an answer; "nan" is not a number
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[0][7] = "3.5"
    rows[1][7] = "nan"
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    found = {p.row: p for p in _errors(tiny).problems}
    assert found[2].code == "not_whole_number" and "整数ではありません" in found[2].message() and "範囲外" not in found[2].message()
    assert found[3].code == "unknown_label"


def test_attribute_value_message_uses_the_label(tiny):
    # P2-8: the attribute's label (年代), not its id (age_band); the closest value as a hint
    text = (tiny / "codebook.yaml").read_text(encoding="utf-8").replace("label: 年代", "label: 年齢層")
    (tiny / "codebook.yaml").write_text(text, encoding="utf-8")
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[0][4] = "30代以"
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    [p] = _errors(tiny).problems
    assert p.message().startswith("年齢層の選択肢にない値です") and "attributes.age_band.values" in p.message() and "「30代以下」の書き間違い" in p.message()


def test_changed_header_links_unknown_and_missing(tiny):
    # P2-8: one changed header, two messages that point at each other
    headers = list(TINY_HEADERS)
    headers[7] = "データを根拠に判断しています"
    write_csv(tiny / "survey.csv", headers, TINY_SURVEY_ROWS)
    probs = {p.code: p for p in _errors(tiny).problems}
    assert probs["unknown_header"].params["suggest"] == "データを根拠に判断している"
    assert probs["missing_header"].params["suggest"] == "データを根拠に判断しています"
    assert "「データを根拠に判断している」と似ています" in probs["unknown_header"].message()
    headers[7] = "まったく別の列"
    write_csv(tiny / "survey.csv", headers, TINY_SURVEY_ROWS)
    assert all("hint" not in p.params for p in _errors(tiny).problems)  # nothing close: no guess


# --------------------------------------------------------------------------- vectorised reading (issue #17, session 4)
def _per_cell_reference(df: pd.DataFrame) -> pd.DataFrame:
    """What read_table promises, cell by cell with unicodedata (the independent reference)."""
    import unicodedata

    import numpy as np

    out = {}
    for i in range(df.shape[1]):
        cells = []
        for v in df.iloc[:, i]:
            if isinstance(v, str):
                v = unicodedata.normalize("NFKC", v).strip()
                cells.append(v if v else np.nan)
            else:
                cells.append(np.nan)
        out[i] = cells
    ref = pd.DataFrame(out)
    ref.columns = [unicodedata.normalize("NFKC", str(c)).strip() for c in df.columns]
    return ref


def test_read_table_normalises_like_a_per_cell_loop(tmp_path):
    import numpy as np

    rows = [["Ａ１", "  総務部 ", "", "ｶﾀｶﾅ", "x"], ["a1", "総務部", "", "\u3000", "x"], ["A1", "福祉部\u3000", "", "ﾃｽﾄ ", "x"], ["①", "総務部", "", "", "y"]]
    write_csv(tmp_path / "t.csv", ["ＩＤ", " 部署", "空", "カナ", "ascii"], rows)
    got = io.read_table(tmp_path / "t.csv")
    ref = _per_cell_reference(pd.DataFrame(rows, columns=["ＩＤ", " 部署", "空", "カナ", "ascii"]).replace({"": np.nan}))
    assert list(got.columns) == list(ref.columns) == ["ID", "部署", "空", "カナ", "ascii"]
    for c in got.columns:
        assert got[c].tolist() == pytest.approx(ref[c].tolist(), nan_ok=True), c
    assert got["空"].isna().all() and got["カナ"].isna().tolist() == [False, True, False, True]  # blank and full-width space → empty
    assert got["ID"].tolist() == ["A1", "a1", "A1", "1"] and got["部署"].tolist() == ["総務部", "総務部", "福祉部", "総務部"]


def test_scale_and_multi_select_columns_match_a_per_cell_reading(tiny):
    # the factorised parsing gives what mapping each cell on its own gives, with problems in row order
    rows = [list(r) for r in TINY_SURVEY_ROWS]
    rows[0][7], rows[2][7], rows[3][7] = "7", "abc", "7"
    write_csv(tiny / "survey.csv", TINY_HEADERS, rows)
    found = [(p.code, p.row, p.value) for p in _errors(tiny).problems]
    assert found == [("out_of_range", 2, "7"), ("unknown_label", 4, "abc"), ("out_of_range", 5, "7")]


def test_yaml_parsed_once_per_text_and_never_stale(tmp_path, monkeypatch):
    from dxanalysis import config

    calls = []
    real = config._parse_text
    monkeypatch.setattr(config, "_parse_text", lambda text, name: calls.append(name) or real(text, name))
    monkeypatch.setattr(config, "_PARSED", {})
    path = tmp_path / "x.yaml"
    path.write_text("a:\n  - 1\n  - 2\n", encoding="utf-8")
    first = config.read_yaml(path)
    first["a"].append(99)  # a caller changing its copy changes nothing for the next one
    data, node = config.read_yaml_located(path)
    assert data == {"a": [1, 2]} and config.yaml_line(node, ("a", 1)) == 3 and calls == ["x.yaml"]
    path.write_text("a:\n  - 1\n  - 3\n", encoding="utf-8")  # edited: parsed again, never the old value
    assert config.read_yaml(path) == {"a": [1, 3]} and calls == ["x.yaml", "x.yaml"]
    path.write_text("a: [1,\n", encoding="utf-8")  # errors are raised every time, with the file's own name
    seen = []
    for _ in range(2):
        with pytest.raises(InputError) as e:
            config.read_yaml(path)
        seen.append(e.value.problems[0])
    assert seen[0] == seen[1] and seen[0].file == "x.yaml" and seen[0].code == "yaml_unclosed"


def test_loading_twice_gives_equal_independent_municipalities(tiny):
    m1 = io.load_municipality(tiny)
    m1.survey.loc[0, "mind_01"] = -1.0
    m1.codebook.attributes.clear()
    m2 = io.load_municipality(tiny)
    assert m2.survey.loc[0, "mind_01"] != -1.0 and m2.codebook.attributes


def test_warm_kernel_reset_keeps_the_pure_caches(tmp_path):
    # kernel.reset_state rebinds module globals to the objects recorded after the warm-up: the
    # YAML texts parsed (config._PARSED) and janome's tokens (freetext._tokens) survive on purpose
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "x.yaml").write_text("a: 1\n", encoding="utf-8")
    code = ("import os, sys; from pathlib import Path; from dxanalysis import config, freetext, kernel; kernel.snapshot_state(); "
            "config.read_yaml(Path(sys.argv[1])); freetext._tokens('窓口の予約'); kernel.reset_state(os.getcwd()); "
            "assert 'a: 1\\n' in config._PARSED, 'yaml'; assert freetext._tokens.cache_info().currsize == 1, 'tokens'; "
            "assert freetext.get_tokenizer.cache_info().currsize == 1, 'tokenizer'; print('kept')")
    root = Path(io.__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "x.yaml")], capture_output=True, text=True, env={**__import__("os").environ, "PYTHONPATH": str(root)}, timeout=300)
    assert out.returncode == 0 and "kept" in out.stdout, out.stderr
