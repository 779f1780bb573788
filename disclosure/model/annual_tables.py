"""The national annual-report format (国办公开办函〔2021〕30号): table layout and arithmetic checks.

Records carry the tables as data under `tables:`; this module names every row and column, renders
them in the national layout and checks the format's arithmetic, naming the failing cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from disclosure.site.html import escape

T3_COLUMNS = ["自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]
T3_GROUPS = {  # group key → (label, [(leaf key, label)])
    "refused": ("（三）不予公开", [
        ("state_secret", "1.属于国家秘密"), ("prohibited_by_law", "2.其他法律行政法规禁止公开"),
        ("three_safety", "3.危及“三安全一稳定”"), ("third_party", "4.保护第三方合法权益"),
        ("internal_affairs", "5.属于三类内部事务信息"), ("process_info", "6.属于四类过程性信息"),
        ("enforcement_file", "7.属于行政执法案卷"), ("administrative_query", "8.属于行政查询事项")]),
    "unable": ("（四）无法提供", [
        ("not_held", "1.本机关不掌握相关政府信息"), ("needs_creation", "2.没有现成信息需要另行制作"),
        ("still_unclear", "3.补正后申请内容仍不明确")]),
    "not_processed": ("（五）不予处理", [
        ("complaint", "1.信访举报投诉类申请"), ("repeated", "2.重复申请"), ("publication", "3.要求提供公开出版物"),
        ("excessive", "4.无正当理由大量反复申请"), ("confirmation", "5.要求行政机关确认或重新出具已获取信息")]),
    "other": ("（六）其他处理", [
        ("no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
        ("no_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
        ("other", "3.其他")]),
}
T3_LEAVES = [("granted", "（一）予以公开"), ("partly", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）")] + [
    (f"{g}.{k}", label) for g, (_, leaves) in T3_GROUPS.items() for k, label in leaves
]
T4_GROUPS = [("review", "行政复议"), ("litigation_direct", "行政诉讼：未经复议直接起诉"),
             ("litigation_after_review", "行政诉讼：复议后起诉")]
T4_PARTS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]


@dataclass(frozen=True)
class TableProblem:
    cell: str  # e.g. 表三「（七）总计」行「自然人」列
    message: str


def _get(tables: dict, path: str):
    node = tables
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _row(t3: dict, path: str, problems: list, label: str) -> list[int]:
    row = _get(t3, path)
    if not (isinstance(row, list) and len(row) == 7 and all(isinstance(v, int) and not isinstance(v, bool) for v in row)):
        problems.append(TableProblem(f"表三「{label}」行", f"应为 7 个整数（{'、'.join(T3_COLUMNS)}），现在是 {row!r}"))
        return [0] * 7
    return row


def check(tables: dict) -> list[TableProblem]:
    """All arithmetic problems of one report's tables (empty list: balanced)."""
    problems: list[TableProblem] = []
    t3 = tables.get("table3")
    if isinstance(t3, dict):
        new = _row(t3, "new", problems, "一、本年新收政府信息公开申请数量")
        carried = _row(t3, "carried_over", problems, "二、上年结转政府信息公开申请数量")
        total = _row(t3, "total", problems, "（七）总计")
        forward = _row(t3, "carried_forward", problems, "四、结转下年度继续办理")
        leaves = [_row(t3, path, problems, label) for path, label in T3_LEAVES]
        named = [("一、本年新收", new), ("二、上年结转", carried), ("（七）总计", total), ("四、结转下年度", forward)]
        named += [(label, row) for (_, label), row in zip(T3_LEAVES, leaves)]
        for c, col in enumerate(T3_COLUMNS):
            if new[c] + carried[c] != total[c] + forward[c]:
                problems.append(TableProblem(
                    f"表三「{col}」列",
                    f"一+二 = {new[c]}+{carried[c]} = {new[c] + carried[c]}，但 （七）总计+四 = {total[c]}+{forward[c]} = {total[c] + forward[c]}"))
            leaf_sum = sum(row[c] for row in leaves)
            if leaf_sum != total[c]:
                problems.append(TableProblem(
                    f"表三「（七）总计」行「{col}」列",
                    f"应等于（一）至（六）各项之和 {leaf_sum}，现在是 {total[c]}"))
        for label, row in named:
            if sum(row[:6]) != row[6]:
                problems.append(TableProblem(
                    f"表三「{label}」行「总计」列", f"应等于前六列之和 {sum(row[:6])}，现在是 {row[6]}"))
    t4 = tables.get("table4")
    if isinstance(t4, dict):
        for key, label in T4_GROUPS:
            row = t4.get(key)
            if not (isinstance(row, list) and len(row) == 5 and all(isinstance(v, int) for v in row)):
                problems.append(TableProblem(f"表四「{label}」", f"应为 5 个整数（{'、'.join(T4_PARTS)}），现在是 {row!r}"))
            elif sum(row[:4]) != row[4]:
                problems.append(TableProblem(
                    f"表四「{label}」的「总计」", f"应等于维持+纠正+其他+尚未审结 = {sum(row[:4])}，现在是 {row[4]}"))
    return problems


def _cells(values, tag="td") -> str:
    return "".join(f"<{tag}>{escape(str(v))}</{tag}>" for v in values)


