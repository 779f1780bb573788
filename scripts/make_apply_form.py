"""Write the demo's 政府信息公开申请表 as Word (.docx) and PDF into content/xxgk/downloads/.

    .venv/bin/pip install -r scripts/requirements-forms.txt
    .venv/bin/python scripts/make_apply_form.py

The output is committed (the build does not need these libraries). Word: python-docx; PDF: fpdf2 with
the Noto Sans CJK font (Debian fonts-noto-cjk), subset into the file. Reproducible: fixed metadata dates.
An office edits FIELDS / the texts below and runs the script again, or replaces the files with its own.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "content" / "xxgk" / "downloads"
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT_BOLD = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
FIXED = dt.datetime(2026, 1, 15, 9, 0, 0, tzinfo=dt.timezone.utc)

TITLE = "政府信息公开申请表"
OFFICE = "青岚县人民政府办公室（县政府信息公开工作机构）"
NOTE = ("填表说明：1. 本表可当面提交、邮寄至“青岚县青云路18号县政府办公室政务公开科”（邮编 339900），"
        "或填写后以电子邮件附件发送至 xxgk@qinglan.gov.cn。2. 所需信息请尽量写明名称、文号或便于查询的其他特征。"
        "3. 依申请提供政府信息不收费；申请数量、频次明显超过合理范围的，按规定收取信息处理费。（演示用表，内容虚构）")
FIELDS = [
    ("申请人信息", [("申请人类型", "□ 公民　　□ 法人或者其他组织"), ("姓名或名称", ""), ("身份证件名称及号码 / 统一社会信用代码", ""),
               ("法定代表人或负责人（法人或其他组织填写）", ""), ("联系电话", ""), ("通信地址及邮政编码", ""), ("电子邮箱", "")]),
    ("所需信息", [("所需政府信息的名称、文号或者便于查询的其他特征性描述", ""), ("所需信息的用途（选填）", "")]),
    ("获取方式", [("提供信息的方式", "□ 纸质　　□ 电子文件　　□ 其他：________"),
              ("获取信息的途径", "□ 邮寄　　□ 电子邮件　　□ 当面领取　　□ 现场查阅")]),
    ("签名", [("申请人签名（盖章）", ""), ("申请日期", "　　　　年　　月　　日")]),
]


def write_docx(path: Path) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(TITLE)
    run.bold = True
    run.font.size = Pt(18)
    doc.add_paragraph(f"受理机关：{OFFICE}")
    table = doc.add_table(rows=0, cols=3)
    table.style = "Table Grid"
    for group, rows in FIELDS:
        first = True
        start = len(table.rows)
        for label, value in rows:
            cells = table.add_row().cells
            cells[1].text, cells[2].text = label, value
            if first:
                cells[0].text = group
                first = False
        if len(rows) > 1:
            table.cell(start, 0).merge(table.cell(len(table.rows) - 1, 0))
    doc.add_paragraph(NOTE)
    props = doc.core_properties
    props.title, props.author, props.created, props.modified = TITLE, OFFICE, FIXED, FIXED
    props.last_modified_by = OFFICE
    doc.save(path)


def write_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED)
    pdf.set_title(TITLE)
    pdf.set_author(OFFICE)
    pdf.set_creator("scripts/make_apply_form.py (fpdf2)")
    pdf.add_font("NotoSansCJK", "", str(FONT), collection_font_number=2)  # 2: the SC face of the collection
    pdf.add_font("NotoSansCJK", "B", str(FONT_BOLD), collection_font_number=2)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font("NotoSansCJK", "B", 18)
    pdf.cell(0, 12, TITLE, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("NotoSansCJK", "", 11)
    pdf.cell(0, 9, f"受理机关：{OFFICE}", new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(22, 68, 84), line_height=9, first_row_as_headings=False) as table:
        for group, rows in FIELDS:
            for i, (label, value) in enumerate(rows):
                row = table.row()
                if i == 0:
                    row.cell(group, rowspan=len(rows))
                row.cell(label)
                row.cell(value or " ")
    pdf.ln(4)
    pdf.set_font("NotoSansCJK", "", 10)
    pdf.multi_cell(0, 6, NOTE)
    pdf.output(str(path))


def main() -> int:
    if not FONT.exists():
        print(f"找不到中文字体 {FONT}（Debian: apt-get install fonts-noto-cjk）", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    write_docx(OUT / "apply-form.docx")
    write_pdf(OUT / "apply-form.pdf")
    for p in sorted(OUT.iterdir()):
        print(f"{p.relative_to(ROOT)}: {p.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
