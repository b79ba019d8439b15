"""The licence types the platform ships (证照目录), loaded by ``services.licence_types_sync``.

Each claim: ``name``, labels ``zh``/``en``, ``sd`` (a salted disclosure the holder may withhold),
``personal`` (personal information: always ``sd`` and stored encrypted), ``required`` and
``from`` (where issuance on an approved case takes the value; see models.LicenceType).
``material_names``: the ``licence_type`` of catalog materials the licence stands in for (免证办).
Item codes are basic catalog items (yiwang/catalog/data): approving one of them, or one of
their regional implementations, issues the licence.
"""


def _c(name, zh, en, *, sd=True, personal=False, required=False, source=None) -> dict:
    claim = {
        "name": name,
        "zh": zh,
        "en": en,
        "sd": sd or personal,
        "personal": personal,
        "required": required,
    }
    if source:
        claim["from"] = source
    return claim


NUMBER = _c("licence_number", "证照编号", "Licence number", sd=False, required=True, source="licence.number")
ENTERPRISE_CLAIMS = [
    _c("name", "名称", "Name", sd=False, required=True, source="enterprise.name"),
    _c(
        "credit_code",
        "统一社会信用代码",
        "Unified social credit code",
        sd=False,
        required=True,
        source="enterprise.credit_code",
    ),
    _c(
        "legal_representative",
        "法定代表人",
        "Legal representative",
        personal=True,
        source="enterprise.legal_representative",
    ),
    _c("address", "住所", "Domicile", source="enterprise.address"),
]

TYPES = [
    {
        "code": "business-licence",
        "name_zh": "营业执照",
        "name_en": "Business licence",
        "holder_kind": "enterprise",
        "validity_years": None,
        "issuer_kinds": ["SCJG"],
        "item_codes": ["0102100101"],
        "material_names": ["营业执照"],
        "claims": [
            NUMBER,
            *ENTERPRISE_CLAIMS,
            _c("business_scope", "经营范围", "Business scope", source="case.data.purpose"),
        ],
    },
    {
        "code": "individual-business-licence",
        "name_zh": "个体工商户营业执照",
        "name_en": "Individual business licence",
        "holder_kind": "person",
        "validity_years": None,
        "issuer_kinds": ["SCJG"],
        "item_codes": ["0102100201"],
        "material_names": ["营业执照", "个体工商户营业执照"],
        "claims": [
            NUMBER,
            _c("operator", "经营者", "Operator", personal=True, required=True, source="person.name"),
            _c(
                "operator_id_number",
                "经营者身份证号码",
                "Operator's identity number",
                personal=True,
                required=True,
                source="person.id_number",
            ),
            _c("business_address", "经营场所", "Business premises", source="case.data.address"),
            _c("business_scope", "经营范围", "Business scope", source="case.data.purpose"),
        ],
    },
    {
        "code": "food-business-licence",
        "name_zh": "食品经营许可证",
        "name_en": "Food business licence",
        "holder_kind": "any",
        "validity_years": 5,
        "issuer_kinds": ["SCJG"],
        "item_codes": ["0102100401"],
        "material_names": ["食品经营许可证"],
        "claims": [
            NUMBER,
            _c("operator", "经营者名称", "Operator", sd=False, required=True, source="holder.name"),
            _c(
                "operator_code",
                "社会信用代码（身份证号码）",
                "Credit code (identity number)",
                personal=True,
                required=True,
                source="holder.identifier",
            ),
            _c("business_address", "经营场所", "Business premises", source="case.data.address"),
            _c("business_items", "经营项目", "Business items", source="case.data.purpose"),
        ],
    },
    {
        "code": "drug-business-licence",
        "name_zh": "药品经营许可证",
        "name_en": "Drug business licence",
        "holder_kind": "enterprise",
        "validity_years": 5,
        "issuer_kinds": ["SCJG"],
        "item_codes": ["0102101101"],
        "material_names": ["药品经营许可证", "药品零售企业经营许可证"],
        "claims": [
            NUMBER,
            *ENTERPRISE_CLAIMS,
            _c("business_mode", "经营方式", "Mode of business", source="case.data.purpose"),
        ],
    },
    {
        "code": "dog-registration",
        "name_zh": "养犬登记证",
        "name_en": "Dog registration certificate",
        "holder_kind": "person",
        "validity_years": 1,
        "issuer_kinds": ["GAT"],
        "item_codes": ["0100500901"],
        "material_names": ["养犬登记证"],
        "claims": [
            NUMBER,
            _c("owner", "犬主姓名", "Owner", personal=True, required=True, source="person.name"),
            _c(
                "owner_id_number",
                "犬主身份证号码",
                "Owner's identity number",
                personal=True,
                required=True,
                source="person.id_number",
            ),
            _c(
                "keeping_address",
                "养犬地址",
                "Where the dog is kept",
                personal=True,
                source="case.data.address",
            ),
            _c("dog", "犬只信息", "The dog", source="case.data.purpose"),
        ],
    },
    {
        "code": "resident-identity",
        "name_zh": "居民身份电子凭证",
        "name_en": "Resident identity credential",
        "holder_kind": "person",
        "validity_years": 10,
        "issuer_kinds": ["GAT"],
        "item_codes": [],
        "material_names": ["居民身份证"],
        "claims": [
            _c("name", "姓名", "Name", personal=True, required=True, source="person.name"),
            _c(
                "id_number",
                "公民身份号码",
                "Identity number",
                personal=True,
                required=True,
                source="person.id_number",
            ),
            _c(
                "birth_date",
                "出生日期",
                "Date of birth",
                personal=True,
                required=True,
                source="person.birth_date",
            ),
            _c("age_over_18", "年满18周岁", "Aged 18 or over", required=True, source="person.age_over_18"),
            _c(
                "realname_level", "实名等级", "Real-name level", required=True, source="person.realname_level"
            ),
        ],
    },
]
