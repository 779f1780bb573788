"""`disclosure new`: write a valid skeleton record with the next free 索引号."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from disclosure.model.config import PortalConfig, Unit
from disclosure.model.corpus import discover
from disclosure.model.schema import RECORD_TYPES

_INDEX_LINE = re.compile(r"^index_no:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.M)


def used_index_numbers(cfg: PortalConfig) -> set[str]:
    """Every index_no already written, read cheaply (no full validation: broken records count too)."""
    used = set()
    for path in discover(cfg):
        head = path.read_bytes()[:4096].decode("utf-8", "replace")
        m = _INDEX_LINE.search(head)
        if m:
            used.add(m.group(1).strip())
    return used


def next_index_no(cfg: PortalConfig, unit: Unit, year: int, used: set[str]) -> str:
    pattern = cfg.index_no_pattern(unit)
    top = 0
    for idx in used:
        m = pattern.match(idx)
        if m and "year" in m.groupdict() and int(m.group("year")) == year:
            top = max(top, int(m.group("seq")))
    candidate = cfg.format_index_no(unit, year, top + 1)
    while candidate in used:  # templates without {year}
        top += 1
        candidate = cfg.format_index_no(unit, year, top + 1)
    return candidate


def skeleton(cfg: PortalConfig, rtype: str, unit: Unit, index_no: str, title: str, today: dt.date) -> str:
    lines = [
        "---",
        f"type: {rtype}",
        f"title: {title}",
        f"index_no: {index_no}",
        f"issuer: {unit.name}",
    ]
    if rtype == "normative":
        lines += [f"doc_no: 青政规〔{today.year}〕1号  # 改为实际文号", f"reg_no: 待登记-{today.year}-1  # 改为统一登记编号",
                  f"effective: {today.isoformat()}"]
    if rtype != "annual-report":
        lines.append("topic: 综合政务\\政务公开")
    if rtype == "disclosure" and cfg.columns:
        lines.append(f"column: {cfg.columns[-1].name}")
    if rtype == "interpretation":
        lines.append("# interprets: 被解读文件的索引号")
    if rtype == "annual-report":
        lines.append(f"year: {today.year - 1}")
    lines += [
        f"written: {today.isoformat()}",
        "# published: 发布日期（YYYY-MM-DD）；不填则为草稿，不会发布",
        f"reviewed: {{by: 审查人姓名, date: {today.isoformat()}}}",
        "summary: 一句话概述主要内容",
        "---",
        "",
        "正文。",
        "",
    ]
    return "\n".join(lines)


def create(cfg: PortalConfig, rtype: str, unit_key: str, title: str | None, today: dt.date) -> Path:
    if rtype not in RECORD_TYPES:
        raise ValueError(f"类型「{rtype}」无法识别；可用：{', '.join(RECORD_TYPES)}")
    unit = cfg.unit(unit_key)
    if unit is None:
        raise ValueError(f"单位「{unit_key}」不在 extra.portal.units 中；可用：{', '.join(u.id for u in cfg.units)}")
    index_no = next_index_no(cfg, unit, today.year, used_index_numbers(cfg))
    title = title or f"（标题）{RECORD_TYPES[rtype]}"
    folder = cfg.docs_dir / cfg.records_dir / str(today.year) / unit.id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{index_no.replace('/', '-')}.md"
    path.write_text(skeleton(cfg, rtype, unit, index_no, title, today), encoding="utf-8")
    return path
