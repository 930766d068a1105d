"""The ``dxanalysis`` command: ``run``, ``sample``, ``check``, ``audit``, ``init``, ``questionnaire``.

User errors (a bad input, a missing folder) end with a readable message and exit status
2, never a Python traceback; a failed notebook gives exit status 1 after the summary.

Exit status of ``dxanalysis run`` (also for a batch of municipalities):
0 every notebook done or unchanged · 1 at least one notebook failed (whatever else
happened) · 2 no notebook failed but at least one municipality had input errors, or
no municipality folder was found.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import NOTEBOOKS_DIR, REPORTS_DIR
from .validate import InputError

EXIT_OK, EXIT_FAILED, EXIT_USER_ERROR = 0, 1, 2


def _municipality_folders(paths: list[str]) -> list[Path]:
    """A municipality folder, or a folder of them (each with municipality.yaml)."""
    from .config import municipality_folders

    return municipality_folders(paths)


STATUS_TEXT = {"ok": "完了", "failed": "失敗", "skipped": "変更なし", "not_applicable": "対象外", "input_error": "入力エラー", "interrupted": "中断"}


def _width(text: str) -> int:
    """Display width in a terminal (East Asian wide characters count 2)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _note(r) -> str:
    """Last column: the error, or why an unchanged notebook ran again (出力の欠落 / 前回の実行が中断)."""
    reason = getattr(r, "reason", "")
    if r.status == "interrupted":
        return "中断しました(前回の結果はそのまま) / interrupted" + (f"; 再実行の理由: {reason}" if reason else "")
    if reason and r.status in {"ok", "failed"}:
        return f"{r.error}  (再実行の理由: {reason})" if r.error else f"再実行の理由: {reason}"
    return r.error


def _summary(results) -> str:
    """The run summary: municipality, notebook, status, seconds, first line of the error."""
    head = ["municipality", "notebook", "status", "seconds", "error"]
    rows = [[r.municipality, r.notebook, f"{r.status}", f"{r.seconds:.1f}", _note(r)] for r in results]
    widths = [max([_width(h)] + [_width(row[i]) for row in rows]) for i, h in enumerate(head[:4])]
    lines = []
    for row in [head] + rows:
        cells = [_pad(row[0], widths[0]), _pad(row[1], widths[1]), _pad(row[2], widths[2]), row[3].rjust(widths[3])]
        lines.append("  ".join(cells) + ("  " + row[4] if row[4] else ""))
    return "\n".join(lines)


def _totals(batch) -> str:
    from collections import Counter

    c = Counter(r.status for r in batch.rows())
    parts = [f"{STATUS_TEXT.get(k, k)} {c[k]}" for k in ("ok", "skipped", "not_applicable", "failed", "interrupted", "input_error") if c.get(k)]
    return f"合計 {batch.seconds:.1f} 秒 / total {batch.seconds:.1f} s: " + "、".join(parts)


def _print_batch(batch) -> None:
    """Input errors on stderr, then the summary table and totals on stdout."""
    for note in batch.notes:
        print(note, file=sys.stderr)
    for rec in batch.input_errors:
        print(f"[{rec.folder}] " + rec.error.format(), file=sys.stderr)
    rows = batch.rows()
    if rows:
        print(_summary(rows))
        print(_totals(batch))


