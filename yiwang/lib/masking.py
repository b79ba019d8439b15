"""Masked forms of personal identifiers, shown wherever the viewer has no need for the full value."""

# Two-character surnames (复姓) whose both characters stay visible.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "司空",
        "夏侯",
        "令狐",
        "端木",
        "南宫",
        "西门",
        "独孤",
        "百里",
        "呼延",
        "轩辕",
        "钟离",
        "闻人",
        "澹台",
        "公冶",
        "太叔",
        "申屠",
        "濮阳",
        "万俟",
        "第五",
        "拓跋",
        "赫连",
        "东郭",
        "单于",
    ]
)


def mask_id_number(value: str) -> str:
    """ "610102199001011234" → "6101**********1234" (first four and last four kept)."""
    s = str(value or "")
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


def mask_phone(value: str) -> str:
    """ "13812345678" → "138****5678"; other lengths keep at most the last four digits."""
    s = str(value or "").strip()
    if len(s) == 11 and s.isdigit():
        return s[:3] + "****" + s[-4:]
    if len(s) <= 4:
        return "*" * len(s)
    return "*" * (len(s) - 4) + s[-4:]


def mask_name(value: str) -> str:
    """ "张三" → "张*", "欧阳娜娜" → "欧阳**": the surname stays, the given name is hidden."""
    s = str(value or "").strip()
    if not s:
        return ""
    keep = 2 if s[:2] in COMPOUND_SURNAMES and len(s) > 2 else 1
    if len(s) == 1:
        return s
    return s[:keep] + "*" * (len(s) - keep)
