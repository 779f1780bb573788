"""`disclosure annual-stats`: the figures of the national annual-report format that the records can give.

Table 2, row 行政规范性文件 (第二十条第（一）项), for one unit and year:
  本年制发件数  normative documents of the unit published in the year
  本年废止件数  repealed in the year (plus those lapsing by expiry in the year when
                `rules.expired_counts_as_repealed` is true: local guidance differs)
  现行有效件数  published by 31 December and, on that day, 有效 or 已修改 (still in force as amended)
It also checks the unit's annual-report record for that year: the tables' arithmetic and whether its
table 2 row matches the computed figures.
"""

from __future__ import annotations

import datetime as dt
import json

from disclosure.model import annual_tables
from disclosure.model.corpus import Corpus
from disclosure.rules import normative


def normative_row(corpus: Corpus, unit_id: str, year: int) -> dict:
    end = dt.date(year, 12, 31)
    count_expiry = corpus.cfg.rules.expired_counts_as_repealed
    docs = [r for r in corpus.records if r.type == "normative" and r.issuer == unit_id and r.published]
    issued = [r for r in docs if r.published.year == year]
    repealed = [r for r in docs if r.repealed and r.repealed.date.year == year]
    if count_expiry:
        repealed += [r for r in docs if not r.repealed and r.expires and r.expires.year == year]
    in_force = [r for r in docs if r.published <= end
                and normative.status(r, corpus.by_index, end) in (normative.VALID, normative.AMENDED)]
    return {"issued": len(issued), "repealed": len(repealed), "in_force": len(in_force),
            "issued_docs": [r.doc_no for r in issued], "repealed_docs": [r.doc_no for r in repealed],
            "in_force_docs": [r.doc_no for r in in_force], "expired_counts_as_repealed": count_expiry}


def annual_stats(corpus: Corpus, unit_key: str, year: int) -> dict:
    unit = corpus.cfg.unit(unit_key)
    if unit is None:
        raise ValueError(f"单位「{unit_key}」不在 extra.portal.units 中")
    row = normative_row(corpus, unit.id, year)
    report = next((r for r in corpus.records if r.type == "annual-report" and r.issuer == unit.id and r.year == year), None)
    out = {"unit": unit.name, "year": year, "table2_normative": row, "report": None}
    if report is not None:
        problems = annual_tables.check(report.tables)
        recorded = (report.tables.get("table2") or {}).get("normative") or {}
        mismatch = {k: {"recorded": recorded.get(k), "computed": row[k]}
                    for k in ("issued", "repealed", "in_force") if recorded.get(k) != row[k]}
        out["report"] = {"index_no": report.index_no, "path": report.path,
                         "problems": [{"cell": p.cell, "message": p.message} for p in problems],
                         "table2_mismatch": mismatch}
    return out


def render(stats: dict, fmt: str) -> str:
    row = stats["table2_normative"]
    if fmt == "json":
        return json.dumps(stats, ensure_ascii=False, indent=2) + "\n"
    if fmt == "md":
        lines = [f"### {stats['unit']} {stats['year']} 年度 · 第二十条第（一）项", "",
                 "| 信息内容 | 本年制发件数 | 本年废止件数 | 现行有效件数 |", "| --- | --- | --- | --- |",
                 "| 规章 | 0 | 0 | 0 |",
                 f"| 行政规范性文件 | {row['issued']} | {row['repealed']} | {row['in_force']} |", ""]
        return "\n".join(lines)
    lines = [f"{stats['unit']} {stats['year']} 年度 第二十条第（一）项 行政规范性文件：",
             f"  本年制发件数 {row['issued']}（{'、'.join(row['issued_docs']) or '无'}）",
             f"  本年废止件数 {row['repealed']}（{'、'.join(row['repealed_docs']) or '无'}）"
             + ("，含到期失效" if row["expired_counts_as_repealed"] else "，不含到期失效"),
             f"  现行有效件数 {row['in_force']}（{'、'.join(row['in_force_docs']) or '无'}）"]
    rep = stats["report"]
    if rep is None:
        lines.append("  未找到该年度的年度报告记录。")
    else:
        lines.append(f"  年度报告 {rep['index_no']}（{rep['path']}）：")
        if rep["problems"]:
            lines += [f"    ✗ {p['cell']}：{p['message']}" for p in rep["problems"]]
        else:
            lines.append("    ✓ 表三、表四勾稽关系正确")
        for k, v in rep["table2_mismatch"].items():
            label = {"issued": "本年制发件数", "repealed": "本年废止件数", "in_force": "现行有效件数"}[k]
            lines.append(f"    ! 表二「行政规范性文件」行「{label}」填写 {v['recorded']}，按记录计算为 {v['computed']}")
    return "\n".join(lines) + "\n"
