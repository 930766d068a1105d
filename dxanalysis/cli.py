"""The ``dxanalysis`` command: ``run``, ``sample``, ``check``.

User errors (a bad input, a missing folder) end with a readable message and exit status
2, never a Python traceback; a failed notebook gives exit status 1 after the summary.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import REPORTS_DIR
from .validate import InputError

EXIT_OK, EXIT_FAILED, EXIT_USER_ERROR = 0, 1, 2


def _municipality_folders(paths: list[str]) -> list[Path]:
    """A municipality folder, or a folder of them (each with municipality.yaml)."""
    out = []
    for p in map(Path, paths):
        if (p / "municipality.yaml").exists():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if (q / "municipality.yaml").exists()))
    return out


def _summary(results) -> str:
    lines = [f"{'municipality':<16} {'notebook':<18} {'status':<8} {'seconds':>8}  error"]
    for r in results:
        lines.append(f"{r.municipality:<16} {r.notebook:<18} {r.status:<8} {r.seconds:>8.1f}  {r.error}")
    return "\n".join(lines)


def cmd_run(args) -> int:
    from .runner import run_municipality

    folders = _municipality_folders(args.paths)
    if not folders:
        print(f"エラー: {', '.join(args.paths)} に municipality.yaml のあるフォルダがありません。data/<自治体>/municipality.yaml を置いてください。\n"
              f"Error: no folder with municipality.yaml under {', '.join(args.paths)}.", file=sys.stderr)
        return EXIT_USER_ERROR
    all_results, user_errors = [], 0
    for folder in folders:
        try:
            results = run_municipality(folder, reports_root=args.reports, notebooks=args.notebook or None)
        except InputError as err:
            user_errors += 1
            print(f"[{folder}] " + err.format(), file=sys.stderr)
            continue
        all_results.extend(results)
        index = Path(args.reports) / results[0].municipality / "index.html" if results else None
        if index is not None:
            print(f"{folder}: {index.resolve()}")
    if all_results:
        print(_summary(all_results))
    if user_errors:
        return EXIT_USER_ERROR
    return EXIT_FAILED if any(r.status == "failed" for r in all_results) else EXIT_OK


def cmd_sample(args) -> int:
    from .sample import write_sample

    path = write_sample(Path(args.path), n_respondents=args.n, seed=args.seed, municipality_id=args.id or Path(args.path).name, name=args.name)
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
            print(f"[{folder}] " + err.format(), file=sys.stderr)
            continue
        print(f"[{folder}] OK: 回答者 {len(m.survey)}人, 除外 {int((m.exclusions['reason'] == 'no_answers').sum())}行, 職員 {int(m.roster['staff'].sum())}人")
    return EXIT_USER_ERROR if failed else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dxanalysis", description="自治体DXリテラシー分析ワークブック / DX-literacy analytics workbook")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="ノートブックを実行しレポートを作る / run notebooks and write reports")
    r.add_argument("paths", nargs="+", help="data/<municipality> or a folder of municipalities")
    r.add_argument("--reports", default=str(REPORTS_DIR), help="output root (default: reports/)")
    r.add_argument("--notebook", action="append", help="run only this notebook (repeatable), e.g. 01_current_state")
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
