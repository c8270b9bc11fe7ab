"""The catalog's refusals (the API's English messages, catalog/schemas.py and
catalog/course_import.py) as the admin's pages say them in Chinese; a message not listed
here is shown as the API words it."""

from __future__ import annotations

import re

_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), words)
    for pattern, words in (
        (r"^must be a multiple of 0\.5", "须以 0.5 学时为单位"),
        (r"^must be greater than 0", "须大于 0"),
        (r"^must be at most ([\d.]+)", r"不能超过 \1"),
        (r"^must not be blank", "不能为空"),
        (r"^series must be null for a public course", "公需课没有系列，请留空"),
        (r"^series is required for a professional course", "专业课须填 23 个系列之一"),
        (r"^must be one of the 23 series", "须为 23 个系列之一"),
        (r"^Input should be a valid number", "须为数字"),
        (r"^Input should be a valid integer", "须为整数"),
        (r"^Input should be 'public' or 'professional'", "须为“公需课”或“专业课”"),
        (r"^Input should be 'web', 'mobile' or 'both'", "须为“网页”“手机”或“网页和手机”"),
        (r"^String should match pattern", "格式不对：须为大写字母、数字和连字符，2 到 40 个字符"),
        (r"^String should have at least (\d+) characters?", r"至少 \1 个字符"),
        (r"^String should have at most (\d+) characters?", r"最多 \1 个字符"),
        (r"^Input should be (?:greater|less) than or equal to", "须在 2000 到 2100 之间"),
        (r"^must not repeat a tag", "标签不能重复"),
        (r"^List should have at most (\d+) items?", r"最多 \1 个"),
        (r"^must not contain control characters", "不能含控制字符"),
        (r"^a new course needs the column", "新建课程须有这一列"),
        (r"^the code appears again: row (\d+) has it already", r"课程编号重复：第 \1 行已有"),
        (
            r"^a cell right of the last named column",
            "在最后一个有列名的列之后还有内容：请补上列名或清空",
        ),
        (r"^Field required", "必填"),
    )
)


def refusal_words(message: str) -> str:
    """`message` in Chinese when it is one of the catalog's refusals, else as it is."""
    for pattern, words in _WORDS:
        found = pattern.match(message)
        if found:
            return found.expand(words)
    return message
