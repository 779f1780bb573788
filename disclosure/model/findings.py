"""Findings: what a rule says about a record, with a stable code, a level and a fix hint.

Every code is listed once in `CODES` with its level and a one-line Chinese message template;
rules fill the template with `details`. The catalogue of codes is printed in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from disclosure.model.screening import mask_personal

ERROR = "error"
WARNING = "warning"
INFO = "info"
LEVEL_LABELS = {ERROR: "错误", WARNING: "警告", INFO: "提示"}


class Code(NamedTuple):
    level: str
    title: str  # short Chinese name of the rule


CODES: dict[str, Code] = {
    # structure (blocking)
    "E101": Code(ERROR, "文件编码不是 UTF-8"),
    "E102": Code(ERROR, "缺少 YAML 头信息"),
    "E103": Code(ERROR, "YAML 格式错误"),
    "E104": Code(ERROR, "未知字段"),
    "E105": Code(ERROR, "缺少必填字段"),
    "E106": Code(ERROR, "字段类型错误"),
    "E107": Code(ERROR, "日期无效"),
    "E108": Code(ERROR, "取值不在允许范围内"),
    "E109": Code(ERROR, "附件文件不存在"),
    "E110": Code(ERROR, "日期先后顺序不合理"),
    "E111": Code(ERROR, "字段重复"),
    "E112": Code(ERROR, "附件文件名含控制字符"),
    "E113": Code(ERROR, "记录文件不在记录文件夹中"),
    "E114": Code(ERROR, "记录文件扩展名不是 .md"),
    "E115": Code(ERROR, "文件过大或头信息结构过于复杂"),
    "E116": Code(ERROR, "模板占位文字未修改"),
    "W117": Code(WARNING, "值中的 # 之后被当作注释"),
    # identity
    "E201": Code(ERROR, "索引号格式错误"),
    "E202": Code(ERROR, "索引号重复"),
    "E203": Code(ERROR, "发文字号重复"),
    "E204": Code(ERROR, "发文字号格式错误"),
    # safety (blocking)
    "E301": Code(ERROR, "含有密级标志"),
    "E302": Code(ERROR, "含有身份证号码"),
    "E303": Code(ERROR, "含有手机号码"),
    "E304": Code(ERROR, "含有脚本或事件属性等会被执行的网页代码"),
    "E305": Code(ERROR, "缺少保密审查记录"),
    "E306": Code(ERROR, "嵌入第三方网站资源"),
    "W307": Code(WARNING, "正文中不支持的 HTML 将被删除"),
    "E308": Code(ERROR, "附件不在 content/ 内或不是普通文件"),
    "E309": Code(ERROR, "附件类型不允许发布"),
    # timeliness
    "W401": Code(WARNING, "超过20个工作日公开"),
    "W402": Code(WARNING, "超过20个工作日公开（已说明原因）"),
    "I403": Code(INFO, "期限为暂定（当年放假安排未公布）"),
    "I404": Code(INFO, "定时发布，尚未到发布日期"),
    # annual reports
    "W501": Code(WARNING, "年度报告公开逾期"),
    "W502": Code(WARNING, "年度报告缺失"),
    "E503": Code(ERROR, "年度报告表格数据不平衡"),
    "E504": Code(ERROR, "年度报告重复"),
    # normative documents
    "E601": Code(ERROR, "关联文件不存在"),
    "E602": Code(ERROR, "修改关系未双向标注"),
    "W603": Code(WARNING, "规范性文件即将到期"),
    "I604": Code(INFO, "规范性文件已失效"),
    "E605": Code(ERROR, "废止信息不完整"),
    # withdrawal
    "W701": Code(WARNING, "撤回超过3个工作日"),
}


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    message: str
    hint: str = ""
    field: str = ""

    def __post_init__(self):
        # a record value may land in any message (a late_reason in W402, a title in E602 …):
        # ID and mobile numbers are masked here, once, for every rule, log and report
        object.__setattr__(self, "message", mask_personal(self.message))
        object.__setattr__(self, "hint", mask_personal(self.hint))

    @property
    def level(self) -> str:
        return CODES[self.code].level

    @property
    def title(self) -> str:
        return CODES[self.code].title

    def render(self) -> str:
        where = f"{self.path}:{self.line}"
        fld = f" [{self.field}]" if self.field else ""
        hint = f"（修改方法：{self.hint}）" if self.hint else ""
        return f"{where}: {self.code} {self.level}{fld} {self.message}{hint}"

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "level": self.level,
            "title": self.title,
            "file": self.path,
            "line": self.line,
            "field": self.field,
            "message": self.message,
            "hint": self.hint,
        }


def sort_key(f: Finding):
    return (f.path, f.line, f.code)