def render(tables: dict) -> str:
    """HTML of tables 2-4 in the national layout (one line per row, no blank lines: a raw HTML block)."""
    out = []
    t2 = tables.get("table2") or {}
    if t2:
        g = lambda k, sub=None: (_get(t2, f"{k}.{sub}") if sub else t2.get(k, "")) if t2 else ""
        out.append('<h2 id="table2">二、主动公开政府信息情况</h2>')
        out.append('<div class="portal-table-wrap"><table class="portal-annual">'
                   '<thead><tr><th colspan="4" scope="colgroup">第二十条第（一）项</th></tr>'
                   '<tr><th scope="col">信息内容</th><th scope="col">本年制发件数</th><th scope="col">本年废止件数</th><th scope="col">现行有效件数</th></tr></thead><tbody>'
                   f'<tr><th scope="row">规章</th>{_cells([g("rules","issued"), g("rules","repealed"), g("rules","in_force")])}</tr>'
                   f'<tr><th scope="row">行政规范性文件</th>{_cells([g("normative","issued"), g("normative","repealed"), g("normative","in_force")])}</tr>'
                   '</tbody></table></div>')
        out.append('<div class="portal-table-wrap"><table class="portal-annual"><thead>'
                   '<tr><th scope="col">信息内容</th><th scope="col">本年处理决定数量</th></tr></thead><tbody>'
                   f'<tr><th scope="row">第二十条第（五）项 行政许可</th>{_cells([g("licensing")])}</tr>'
                   f'<tr><th scope="row">第二十条第（六）项 行政处罚</th>{_cells([g("punishment")])}</tr>'
                   f'<tr><th scope="row">第二十条第（六）项 行政强制</th>{_cells([g("enforcement")])}</tr>'
                   '</tbody></table></div>')
        out.append('<div class="portal-table-wrap"><table class="portal-annual"><thead>'
                   '<tr><th scope="col">信息内容</th><th scope="col">本年收费金额（单位：万元）</th></tr></thead><tbody>'
                   f'<tr><th scope="row">第二十条第（八）项 行政事业性收费</th>{_cells([g("fees")])}</tr>'
                   '</tbody></table></div>')
    t3 = tables.get("table3") or {}
    if t3:
        out.append('<h2 id="table3">三、收到和处理政府信息公开申请情况</h2>')
        head = ('<thead><tr><th rowspan="3" colspan="2" scope="colgroup">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</th>'
                '<th colspan="7" scope="colgroup">申请人情况</th></tr>'
                '<tr><th rowspan="2" scope="col">自然人</th><th colspan="5" scope="colgroup">法人或其他组织</th><th rowspan="2" scope="col">总计</th></tr>'
                '<tr>' + _cells(T3_COLUMNS[1:6], "th") + '</tr></thead>')
        rows = [f'<tr><th colspan="2" scope="row">一、本年新收政府信息公开申请数量</th>{_cells(_get(t3, "new") or [])}</tr>',
                f'<tr><th colspan="2" scope="row">二、上年结转政府信息公开申请数量</th>{_cells(_get(t3, "carried_over") or [])}</tr>']
        n_rows = 2 + sum(len(leaves) for _, leaves in T3_GROUPS.values()) + 1
        rows.append(f'<tr><th rowspan="{n_rows}" scope="rowgroup">三、本年度办理结果</th>'
                    f'<th scope="row">（一）予以公开</th>{_cells(_get(t3, "granted") or [])}</tr>')
        rows.append(f'<tr><th scope="row">（二）部分公开（区分处理的，只计这一情形，不计其他情形）</th>{_cells(_get(t3, "partly") or [])}</tr>')
        for group, (glabel, leaves) in T3_GROUPS.items():
            for i, (key, label) in enumerate(leaves):
                name = f"{glabel} {label}" if i == 0 else label
                rows.append(f'<tr><th scope="row">{escape(name)}</th>{_cells(_get(t3, f"{group}.{key}") or [])}</tr>')
        rows.append(f'<tr><th scope="row">（七）总计</th>{_cells(_get(t3, "total") or [])}</tr>')
        rows.append(f'<tr><th colspan="2" scope="row">四、结转下年度继续办理</th>{_cells(_get(t3, "carried_forward") or [])}</tr>')
        out.append(f'<div class="portal-table-wrap"><table class="portal-annual">{head}<tbody>{"".join(rows)}</tbody></table></div>')
    t4 = tables.get("table4") or {}
    if t4:
        out.append('<h2 id="table4">四、政府信息公开行政复议、行政诉讼情况</h2>')
        head = ('<thead><tr><th colspan="5" scope="colgroup">行政复议</th><th colspan="10" scope="colgroup">行政诉讼</th></tr>'
                '<tr><th colspan="5" scope="colgroup"></th><th colspan="5" scope="colgroup">未经复议直接起诉</th><th colspan="5" scope="colgroup">复议后起诉</th></tr>'
                '<tr>' + _cells(T4_PARTS * 3, "th") + '</tr></thead>')
        cells = [v for key, _ in T4_GROUPS for v in (t4.get(key) or [""] * 5)]
        out.append(f'<div class="portal-table-wrap"><table class="portal-annual">{head}<tbody><tr>{_cells(cells)}</tr></tbody></table></div>')
    return "\n".join(out)
