"""Settings files (municipality.yaml, codebook.yaml): every mistake is a located, plain-words problem.

No statistics here: each test plants one mistake a newcomer made and checks the message
names the file, the line, the key (項目) and the value, says what to do in Japanese (or
English with ``language: en``), and never leaks pydantic's or PyYAML's English.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import TINY_CODEBOOK

from dxanalysis.config import key_path, load_codebook, load_config, read_yaml, yaml_line
from dxanalysis.validate import InputError, Problem

ENGLISH_LEAKS = ("Value error", "Input should", "Extra inputs", "String should match", "found character", "unexpected end of stream", "while scanning")


def _config_errors(folder: Path, text: str, encoding: str = "utf-8") -> InputError:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "municipality.yaml").write_bytes(text.encode(encoding))
    with pytest.raises(InputError) as exc:
        load_config(folder)
    return exc.value


def _codebook_errors(tmp_path: Path, text: str) -> InputError:
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_codebook(path)
    return exc.value


def _no_english(text: str) -> None:
    for leak in ENGLISH_LEAKS:
        assert leak not in text, leak


# --------------------------------------------------------------------------- municipality.yaml
def test_min_group_size_floor_is_japanese_with_line_and_key(tmp_path):
    err = _config_errors(tmp_path / "t", "id: t\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 2\n")
    [p] = err.problems
    assert (p.file, p.row, p.column, p.value) == ("municipality.yaml", 4, "min_group_size", 2)
    text = err.format()
    assert "行: 4 項目: 「min_group_size」 値: 2" in text and "3 以上" in text
    _no_english(text)


def test_comment_min_group_size_follows_min_group_size(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "municipality.yaml").write_text("id: t\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 20\n", encoding="utf-8")
    assert load_config(folder).comment_min_group_size == 20  # max(10, 20): not an error about an untouched setting
    (folder / "municipality.yaml").write_text("id: t\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 3\n", encoding="utf-8")
    assert load_config(folder).comment_min_group_size == 10
    err = _config_errors(folder, "id: t\nname: テスト町\nfiscal_year: 2025\nmin_group_size: 20\ncomment_min_group_size: 8\n")
    [p] = err.problems
    assert (p.row, p.column, p.value) == (5, "comment_min_group_size", 8)
    assert "min_group_size(20)以上" in err.format()


def test_unknown_key_did_you_mean_and_wrong_types_all_at_once(tmp_path):
    err = _config_errors(tmp_path / "t", "id: t\nname: テスト町\nfiscal_year: 2025年\nlangauge: ja\ndata_date: 2025-13-40\ninputs:\n  trainig_pre: t.csv\n")
    by_key = {p.column: p for p in err.problems}
    assert set(by_key) == {"fiscal_year", "langauge", "data_date", "inputs.trainig_pre"}
    assert by_key["langauge"].row == 4 and "「language」の書き間違いではありませんか" in by_key["langauge"].message()
    assert by_key["fiscal_year"].row == 3 and "整数" in by_key["fiscal_year"].message()
    assert by_key["data_date"].row == 5 and "2025-10-31" in by_key["data_date"].message()  # an impossible date is a message, not a crash
    assert by_key["inputs.trainig_pre"].row == 7 and "「training_pre」" in by_key["inputs.trainig_pre"].message()
    assert [p.row for p in err.problems] == sorted(p.row for p in err.problems)  # in the order of the file
    _no_english(err.format())


def test_full_width_numbers_are_normalised(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "municipality.yaml").write_text("id: ｔ\nname: テスト町\nfiscal_year: ２０２５\nmin_group_size: ５\n", encoding="utf-8")
    cfg = load_config(folder)
    assert (cfg.id, cfg.fiscal_year, cfg.min_group_size) == ("t", 2025, 5)


def test_japanese_folder_name_without_id(tmp_path):
    err = _config_errors(tmp_path / "テスト市", "name: テスト町\nfiscal_year: 2025\n")
    [p] = err.problems
    assert p.column == "id" and p.row is None  # the user never wrote an id line
    assert "テスト市" in p.message() and "id: sample-city" in p.message() and "半角" in p.message()
    err = _config_errors(tmp_path / "t", "id: テスト\nname: テスト町\nfiscal_year: 2025\n")
    assert "半角英小文字" in err.problems[0].message() and err.problems[0].value == "テスト"
    _no_english(err.format())


def test_missing_required_key(tmp_path):
    err = _config_errors(tmp_path / "t", "id: t\nfiscal_year: 2025\n")
    [p] = err.problems
    assert p.column == "name" and "必須の項目 name" in p.message()


def test_english_messages_with_language_en(tmp_path):
    err = _config_errors(tmp_path / "t", "id: t\nname: Test\nfiscal_year: abc\nlanguage: en\n")
    text = err.format()
    assert "line: 3 key: 「fiscal_year」 value: abc" in text and "whole number" in text


# --------------------------------------------------------------------------- YAML syntax
@pytest.mark.parametrize(
    ("text", "code", "line", "words"),
    [
        ("id: t\ninputs:\n\tsurvey: s.csv\n", "yaml_tab", 3, "タブではなく半角スペースで字下げしてください"),
        ('id: t\nname: "テスト町\nfiscal_year: 2025\n', "yaml_unclosed", 2, "引用符や括弧が閉じているか確認してください"),  # line where the quote opens
        ("id: t\ninputs: [a, b\nname: x\n", "yaml_unclosed", 2, "引用符や括弧が閉じているか確認してください"),
        ("id: t\nname：テスト町\nfiscal_year: 2025\n", "yaml_colon", 3, "全角のコロン"),
        ("id: t\ninputs:\n  survey: a\n roster: b\n", "yaml_indent", 4, "字下げ"),
    ],
)
def test_yaml_syntax_errors_in_plain_words(tmp_path, text, code, line, words):
    err = _config_errors(tmp_path / "t", text)
    [p] = err.problems
    assert (p.code, p.row, p.row_kind) == (code, line, "line")
    assert words in err.format()
    _no_english(err.format())


@pytest.mark.parametrize("name", ["municipality.yaml", "codebook.yaml"])
def test_cp932_settings_file_with_syntax_error_gives_japanese_message(tmp_path, name):
    # P1-4: Notepad "ANSI" (cp932) file with a missing closing quote used to raise UnicodeDecodeError
    path = tmp_path / name
    path.write_bytes('id: t\nname: "サンプル市\nfiscal_year: 2025\n'.encode("cp932"))
    with pytest.raises(InputError) as exc:
        read_yaml(path)
    [p] = exc.value.problems
    assert (p.file, p.code, p.row) == (name, "yaml_unclosed", 2)


def test_cp932_settings_file_is_read(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "municipality.yaml").write_bytes("id: t\nname: サンプル市\nfiscal_year: 2025\n".encode("cp932"))
    assert load_config(folder).name == "サンプル市"


def test_check_command_no_traceback_on_cp932_yaml(tiny, capsys):
    from dxanalysis.cli import main

    (tiny / "municipality.yaml").write_bytes('id: tiny\nname: "テスト町\nfiscal_year: 2025\n'.encode("cp932"))
    assert main(["check", str(tiny)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "municipality.yaml 行: 2" in err and "引用符" in err


# --------------------------------------------------------------------------- codebook.yaml
def test_codebook_reference_errors_are_separate_problems(tmp_path):
    text = TINY_CODEBOOK.replace("construct: mind, scale: agree5", "construct: mind, scale: agree_5").replace("construct: data, scale: agree5}", "construct: dat, scale: agree5}", 1)
    err = _codebook_errors(tmp_path, text)
    found = sorted((p.column, p.value, p.params.get("suggest")) for p in err.problems)
    # items 1 and 2 (mind) get agree_5; item 3 (data_01) gets the construct typo
    assert found == [("items[1].scale", "agree_5", "agree5"), ("items[2].scale", "agree_5", "agree5"), ("items[3].construct", "dat", "data")]
    lines = text.splitlines()
    for p in err.problems:
        assert p.value in lines[p.row - 1]  # the reported line holds the mistake
    text_out = err.format()
    assert "入力データに問題があります(3 件)" in text_out and "「agree5」の書き間違いではありませんか" in text_out
    assert "項目: 「items[1].scale」" in text_out and "列:" not in text_out  # a YAML key is 項目, not 列
    _no_english(text_out)


def test_codebook_duplicates_and_likert_without_scale(tmp_path):
    text = TINY_CODEBOOK.replace("id: data_02, header: 表計算で集計できる", "id: data_01, header: 表計算で集計できる")
    text = text.replace("values: [総務部, 福祉部]", "values: [総務部, 福祉部, 総務部]")
    text += "training:\n  key: 回答キー\n  items:\n    - {id: attitude, header: 前向きだ, kind: likert}\n"
    err = _codebook_errors(tmp_path, text)
    codes = sorted((p.code, p.column) for p in err.problems)
    assert codes == [("codebook_duplicate_id", "items[4].id"), ("codebook_duplicate_value", "attributes.department.values"), ("codebook_scale_required", "training.items[1].scale")]


def test_codebook_unknown_key_names_the_allowed_keys(tmp_path):
    text = TINY_CODEBOOK.replace("reverse: true}", "reverce: true}")
    err = _codebook_errors(tmp_path, text)
    [p] = err.problems
    assert "reverce" in text.splitlines()[p.row - 1]
    assert p.column == "items[2].reverce" and p.row == 17 and p.params["suggest"] == "reverse"
    assert "使える項目: id, header, construct, scale, reverse, short" in p.message()


def test_training_ignore_is_accepted(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(TINY_CODEBOOK + "training:\n  key: 回答キー\n  ignore: [受講日]\n  items:\n    - {id: attitude, header: 前向きだ, scale: agree5}\n", encoding="utf-8")
    assert load_codebook(path).training.ignore == ["受講日"]


def test_attribute_values_are_nfkc_and_numbers_are_text(tmp_path):
    path = tmp_path / "codebook.yaml"
    path.write_text(TINY_CODEBOOK.replace("values: [30代以下, 40代以上]", "values: [３０代以下, 40代以上]").replace("values: [総務部, 福祉部]", "values: [1, 2]"), encoding="utf-8")
    cb = load_codebook(path)
    assert cb.attributes["age_band"].values == ["30代以下", "40代以上"] and cb.attributes["department"].values == ["1", "2"]


def test_codebook_root_must_be_a_mapping(tmp_path):
    err = _codebook_errors(tmp_path, "- a\n- b\n")
    assert err.problems[0].code == "yaml_not_mapping"


# --------------------------------------------------------------------------- helpers
def test_key_path_and_yaml_line():
    node = yaml.compose("items:\n  - id: a\n    scale: x\nscales:\n  s:\n    labels: {1: a, 6: b}\n", Loader=yaml.SafeLoader)
    assert key_path(("items", 0, "scale"), node) == "items[1].scale"
    assert key_path(("scales", "s", "labels", 6), node) == "scales.s.labels.6"  # a mapping key, not an entry number
    assert key_path(("training", "items", 2, "waves", "list[literal['pre']]", 1)) == "training.items[3].waves[2]"
    assert yaml_line(node, ("items", 0, "scale")) == 3
    assert yaml_line(node, ("scales", "s", "labels")) == 6
    assert yaml_line(node, ("items", 0, "nope")) == 2  # a missing key: the line of its entry


def test_problem_labels_key_for_yaml_and_column_for_tables():
    assert "項目: 「min_group_size」" in Problem(file="municipality.yaml", code="config_int", row=3, column="min_group_size", params={"key": "min_group_size"}, row_kind="line").format()
    assert "列: 「所属部署」" in Problem(file="survey.csv", code="missing_header", row=1, column="所属部署").format()
    assert "番号: 2" in Problem(file="hypotheses.yaml", code="entry_missing_key", row=2, column="id", params={"key": "id"}, row_kind="entry").format()
    assert "entry: 2 key: 「id」" in Problem(file="hypotheses.yaml", code="entry_missing_key", row=2, column="id", params={"key": "id"}, row_kind="entry").format("en")


def test_close_match_gives_no_hint_between_numbered_categories():
    from dxanalysis.validate import close_match

    assert close_match("mindd", ["mind", "data"]) == "mind"
    assert close_match("総務", ["総務部", "福祉部"]) == "総務部"
    assert close_match("50代以上", ["30代以下", "40代以上"]) is None  # another age band, not a typo
    assert close_match("mind_03", ["mind_01", "mind_02"]) is None
    assert close_match("問2 変化を前向きに", ["問1 変化を前向きに"], digits_matter=False) == "問1 変化を前向きに"  # a renumbered header
    assert close_match("まったく別", ["mind"]) is None
