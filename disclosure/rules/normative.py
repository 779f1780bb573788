"""行政规范性文件: validity, status (有效 / 失效 / 废止 / 已修改), repeal and amendment links."""

from __future__ import annotations

import datetime as dt

from disclosure.model.findings import Finding

VALID, EXPIRED, REPEALED, AMENDED, NOT_YET = "有效", "失效", "废止", "已修改", "尚未施行"


def status(record, by_index: dict, as_of: dt.date) -> str:
    """The 有效性 of a normative document as of a date. Precedence: 废止 > 失效 > 已修改 > 有效."""
    if record.repealed and record.repealed.date <= as_of:
        return REPEALED
    if record.expires and record.expires < as_of:
        return EXPIRED
    for idx in record.amended_by:
        amender = by_index.get(idx)
        if amender and amender.published and amender.published <= as_of:
            return AMENDED
    return VALID


def months_between(a: dt.date, b: dt.date) -> float:
    return (b - a).days / 30.44


def check(record, ctx):
    if record.type != "normative":
        return
    if record.effective and record.effective < record.written:
        yield Finding("E110", record.path, record.line("effective"),
                      f"施行日期 {record.effective} 早于成文日期 {record.written}", "核对施行日期", "effective")
    if record.expires and record.effective and record.expires <= record.effective:
        yield Finding("E110", record.path, record.line("expires"),
                      f"有效期至 {record.expires} 不晚于施行日期 {record.effective}", "核对有效期", "expires")
    if record.repealed and not record.repealed.by:
        yield Finding("E605", record.path, record.line("repealed"),
                      "已废止但未注明由哪个文件废止", "在 repealed 下加 by: 废止它的文件的索引号或文号", "repealed.by")


def check_corpus(records, ctx):
    by_index = {r.index_no: r for r in records}
    warn_months = ctx.cfg.rules.expiry_warning_months
    for r in records:
        for ref_key, refs in (("related", r.related), ("interprets", [r.interprets] if r.interprets else []),
                              ("amends", r.amends), ("amended_by", r.amended_by)):
            for idx in refs:
                if idx not in by_index:
                    yield Finding("E601", r.path, r.line(ref_key), f"{ref_key} 指向的索引号「{idx}」不存在",
                                  "核对索引号，或先提交被引用的记录", ref_key)
        if r.interprets and r.interprets in by_index and by_index[r.interprets].type == "interpretation":
            yield Finding("E601", r.path, r.line("interprets"), "政策解读应指向被解读的文件，而不是另一篇解读",
                          "把 interprets 改为原文件的索引号", "interprets")
        if r.repealed and r.repealed.by and "/" in r.repealed.by and "〔" not in r.repealed.by \
                and r.repealed.by not in by_index:
            yield Finding("E601", r.path, r.line("repealed"), f"废止依据「{r.repealed.by}」的索引号不存在",
                          "核对索引号，或改写为废止文件的文号", "repealed.by")
        if r.type != "normative":
            continue
        for idx in r.amends:
            target = by_index.get(idx)
            if target is not None and r.index_no not in target.amended_by:
                yield Finding("E602", target.path, target.line("amended_by") if target.amended_by else 1,
                              f"本文件被 {r.index_no}（{r.title}）修改，但未标注 amended_by",
                              f"加上 amended_by: [{r.index_no}]", "amended_by")
        for idx in r.amended_by:
            source = by_index.get(idx)
            if source is not None and r.index_no not in source.amends:
                yield Finding("E602", source.path, source.line("amends") if source.amends else 1,
                              f"{r.index_no}（{r.title}）标注被本文件修改，但本文件未标注 amends",
                              f"加上 amends: [{r.index_no}]", "amends")
        if not r.is_live(ctx.as_of):
            continue
        st = status(r, by_index, ctx.as_of)
        if st == VALID and r.expires and months_between(ctx.as_of, r.expires) <= warn_months:
            yield Finding("W603", r.path, r.line("expires") if r.expires_explicit else r.line("effective"),
                          f"有效期至 {r.expires}，不足 {warn_months} 个月，应开展评估",
                          "评估后决定继续施行（重新登记公布）、修改或废止", "expires")
        elif st == EXPIRED:
            yield Finding("I604", r.path, r.line("expires") if r.expires_explicit else r.line("effective"),
                          f"已于 {r.expires} 到期失效，页面将标注“失效”", "如已重新公布，为新文件建立记录", "expires")