def cmd_run(args) -> int:
    from .runlock import ReportsLocked
    from .runner import ReportWriteError, RunInterrupted, SchedulerUnavailable, run_batch

    folders = _municipality_folders(args.paths)
    if not folders:
        print(f"エラー: {', '.join(args.paths)} に municipality.yaml のあるフォルダがありません。data/<自治体>/municipality.yaml を置いてください。\n"
              f"Error: no folder with municipality.yaml under {', '.join(args.paths)}.", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.workers is not None and args.workers < 1:
        print("エラー: --workers は 1 以上にしてください。 / Error: --workers must be at least 1.", file=sys.stderr)
        return EXIT_USER_ERROR
    if args.notebook:
        from .runner import notebook_paths

        try:
            notebook_paths([n for n in args.notebook if n != "05_comparison"], Path(args.notebooks_dir) if args.notebooks_dir else NOTEBOOKS_DIR)
        except ValueError as err:
            print(f"エラー: {err}", file=sys.stderr)
            return EXIT_USER_ERROR
    try:
        batch = run_batch(
            folders,
            reports_root=Path(args.reports),
            notebooks=args.notebook or None,
            notebooks_dir=Path(args.notebooks_dir) if args.notebooks_dir else NOTEBOOKS_DIR,
            workers=args.workers,
            scheduler=args.scheduler,
            force=args.force,
            progress=not args.no_progress,
            error_pages=len(folders) > 1,  # one municipality: the terminal message is the report
            wait=args.wait,
            **({"cell_timeout": args.cell_timeout} if args.cell_timeout is not None else {}),
        )
    except SchedulerUnavailable as err:
        print(f"エラー: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except ReportsLocked as err:
        print(f"エラー: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    except RunInterrupted as stop:
        if stop.batch is not None:
            _print_batch(stop.batch)
        name = "SIGTERM" if stop.exit_code == 143 else "SIGINT" if stop.exit_code == 130 else f"signal {stop.signum}"
        print(f"中断しました({name})。ワーカーとカーネルを止めました。終わったノートブックの結果は保存済みで、中断したものは前回の結果のままです。"
              f"もう一度 dxanalysis run を実行すると、残りだけを実行します。 / Interrupted ({name}); run again to finish.", file=sys.stderr)
        return stop.exit_code
    except ReportWriteError as err:
        if err.batch is not None:
            _print_batch(err.batch)
        print(f"エラー: レポートを書き込めませんでした。{err} 前回のレポートはそのまま残っています。空き容量や書き込み権限を確かめ、もう一度実行してください。\n"
              f"Error: the report could not be written; the previous report is left as it was.", file=sys.stderr)
        return EXIT_FAILED
    _print_batch(batch)
    if batch.comparison_note:
        print(batch.comparison_note)
    if args.pdf:
        _write_pdfs(batch.reports.values())
    for mid, index in batch.reports.items():  # last, so the report's path is what the user sees
        print(f"{mid}: {Path(index).resolve()}")
    return batch.exit_code


def _write_pdfs(indexes) -> None:
    """A4 PDF of every report page (for mail into LGWAN, which strips HTML)."""
    from .report import find_chromium, write_pdf

    if find_chromium() is None:
        print("PDF は作れませんでした: Chromium が必要です(Debian/Ubuntu: sudo apt-get install chromium)。HTML レポートはできています。\n"
              "No PDF: Chromium is needed (apt-get install chromium). The HTML reports were written.", file=sys.stderr)
        return
    for index in indexes:
        for page in sorted(Path(index).parent.glob("*.html")):
            write_pdf(page)
        print(f"PDF: {Path(index).parent.resolve()}/*.pdf")


def cmd_sample(args) -> int:
    from .sample import write_sample

    try:
        path = write_sample(Path(args.path), n_respondents=args.n, seed=args.seed, municipality_id=args.id or Path(args.path).name, name=args.name)
    except ValueError as err:  # e.g. too few respondents: a user error, not a traceback
        print(f"エラー / Error: {err}", file=sys.stderr)
        return EXIT_USER_ERROR
    print(path)
    return EXIT_OK


def cmd_check(args) -> int:
    from .io import load_municipality

    failed = 0
    for folder in _municipality_folders(args.paths) or [Path(p) for p in args.paths]:
        try:
            m = load_municipality(folder)
        except InputError as err:
            failed += 1
            print(f"[{folder}] " + _explained(err, folder).format(), file=sys.stderr)
            continue
        print(f"[{folder}] OK: 回答者 {len(m.survey)}人, 除外 {int((m.exclusions['reason'] == 'no_answers').sum())}行, 職員 {int(m.roster['staff'].sum())}人")
    return EXIT_USER_ERROR if failed else EXIT_OK


def _explained(err: InputError, folder: Path) -> InputError:
    """The error with "construct is empty" turned into the init draft's own message (item, line, ids to choose from)."""
    from .codebook_draft import explain_unset_constructs
    from .config import load_config

    try:
        codebook = load_config(folder).input_path("codebook")
    except InputError:
        codebook = Path(folder) / "codebook.yaml"
    if codebook is None or not codebook.exists():
        return err
    return InputError(explain_unset_constructs(err.problems, codebook), err.language)


def cmd_init(args) -> int:
    """``dxanalysis init data/<id> --survey EXPORT``: new folder, exports copied, municipality.yaml and a draft codebook.yaml."""
    from .codebook_draft import init_municipality, summary_lines

    result = init_municipality(Path(args.folder), Path(args.survey), roster=Path(args.roster) if args.roster else None,
                               name=args.name, fiscal_year=args.fiscal_year, force=args.force)
    print("\n".join(summary_lines(result)))
    return EXIT_OK


def cmd_questionnaire(args) -> int:
    """``dxanalysis questionnaire --out questionnaire.xlsx``: the item bank as a form-ready list and its codebook.yaml."""
    from .questionnaire import write_questionnaire

    departments = [d.strip() for d in args.departments.replace("、", ",").split(",") if d.strip()] if args.departments else None
    xlsx, codebook = write_questionnaire(Path(args.out), codebook=Path(args.codebook) if args.codebook else None, departments=departments)
    print(f"調査票: {xlsx}\ncodebook: {codebook}\nフォームには「設問」の文をそのまま入力してください(列名が一致すれば codebook の手直しは不要です)。")
    return EXIT_OK


def _add_init_commands(sub) -> None:
    """The ``init`` and ``questionnaire`` subcommands (new municipality from a raw export; standard questionnaire)."""
    i = sub.add_parser("init", help="調査の書き出しから自治体フォルダと codebook.yaml の下書きを作る / new municipality folder with a drafted codebook")
    i.add_argument("folder", help="作るフォルダ / folder to create, e.g. data/<id>")
    i.add_argument("--survey", required=True, help="調査の書き出し(CSV・XLSX) / survey export as downloaded")
    i.add_argument("--roster", default=None, help="職員名簿の集計(任意) / staff counts (optional)")
    i.add_argument("--name", default=None, help="自治体名 / display name, e.g. 〇〇市")
    i.add_argument("--fiscal-year", type=int, default=None, help="調査の年度(西暦、既定: 今日の年度) / survey fiscal year")
    i.add_argument("--force", action="store_true", help="codebook.yaml があっても上書き / overwrite an existing codebook.yaml")
    i.set_defaults(func=cmd_init)
    qn = sub.add_parser("questionnaire", help="設問バンクから調査票と codebook.yaml を作る / standard questionnaire and its codebook")
    qn.add_argument("--out", default="questionnaire.xlsx", help="調査票の XLSX / output XLSX")
    qn.add_argument("--codebook", default=None, help="codebook.yaml の出力先(既定: --out と同じフォルダ) / where to write the codebook")
    qn.add_argument("--departments", default=None, help="部署の選択肢(カンマ区切り、任意) / department choices, comma-separated")
    qn.set_defaults(func=cmd_questionnaire)
def cmd_audit(args) -> int:
    """Attack finished report folders with their shared files only; 1 when anything leaks."""
    from .audit import audit_report

    def is_report(p: Path) -> bool:
        return (p / "index.html").exists() or (p / "tables").exists()

    folders = []
    for folder in map(Path, args.paths):  # reports/<id>, or reports/ holding several
        folders += [folder] if is_report(folder) or not folder.is_dir() else sorted(p for p in folder.iterdir() if p.is_dir() and is_report(p)) or [folder]
    leaked = 0
    for folder in folders:
        if not is_report(folder):
            print(f"エラー / Error: {folder} はレポートのフォルダではありません(index.html も tables/ もありません) / not a report folder", file=sys.stderr)
            return EXIT_USER_ERROR
        result = audit_report(folder)
        print(result.summary())
        if args.csv:
            result.findings.to_csv(args.csv, index=False, encoding="utf-8-sig")
        leaked += not result.ok
    return EXIT_FAILED if leaked else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dxanalysis", description="自治体DXリテラシー分析ワークブック / DX-literacy analytics workbook")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="ノートブックを実行しレポートを作る / run notebooks and write reports")
    r.add_argument("paths", nargs="+", help="data/<municipality> or a folder of municipalities")
    r.add_argument("--reports", default=str(REPORTS_DIR), help="output root (default: reports/)")
    r.add_argument("--notebook", action="append", help="run only this notebook (repeatable), e.g. 01_current_state")
    r.add_argument("--workers", type=int, default=None, help="並列に動かすプロセス数 / parallel worker processes (default: number of cores)")
    r.add_argument("--pdf", action="store_true", help="各レポートのPDFも作る(Chromium が必要) / also write an A4 PDF of each report (needs Chromium)")
    r.add_argument("--force", action="store_true", help="変更がなくても再実行 / re-run notebooks even when nothing changed")
    r.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask distributed のスケジューラ (例 tcp://10.0.0.5:8786) / send tasks to a Dask cluster")
    r.add_argument("--no-progress", action="store_true", help="進捗バーを表示しない / no progress bar")
    r.add_argument("--notebooks-dir", default=None, metavar="DIR", help="ノートブックのフォルダ(既定: notebooks/) / folder of the analysis notebooks")
    r.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help="同じレポートフォルダを別の実行が使っているとき、終わるまで待つ秒数(既定 0: すぐにやめる) / wait for another run on the same report folder")
    r.add_argument("--cell-timeout", type=int, default=None, metavar="SECONDS", help="1セルの上限秒数。超えたら新しいカーネルで1回やり直し、だめなら失敗(既定 900、0 で無制限) / per-cell limit")
    r.set_defaults(func=cmd_run)
    s = sub.add_parser("sample", help="サンプル自治体のデータを生成 / write the sample municipality")
    s.add_argument("path", nargs="?", default="data/sample")
    s.add_argument("--n", type=int, default=500, help="respondents")
    s.add_argument("--seed", type=int, default=20251126)
    s.add_argument("--id", default=None)
    s.add_argument("--name", default="サンプル市")
    s.set_defaults(func=cmd_sample)
    c = sub.add_parser("check", help="入力データを検査 / validate inputs only")
    c.add_argument("paths", nargs="+")
    c.set_defaults(func=cmd_check)
    _add_init_commands(sub)
    a = sub.add_parser("audit", help="共有フォルダを攻撃者の目で検査 / attack a finished report folder with its shared files only")
    a.add_argument("paths", nargs="+", help="reports/<id>(reports/ なら中の自治体すべて / or reports/ for every municipality in it)")
    a.add_argument("--csv", default=None, help="問題の一覧をCSVに書く / write the findings to a CSV")
    a.set_defaults(func=cmd_audit)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except InputError as err:
        print(err.format(), file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
