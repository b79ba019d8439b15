import pytest

from yiwang.catalog import search, selectors
from yiwang.catalog.models import ServiceItem, Theme
from yiwang.catalog.tests.factories import make_item

pytestmark = pytest.mark.django_db

FTS_SPECIALS = [
    '"',
    "'",
    "*",
    "^",
    ":",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "-",
    "+",
    "NEAR",
    "AND",
    "OR",
    "NOT",
    "&",
    "|",
    "!",
    "<->",
    "\\",
    "%",
    "_",
    ";",
    ",",
    ".",
]


def first(q, **kwargs):
    result = selectors.search_items(q=q, **kwargs)
    assert result.items, f"nothing found for {q!r}"
    return result


def test_kai_canguan_finds_food_licence_items_and_the_restaurant_bundle(catalog):
    result = first("开餐馆")
    assert result.items[0].name.startswith("食品经营许可")
    assert result.bundles[0].code == "open-restaurant"


def test_banli_yingye_zhizhao_puts_registration_that_issues_a_licence_first(catalog):
    result = first("办理营业执照")
    assert result.items[0].name in {"企业设立登记", "个体工商户设立登记"}
    assert "start-company" in [b.code for b in result.bundles]


def test_shebao_zhuanyi_finds_pension_transfer_first(catalog):
    result = first("社保转移")
    assert result.items[0].name.startswith("基本养老保险关系转移接续")
    assert not any(i.name.startswith("社会保障卡") for i in result.items[:3])


def test_getihu_zhuce_finds_sole_trader_registration(catalog):
    result = first("个体户注册")
    assert result.items[0].name == "个体工商户设立登记"


def test_the_users_region_comes_first_among_equal_names(catalog):
    xian = catalog["610100"]
    result = first("个体户注册", user_region_id=xian.pk)
    assert result.items[0].region_id == xian.pk


def test_a_name_match_ranks_above_a_description_only_match(places):
    department = places["610000"].departments.get(code="610000-SCJG")
    body_only = make_item(
        code="B1",
        name="小型活动备案",
        description="涉及烧烤摊点的临时活动",
        department=department,
        popularity=999,
    )
    in_name = make_item(code="N1", name="烧烤摊点登记", department=department, popularity=1)
    result = selectors.search_items(q="烧烤摊点")
    assert [i.code for i in result.items] == [in_name.code, body_only.code]
    assert result.title_count == 1 and result.count == 2


def test_filters_narrow_by_department_theme_type_and_audience(catalog):
    department_id = selectors.get_department_id("610100-SCJG")
    by_department = selectors.search_items(q="许可", department=department_id, page_size=50)
    assert by_department.count and all(i.department_id == department_id for i in by_department.items)

    birth = Theme.objects.get(code="birth")
    by_theme = selectors.search_items(q="", theme=birth.pk, page_size=50)
    assert by_theme.count and all(birth in i.themes.all() for i in by_theme.items)

    licensing = selectors.search_items(q="登记", item_type="licensing", page_size=50)
    assert licensing.count and all(i.item_type == "licensing" for i in licensing.items)

    personal = selectors.search_items(q="登记", audience="personal", page_size=50)
    assert personal.count and all(i.service_object in ("personal", "both") for i in personal.items)


def test_retired_and_draft_items_are_not_found(places):
    department = places["610000"].departments.get(code="610000-SCJG")
    make_item(code="D1", name="烧烤摊点登记", department=department, status=ServiceItem.Status.DRAFT)
    make_item(code="R1", name="烧烤摊点注销", department=department, status=ServiceItem.Status.RETIRED)
    assert selectors.search_items(q="烧烤摊点").count == 0


def test_pages_continue_from_name_matches_into_description_matches(places):
    department = places["610000"].departments.get(code="610000-SCJG")
    for n in range(3):
        make_item(code=f"T{n}", name=f"烧烤摊点登记{n}", department=department, popularity=n)
    for n in range(3):
        make_item(
            code=f"D{n}", name=f"其他事项{n}", description="烧烤摊点", department=department, popularity=n
        )
    pages = [selectors.search_items(q="烧烤摊点", page=p, page_size=2) for p in (1, 2, 3)]
    codes = [i.code for page in pages for i in page.items]
    assert codes == ["T2", "T1", "T0", "D2", "D1", "D0"]
    assert pages[0].count == 6 and pages[2].num_pages == 3


MALFORMED = [
    "",
    "   ",
    "x" * 500,
    "营" * 500,
    '"unterminated',
    "a\x00b\x07c",
    "\u200b\u202e社保",
    "😀🎉",
    "NEAR(社保 转移)",
    "col:社保",
]


@pytest.fixture
def few_items(places):
    department = places["610000"].departments.get(code="610000-SCJG")
    make_item(code="F1", name="营业执照遗失补领", department=department, aliases="执照补办")
    make_item(code="F2", name="社会保障卡申领", department=department, description="社保 卡")
    return department


def test_every_fts_syntax_character_is_harmless_in_any_position(few_items):
    for special in FTS_SPECIALS:
        for q in (
            special,
            f"营业执照{special}",
            f"{special}社保 {special}",
            special * 5,
            f"执照 {special} 补领",
        ):
            result = selectors.search_items(q=q)
            assert result.count >= 0, q
    assert selectors.search_items(q='营业执照"').count == 1


@pytest.mark.parametrize("q", MALFORMED)
def test_malformed_queries_never_error(few_items, q):
    result = selectors.search_items(q=q)
    assert result.count >= 0


