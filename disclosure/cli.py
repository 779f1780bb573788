"""The `disclosure` command: validate records, compute deadlines, scaffold records, build and report."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from pathlib import Path

from disclosure.model.config import ConfigError, load_config
from disclosure.model.findings import CODES, ERROR, INFO, LEVEL_LABELS, WARNING

EXIT_OK, EXIT_ERRORS, EXIT_USAGE = 0, 1, 2


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"「{value}」不是 YYYY-MM-DD 格式的日期") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 2 with the message in plain words
        self.print_usage(sys.stderr)
        print(f"{self.prog}: 用法错误：{message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="disclosure", description="政府信息公开门户生成器：校验记录、计算期限、生成网站。")
    p.add_argument("--config", "-c", default="mkdocs.yml", help="站点配置文件（默认 ./mkdocs.yml）")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="校验记录：每条问题给出 文件:行号、代码、级别、说明和修改方法")
    v.add_argument("paths", nargs="*", type=Path, help="只报告这些文件或文件夹中的问题（默认全部记录）")
    v.add_argument("--format", choices=["text", "json"], default="text")
    v.add_argument("--as-of", type=_date, help="按某一天判断（默认今天，北京时间）")
    v.add_argument("--jobs", type=int, default=None, help="并行进程数（默认 CPU 核数）")
    v.add_argument("--quiet", "-q", action="store_true", help="不列出提示（info）级别的条目")
    v.add_argument("--clean", action="store_true", help="不用校验缓存（.cache/），全部重新校验并重写缓存")

    d = sub.add_parser("deadline", help="计算20个工作日的公开期限，并列出跳过的日子及原因")
    d.add_argument("formed", type=_date, help="形成（成文）日期 YYYY-MM-DD")
    d.add_argument("--changed", type=_date, help="变更日期：变更后重新计算")
    d.add_argument("--days", type=int, default=None, help="工作日数（默认按配置，一般为20）")
    d.add_argument("--json", action="store_true", help="输出一个 JSON 对象")

    n = sub.add_parser("new", help="新建一条记录的骨架，自动分配下一个索引号，并打印文件路径")
    n.add_argument("--type", required=True, dest="rtype", help="disclosure / normative / annual-report / interpretation")
    n.add_argument("--issuer", required=True, help="发布单位（全称或配置中的 id）")
    n.add_argument("--title", help="标题")
    n.add_argument("--date", type=_date, help="成文日期（默认今天）")

    r = sub.add_parser("report", help="公开时效报告：各单位按时率、应催办事项、年报、规范性文件、栏目更新和排名")
    r.add_argument("--as-of", type=_date, help="按某一天判断（默认今天，北京时间）")
    r.add_argument("--year", type=int, help="只统计这一年发布的信息（默认截至判断日期的全部）")
    r.add_argument("--unit", help="只看这个单位（全称或 id）")
    r.add_argument("--format", choices=["text", "json", "csv", "html"], default="text")
    r.add_argument("--output", "-o", type=Path, help="写入文件（默认打印）")

    a = sub.add_parser("annual-stats", help="年度报告表二“行政规范性文件”行的数字，并检查年报表格的勾稽关系")
    a.add_argument("--year", type=int, required=True)
    a.add_argument("--unit", required=True, help="单位全称或 id")
    a.add_argument("--format", choices=["text", "json", "md"], default="text")
    a.add_argument("--as-of", type=_date, help="按某一天判断（默认今天，北京时间）")

    pb = sub.add_parser("publish", help="校验、生成、检查后发布到服务器：复制为新版本，再原子切换 current")
    pb.add_argument("--target", required=True, help="本地目录，或 user@host:路径（通过 SSH）")
    pb.add_argument("--keep", type=int, help="保留最近几个版本（默认按配置，一般为 5）")
    pb.add_argument("--as-of", type=_date, help="按某一天生成（默认今天，北京时间）")
    rb = sub.add_parser("rollback", help="把 current 切回上一个（或指定的）版本")
    rb.add_argument("--target", required=True)
    rb.add_argument("--to", help="版本名（releases/ 下的文件夹名）")

    sv = sub.add_parser("serve", help="预览：生成到 .cache/serve-site/ 并在浏览器中查看，保存文件后只重新生成改动的页面，错误显示在浏览器中")
    sv.add_argument("--dev-addr", "-a", default="127.0.0.1:8000", metavar="主机:端口", help="预览地址（默认 127.0.0.1:8000）")
    sv.add_argument("--as-of", type=_date, help="按某一天生成（默认今天，北京时间）")
    sv.add_argument("--no-search", dest="search", action="store_false", help="不生成搜索索引（更快）")

    b = sub.add_parser("build", help="校验并生成网站（mkdocs build + 搜索索引 + 订阅源）")
    b.add_argument("--site-dir", default=None, help="输出目录（默认 site/）")
    b.add_argument("--as-of", type=_date, help="按某一天生成（默认今天，北京时间）")
    b.add_argument("--clean", action="store_true", help="不用缓存（.cache/），全部重新校验并重写缓存")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "clean", False):
        from disclosure.model import cache

        cache.request_clean()
    try:
        return _COMMANDS[args.command](args)
    except ConfigError as e:
        print(f"配置错误：{e}", file=sys.stderr)
        return EXIT_USAGE


def cmd_validate(args) -> int:
    from disclosure.model.corpus import load_corpus, build_date, validate_corpus

    cfg = load_config(args.config)
    as_of = args.as_of or build_date()
    for p in args.paths:
        if not p.exists():
            print(f"找不到 {p}", file=sys.stderr)
            return EXIT_USAGE
    files, scopes, skipped = _validate_scope(cfg, args.paths)
    if not args.paths:
        findings, checked = validate_corpus(cfg, as_of, jobs=args.jobs, config_path=args.config)
    else:
        corpus = load_corpus(cfg, as_of, paths=files, jobs=args.jobs, config_path=args.config, keep_bodies=False)
        findings = corpus.findings
        wanted = {_rel(f, cfg.root) for f in files}
        findings = [f for f in findings if f.path in wanted or any(f.path.startswith(s) for s in scopes)]
        checked = sum(1 for r in corpus.records if r.path in wanted)
    if args.quiet:
        findings = [f for f in findings if f.level != INFO]
    counts = Counter(f.level for f in findings)
    if args.format == "json":
        print(json.dumps({
            "as_of": as_of.isoformat(),
            "records": checked,
            "counts": {lvl: counts.get(lvl, 0) for lvl in (ERROR, WARNING, INFO)},
            "findings": [f.as_dict() for f in findings],
        }, ensure_ascii=False, indent=2))
    else:
        by_code = Counter(f.code for f in findings)
        current = None
        for f in sorted(findings, key=lambda f: ({ERROR: 0, WARNING: 1, INFO: 2}[f.level], f.code, f.path, f.line)):
            if f.code != current:
                current = f.code
                print(f"\n== {f.code} {f.title}（{LEVEL_LABELS[f.level]}，{by_code[f.code]} 条）")
            print(f.render())
        for path in skipped:
            print(f"（{path} 不是记录文件，未检查：记录放在 {cfg.docs_dir.name}/{cfg.records_dir}/ 下）")
        print(f"\n共检查 {checked} 条有效记录（判断日期 {as_of}）："
              f"错误 {counts.get(ERROR, 0)} 条，警告 {counts.get(WARNING, 0)} 条，提示 {counts.get(INFO, 0)} 条。")
        if counts.get(ERROR):
            print("有错误：修正后才能发布。", file=sys.stderr)
    return EXIT_ERRORS if counts.get(ERROR) else EXIT_OK


def _validate_scope(cfg, paths):
    """What `validate PATH…` checks: the records (`*.md` under the records folder) in each path, and
    the layout findings (a record saved outside the records folder, a `.MD` name) of each folder.
    The site's ordinary pages (content/index.md, xxgk/*.md) are not records and are left alone.
    Returns (record files, path prefixes whose layout findings count, files skipped as not records)."""
    records_root = (cfg.docs_dir / cfg.records_dir).resolve()
    files, scopes, skipped = [], [], []
    for p in paths:
        rp = p.resolve()
        if rp.is_dir():
            scopes.append(_rel(rp, cfg.root).rstrip("/") + "/" if rp != cfg.root else "")
            if rp == records_root or records_root in rp.parents:
                files += sorted(rp.rglob("*.md"))
            elif rp in records_root.parents:
                files += sorted(records_root.rglob("*.md"))
            else:
                files += sorted(q for q in rp.rglob("*.md") if _looks_like_record(q))
        elif records_root in rp.parents or rp.suffix != ".md":
            files.append(p)
            scopes.append(_rel(rp, cfg.root))
        elif _looks_like_record(rp):
            files.append(p)  # a record saved in the wrong place: parsed, and E113 says where it belongs
            scopes.append(_rel(rp, cfg.root))
        else:
            skipped.append(_rel(rp, cfg.root))
    return files, scopes, skipped


def _looks_like_record(path: Path) -> bool:
    from disclosure.model.layout import looks_like_record

    return looks_like_record(path)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(path)


def cmd_deadline(args) -> int:
    try:
        cfg = load_config(args.config)
        calendar, rules = cfg.calendar, cfg.rules
        days, start_counts = rules.deadline_working_days, rules.start_day_counts
    except ConfigError:
        if Path(args.config).exists():
            raise
        from disclosure.model.calendar import WorkCalendar  # no site here: national calendar and defaults

        calendar, days, start_counts = WorkCalendar.default(), 20, False
    formed = max(args.formed, args.changed) if args.changed else args.formed
    dl = calendar.deadline(formed, args.days or days, start_counts)
    if args.json:
        out = dl.as_dict()
        out["written"] = args.formed.isoformat()
        if args.changed:
            out["changed"] = args.changed.isoformat()
        print(json.dumps(out, ensure_ascii=False))
        return EXIT_OK
    note = "（暂定：所涉年份的放假安排尚未确认）" if dl.provisional else ""
    print(f"形成日期 {formed}，第 {dl.working_days} 个工作日为 {dl.deadline}{note}")
    for info in dl.skipped:
        kind = "上班" if info.is_workday else "不计"
        print(f"  {info.day} 星期{'一二三四五六日'[info.day.weekday()]} {kind}：{info.reason}"
              + ("" if info.confirmed else "（未确认）"))
    return EXIT_OK


def cmd_new(args) -> int:
    from disclosure.model.corpus import build_date
    from disclosure.model.scaffold import create

    cfg = load_config(args.config)
    try:
        path = create(cfg, args.rtype, args.issuer, args.title, args.date or build_date())
    except ValueError as e:
        print(f"disclosure new: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(_rel(path, Path.cwd()))
    return EXIT_OK


def cmd_build(args) -> int:
    from disclosure.site.build import build_site

    return build_site(args.config, site_dir=args.site_dir, as_of=args.as_of)


def cmd_serve(args) -> int:
    from disclosure.site.serve import main as serve_main

    return serve_main(args.config, args.dev_addr, as_of=args.as_of, search=args.search)


def cmd_report(args) -> int:
    from disclosure.model.corpus import build_date, load_corpus
    from disclosure.supervision.report import build_report
    from disclosure.supervision.render import RENDERERS, to_csv

    cfg = load_config(args.config)
    if args.unit and cfg.unit(args.unit) is None:
        from disclosure.model.scaffold import unknown_unit_message

        print(unknown_unit_message(cfg, args.unit), file=sys.stderr)
        return EXIT_USAGE
    corpus = load_corpus(cfg, args.as_of or build_date(), config_path=args.config, keep_bodies=False)
    rep = build_report(corpus, year=args.year, unit=args.unit)
    data = to_csv(rep) if args.format == "csv" else RENDERERS[args.format](rep).encode("utf-8")
    if args.output:
        args.output.write_bytes(data)
        print(f"已写入 {args.output}")
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def cmd_annual_stats(args) -> int:
    from disclosure.supervision.annual_stats import annual_stats, render
    from disclosure.model.corpus import build_date, load_corpus

    cfg = load_config(args.config)
    corpus = load_corpus(cfg, args.as_of or build_date(), config_path=args.config, keep_bodies=False)
    try:
        stats = annual_stats(corpus, args.unit, args.year)
    except ValueError as e:
        print(f"disclosure annual-stats: {e}", file=sys.stderr)
        return EXIT_USAGE
    sys.stdout.write(render(stats, args.format))
    return EXIT_ERRORS if stats["report"] and stats["report"]["problems"] else EXIT_OK


def cmd_publish(args) -> int:
    from disclosure.publish.release import main_publish

    return main_publish(args)


def cmd_rollback(args) -> int:
    from disclosure.publish.release import main_rollback

    return main_rollback(args)


_COMMANDS = {"publish": cmd_publish, "rollback": cmd_rollback, "validate": cmd_validate, "deadline": cmd_deadline, "new": cmd_new, "build": cmd_build,
             "report": cmd_report, "annual-stats": cmd_annual_stats, "serve": cmd_serve}

if __name__ == "__main__":
    sys.exit(main())
