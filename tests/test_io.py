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
