"""The 23 series (系列) of the catalog and the course categories (§四, §二(三))."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    """A course is a public course (公需课) or a professional subject (专业课), §一(一)."""

    public = "public"
    professional = "professional"


@dataclass(frozen=True)
class SeriesInfo:
    name: str
    key: str
    code_prefix: str
    key_industry: bool


# §二(三): the nine key industries (九大重点产业), then the other series of §四.
SERIES: tuple[SeriesInfo, ...] = (
    SeriesInfo("枸杞", "gouqi", "GQ", True),
    SeriesInfo("葡萄酒", "putaojiu", "PTJ", True),
    SeriesInfo("奶产业", "naichanye", "NCY", True),
    SeriesInfo("肉牛和滩羊", "rouniu_tanyang", "RNTY", True),
    SeriesInfo("电子信息", "dianzi_xinxi", "DZXX", True),
    SeriesInfo("新型材料", "xinxing_cailiao", "XXCL", True),
    SeriesInfo("绿色食品", "lvse_shipin", "LSSP", True),
    SeriesInfo("清洁能源", "qingjie_nengyuan", "QJNY", True),
    SeriesInfo("文化旅游", "wenhua_lvyou", "WHLY", True),
    SeriesInfo("教师", "jiaoshi", "JS", False),
    SeriesInfo("工程", "gongcheng", "GC", False),
    SeriesInfo("农业", "nongye", "NY", False),
    SeriesInfo("自然科研", "ziran_keyan", "ZRKY", False),
    SeriesInfo("社会哲学科研", "shehui_zhexue_keyan", "SZKY", False),
    SeriesInfo("档案", "dangan", "DA", False),
    SeriesInfo("新闻", "xinwen", "XW", False),
    SeriesInfo("艺术群文", "yishu_qunwen", "YSQW", False),
    SeriesInfo("律师和公证员", "lvshi_gongzhengyuan", "LSGZ", False),
    SeriesInfo("图资", "tuzi", "TZ", False),
    SeriesInfo("会计", "kuaiji", "KJ", False),
    SeriesInfo("经济", "jingji", "JJ", False),
    SeriesInfo("工艺美术", "gongyi_meishu", "GYMS", False),
    SeriesInfo("卫生", "weisheng", "WS", False),
)

SERIES_NAMES: tuple[str, ...] = tuple(s.name for s in SERIES)

# Public courses (公需课) have no series; their codes start with this prefix.
PUBLIC_KEY = "public"
PUBLIC_CODE_PREFIX = "GX"