def test_parse_drops_stop_words_and_adds_synonyms():
    parsed = search.parse("我要怎么办理社保转移")
    words = [t.word for t in parsed.terms]
    assert "我要" not in words and "办理" not in words and "怎么" not in words
    alternatives = {alt for t in parsed.terms for alt in t.alternatives}
    # an expansion's long words are looked for as their sub-words, as the index holds them
    assert ("养老", "保险", "关系", "转移") in alternatives


def test_the_same_parsed_query_renders_for_both_databases():
    parsed = search.parse('营业执照 "OR" NEAR')
    assert parsed.fts5().count("(") == parsed.fts5().count(")")
    assert '"营业执照"' in parsed.fts5()
    assert "'营业执照'" in parsed.tsquery()
    assert all(ch not in w for t in parsed.terms for alt in t.alternatives for w in alt for ch in "\"'():*")


def test_normalize_removes_control_and_syntax_characters():
    assert search.normalize('社保\x00"转移"*') == "社保 转移"


def test_reindex_makes_a_new_synonym_effective(places):
    from yiwang.catalog import services

    department = places["610000"].departments.get(code="610000-SCJG")
    make_item(code="S1", name="道路挖掘许可", department=department)
    assert selectors.search_items(q="挖马路").count == 0
    services.synonym_save(actor="system:test", term="挖马路", expansions=["道路挖掘"])
    search.clear_caches()
    search.reindex_all()
    assert selectors.search_items(q="挖马路").count == 1


def test_counts_and_pages_stop_at_max_results_on_every_database(places, monkeypatch):
    department = places["610000"].departments.get(code="610000-SCJG")
    for n in range(5):
        make_item(code=f"C{n}", name=f"烧烤摊点登记{n}", department=department, popularity=n)
    monkeypatch.setattr(search, "MAX_RESULTS", 3)
    first_page = selectors.search_items(q="烧烤摊点", page_size=2)
    assert first_page.count == 3 and first_page.capped
    assert [i.code for i in first_page.items] == ["C4", "C3"]
    assert [i.code for i in selectors.search_items(q="烧烤摊点", page=2, page_size=2).items] == ["C2"]
    assert selectors.search_items(q="烧烤摊点", page=3, page_size=2).items == []
    assert not selectors.search_items(q="烧烤摊点登记4").capped


# --- issue 9 §4: everyday words, variants, intent, one result per service, the visitor's region
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("身分证", "居民身份证"),  # a common misspelling
        ("公積金提取", "住房公积金提取"),  # traditional characters
        ("户囗迁移", "户口迁移"),  # 囗 (enclosure) for 口 (mouth)
        ("医保报消", "医疗费用零星报销"),  # 消 for 销
        ("ＳＣ证", "食品生产许可"),  # full-width letters
    ],
)
def test_variants_and_misspellings_find_the_service(catalog, q, expected):
    result = selectors.search_items(q=q, grouped=True, relax=True)
    assert result.items and result.items[0].name.startswith(expected), [i.name for i in result.items]


def test_normalize_query_maps_variants_but_leaves_correct_text_alone():
    assert search.normalize_query("身分證") == "身份证"
    assert search.normalize_query("营业执照") == "营业执照"


def test_an_intent_word_picks_the_action_lost_means_replace(catalog):
    assert first("身份证丢了", grouped=True, relax=True).items[0].name == "居民身份证补领"
    assert first("社保卡丢了", grouped=True, relax=True).items[0].name in {"社会保障卡挂失", "社会保障卡补领"}


def test_withdrawing_housing_fund_ranks_withdrawals_above_deposits(catalog):
    names = [i.name for i in first("公积金提取", grouped=True).items[:3]]
    assert all(n.startswith("住房公积金提取") for n in names), names


def test_a_plain_noun_asks_for_the_thing_itself_before_its_later_actions(catalog):
    assert first("社保卡", grouped=True).items[0].name == "社会保障卡申领"


def test_colloquial_words_with_no_catalog_word_still_find_services(catalog):
    for q, expected in [
        ("外卖店", "食品经营许可"),
        ("小卖部", "个体工商户设立登记"),
        ("看病报销", "医疗费用零星报销"),
    ]:
        result = selectors.search_items(q=q, grouped=True, relax=True)
        assert any(i.name.startswith(expected) for i in result.items[:5]), (q, [i.name for i in result.items])


def test_grouping_shows_each_service_once_nearest_first_with_the_other_regions_counted(catalog):
    xian = catalog["610100"]
    plain = selectors.search_items(q="开餐馆", page_size=50)
    grouped = selectors.search_items(q="开餐馆", page_size=50, grouped=True, user_region_id=xian.pk)
    codes = [i.basic_item_id or i.pk for i in grouped.items]
    assert len(codes) == len(set(codes)) and grouped.count < plain.count
    assert grouped.items[0].region_id == xian.pk and grouped.items[0].other_regions >= 1
    at_province = selectors.search_items(q="开餐馆", grouped=True, user_region_id=catalog["610000"].pk)
    assert at_province.items[0].region_id == catalog["610000"].pk


def test_one_service_lists_every_region_offering_it(catalog):
    basic = ServiceItem.objects.get(name="个体工商户设立登记", basic_item__isnull=True)
    result = selectors.search_items(basic=basic.pk, page_size=50, user_region_id=catalog["610100"].pk)
    assert result.count == 1 + basic.implementations.count()
    assert result.items[0].region_id == catalog["610100"].pk
    assert {i.basic_item_id or i.pk for i in result.items} == {basic.pk}


def test_relaxing_is_said_and_ranks_the_items_with_most_words_first(catalog):
    strict = selectors.search_items(q="孩子 社保卡 补领")
    relaxed = selectors.search_items(q="孩子 社保卡 补领", relax=True, grouped=True)
    assert strict.count == 0 and not strict.relaxed
    assert relaxed.relaxed and relaxed.items[0].name == "社会保障卡补领"
