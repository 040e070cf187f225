"""Which column holds which field: header synonyms (English and Chinese) and the header sets of
known exports (Google Contacts, Outlook, Shopify, Stripe, vCard).

Headers are compared in a canonical form (case, spaces and punctuation ignored), so "E-mail 1 -
Value", "email1value" and "EMAIL 1 VALUE" are the same header. Several columns may feed one field:
a single-valued field takes the first non-empty one ("Business City", then "Home City"), a
list field (other e-mails, tags, notes…) takes them all."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from .report import ImportFileError


def canon(header: str) -> str:
    """'E-mail 1 - Value' -> 'email1value'; '电子 邮件' -> '电子邮件'."""
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", header).casefold())


@dataclass(frozen=True)
class Target:
    name: str
    label: Promise
    synonyms: tuple[str, ...] = ()
    many: bool = False  # collects every mapped column instead of the first non-empty one


ADDRESS = [
    Target(
        "street",
        _lazy("street"),
        (
            "street",
            "address",
            "streetaddress",
            "strasse",
            "straße",
            "adresse",
            "address1",
            "addressline1",
            "address1street",
            "businessstreet",
            "adrstreet",
            "homestreet",
            "billingaddress1",
            "地址",
            "街道",
            "详细地址",
            "街道地址",
        ),
    ),
    Target(
        "city",
        _lazy("city"),
        (
            "city",
            "town",
            "stadt",
            "ort",
            "ville",
            "adrlocality",
            "address1city",
            "businesscity",
            "homecity",
            "城市",
            "市",
        ),
    ),
    Target(
        "region",
        _lazy("region"),
        (
            "state",
            "province",
            "region",
            "county",
            "adrregion",
            "address1region",
            "businessstate",
            "homestate",
            "省份",
            "省",
            "地区",
            "州",
        ),
    ),
    Target(
        "postal_code",
        _lazy("postal code"),
        (
            "zip",
            "zipcode",
            "postcode",
            "postalcode",
            "plz",
            "codepostal",
            "adrcode",
            "address1postalcode",
            "businesspostalcode",
            "homepostalcode",
            "邮编",
            "邮政编码",
        ),
    ),
    Target(
        "country",
        _lazy("country"),
        (
            "country",
            "countryregion",
            "land",
            "pays",
            "adrcountry",
            "address1country",
            "businesscountryregion",
            "homecountryregion",
            "国家",
            "国家地区",
        ),
    ),
]
EMAIL = Target(
    "email",
    _lazy("e-mail"),
    (
        "email",
        "emailaddress",
        "mail",
        "email1value",
        "primaryemail",
        "customeremail",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
        "邮箱地址",
    ),
)
PHONE = Target(
    "phone",
    _lazy("phone"),
    (
        "phone",
        "phonenumber",
        "mobile",
        "mobilephone",
        "cell",
        "cellphone",
        "tel",
        "telephone",
        "phone1value",
        "primaryphone",
        "telefon",
        "handy",
        "手机",
        "手机号",
        "手机号码",
        "电话",
        "电话号码",
        "联系电话",
        "移动电话",
    ),
)
TAGS = Target(
    "tags",
    _lazy("tags"),
    ("tags", "tag", "labels", "groups", "groupmembership", "categories", "标签", "分组", "分类"),
    many=True,
)
NOTES = Target(
    "notes", _lazy("notes"), ("notes", "note", "comments", "comment", "remarks", "备注", "说明"), many=True
)
CONSENT = Target(
    "email_consent",
    _lazy("e-mail marketing consent"),
    (
        "consent",
        "emailconsent",
        "marketingconsent",
        "newsletter",
        "subscribed",
        "acceptsmarketing",
        "acceptsemailmarketing",
        "optin",
        "emailoptin",
        "订阅",
        "同意营销",
        "营销同意",
        "接受营销",
    ),
)

TARGETS: dict[str, list[Target]] = {
    "contacts": [
        Target(
            "external_id",
            _lazy("external id"),
            ("id", "externalid", "contactid", "customerid", "uid", "客户编号", "客户id", "编号"),
        ),
        Target(
            "full_name",
            _lazy("full name"),
            (
                "name",
                "fullname",
                "contactname",
                "displayname",
                "customername",
                "fn",
                "姓名",
                "名字",
                "全名",
                "客户名称",
                "联系人",
                "客户",
            ),
        ),
        Target(
            "first_name",
            _lazy("first name"),
            ("firstname", "givenname", "forename", "vorname", "prenom", "ngiven", "名"),
        ),
        Target(
            "middle_name", _lazy("middle name"), ("middlename", "additionalname", "nadditional", "中间名")
        ),
        Target(
            "last_name",
            _lazy("last name"),
            ("lastname", "familyname", "surname", "nachname", "nom", "nfamily", "姓", "姓氏"),
        ),
        EMAIL,
        Target(
            "other_emails",
            _lazy("other e-mails"),
            (
                "email2value",
                "email3value",
                "email4value",
                "email2address",
                "email3address",
                "otheremail",
                "otheremails",
                "emailmore",
                "其他邮箱",
            ),
            many=True,
        ),
        PHONE,
        Target(
            "other_phones",
            _lazy("other phones"),
            (
                "phone2value",
                "phone3value",
                "phone4value",
                "businessphone",
                "businessphone2",
                "homephone",
                "homephone2",
                "otherphone",
                "otherphones",
                "telmore",
                "primaryphone2",
                "其他电话",
                "座机",
                "办公电话",
            ),
            many=True,
        ),
        Target(
            "company",
            _lazy("company"),
            (
                "company",
                "companyname",
                "organization",
                "organisation",
                "organizationname",
                "organization1name",
                "org",
                "employer",
                "firma",
                "entreprise",
                "公司",
                "公司名称",
                "单位",
                "企业",
            ),
        ),
        Target(
            "title",
            _lazy("job title"),
            (
                "title",
                "jobtitle",
                "position",
                "role",
                "organizationtitle",
                "organization1title",
                "职位",
                "职务",
                "头衔",
            ),
        ),
        *ADDRESS,
        Target(
            "birthday",
            _lazy("birthday"),
            (
                "birthday",
                "birthdate",
                "dateofbirth",
                "geburtstag",
                "geburtsdatum",
                "dob",
                "bday",
                "生日",
                "出生日期",
            ),
        ),
        Target("source", _lazy("acquisition source"), ("source", "leadsource", "来源", "客户来源")),
        Target(
            "channel", _lazy("acquisition channel"), ("channel", "acquisitionchannel", "渠道", "获客渠道")
        ),
        Target("lifecycle_stage", _lazy("lifecycle stage"), ("stage", "lifecyclestage", "阶段", "客户阶段")),
        TAGS,
        NOTES,
        CONSENT,
        Target("photo", _lazy("photo"), ("photo", "picture", "avatar", "photourl", "照片", "头像")),
    ],
    "companies": [
        Target("external_id", _lazy("external id"), ("id", "externalid", "companyid", "编号", "公司编号")),
        Target(
            "name",
            _lazy("name"),
            (
                "name",
                "company",
                "companyname",
                "organization",
                "organisation",
                "organizationname",
                "公司",
                "公司名称",
                "名称",
                "企业名称",
            ),
        ),
        Target(
            "domain",
            _lazy("web domain"),
            ("domain", "website", "url", "web", "homepage", "网站", "域名", "网址"),
        ),
        Target("phone", _lazy("phone"), PHONE.synonyms),
        Target("industry", _lazy("industry"), ("industry", "sector", "行业")),
        *ADDRESS,
        TAGS,
        NOTES,
    ],
    "orders": [
        Target(
            "order_number",
            _lazy("order number"),
            ("ordernumber", "orderno", "order", "ordername", "订单号", "订单编号"),
        ),
        Target(
            "external_id",
            _lazy("external id"),
            ("id", "orderid", "externalid", "transactionid", "chargeid", "paymentid", "交易号", "交易编号"),
        ),
        Target(
            "ordered_at",
            _lazy("ordered at"),
            (
                "date",
                "orderdate",
                "createdat",
                "created",
                "createdutc",
                "createddateutc",
                "日期",
                "下单时间",
                "订单日期",
                "创建时间",
            ),
        ),
        Target(
            "status",
            _lazy("status"),
            ("status", "orderstatus", "financialstatus", "paymentstatus", "状态", "订单状态", "支付状态"),
        ),
        Target("fulfillment_status", _lazy("fulfilment status"), ("fulfillmentstatus", "发货状态")),
        Target("cancelled_at", _lazy("cancelled at"), ("cancelledat", "取消时间")),
        Target("captured", _lazy("captured"), ("captured",)),
        Target("currency", _lazy("currency"), ("currency", "币种", "货币")),
        Target(
            "total",
            _lazy("total"),
            ("total", "amount", "ordertotal", "grandtotal", "金额", "总额", "订单金额", "总价"),
        ),
        Target("refunded", _lazy("refunded amount"), ("refundedamount", "amountrefunded", "退款金额")),
        EMAIL,
        Target("phone", _lazy("phone"), (*PHONE.synonyms, "billingphone", "customerphone", "shippingphone")),
        Target(
            "customer_name",
            _lazy("customer name"),
            (
                "customer",
                "customername",
                "billingname",
                "cardname",
                "customerdescription",
                "姓名",
                "客户",
                "客户名称",
                "收货人",
                "买家",
            ),
        ),
        Target("customer_id", _lazy("customer external id"), ("customerid", "客户编号", "客户id")),
        Target("city", _lazy("city"), ("city", "billingcity", "城市")),
        Target("country", _lazy("country"), ("country", "billingcountry", "国家")),
        Target(
            "line_name",
            _lazy("product"),
            (
                "product",
                "productname",
                "item",
                "itemname",
                "lineitemname",
                "description",
                "产品",
                "商品",
                "商品名称",
                "产品名称",
            ),
        ),
        Target(
            "line_sku", _lazy("SKU"), ("sku", "lineitemsku", "productsku", "货号", "商品编码", "产品编码")
        ),
        Target("line_quantity", _lazy("quantity"), ("quantity", "qty", "lineitemquantity", "数量")),
        Target("line_price", _lazy("unit price"), ("price", "unitprice", "lineitemprice", "单价")),
        Target("channel", _lazy("sales channel"), ("channel", "saleschannel", "source", "渠道", "来源")),
        CONSENT,
        NOTES,
    ],
    "interactions": [
        Target(
            "external_id", _lazy("external id"), ("id", "externalid", "activityid", "interactionid", "编号")
        ),
        Target(
            "occurred_at",
            _lazy("when"),
            (
                "date",
                "datetime",
                "occurredat",
                "timestamp",
                "time",
                "when",
                "createdat",
                "日期",
                "时间",
                "发生时间",
            ),
        ),
        Target("kind", _lazy("kind"), ("type", "kind", "activitytype", "类型")),
        Target("subject", _lazy("subject"), ("subject", "title", "主题", "标题")),
        Target(
            "body",
            _lazy("text"),
            (
                "body",
                "text",
                "notes",
                "note",
                "description",
                "content",
                "message",
                "details",
                "内容",
                "备注",
                "详情",
            ),
            many=True,
        ),
        EMAIL,
        PHONE,
        Target(
            "contact_id",
            _lazy("contact external id"),
            ("contactid", "customerid", "contactexternalid", "客户编号", "客户id"),
        ),
    ],
}

# Known exports: recognised by a set of headers that only they have; their own meanings win
# over the generic synonyms (Outlook's "Title" is "Mr."/"Dr.", not a job title).
LAYOUTS: dict[str, tuple[tuple[frozenset[str], ...], dict[str, str]]] = {
    "google": (
        (
            frozenset({"firstname", "lastname", "email1value", "labels"}),
            frozenset({"givenname", "familyname", "email1value", "groupmembership"}),
        ),
        {
            "address1formatted": "",
            "organizationdepartment": "",
            "organization1department": "",
            "nickname": "",
            "fileas": "",
        },
    ),
    "outlook": (
        (frozenset({"firstname", "lastname", "emailaddress", "businessphone", "mobilephone"}),),
        {"title": "", "suffix": "", "emailaddress": "email", "mobilephone": "phone"},
    ),
    "shopify": (
        (frozenset({"name", "financialstatus", "lineitemname"}),),
        {
            "name": "order_number",
            "id": "external_id",
            "source": "channel",
            "subtotal": "",
            "shipping": "",
            "taxes": "",
            "discountamount": "",
            "paidat": "",
            "shippingname": "",
            "phone": "phone",
        },
    ),
    "stripe": (
        (
            frozenset({"id", "amount", "amountrefunded", "currency", "status", "customeremail"}),
            frozenset({"id", "amount", "amountrefunded", "currency", "status", "customerid"}),
        ),
        {
            "description": "line_name",
            "convertedamount": "",
            "fee": "",
            "sellermessage": "",
            "statementdescriptor": "",
        },
    ),
}


def targets(kind: str) -> list[Target]:
    try:
        return TARGETS[kind]
    except KeyError:
        raise ImportFileError(_("Unknown import kind “%(kind)s”.") % {"kind": kind}) from None


def field_choices(kind: str) -> list[tuple[str, str]]:
    """(field, translated label) for every target field of ``kind``."""
    return [(t.name, str(t.label)) for t in targets(kind)]


def detect_layout(headers: list[str], table_layout: str = "") -> str:
    if table_layout:
        return table_layout
    keys = {canon(h) for h in headers}
    for name, (signatures, _overrides) in LAYOUTS.items():
        if any(signature <= keys for signature in signatures):
            return name
    return ""


def detect_mapping(kind: str, headers: list[str], layout: str = "") -> dict[str, str]:
    """header -> target field ('' = ignored), from the layout's own meanings and the synonyms."""
    lookup = {canon(s): t.name for t in targets(kind) for s in (t.name, *t.synonyms)}
    if layout in LAYOUTS:
        lookup.update(LAYOUTS[layout][1])
    return {header: lookup.get(canon(header), "") for header in headers}


@dataclass
class Plan:
    """The decided mapping, as column positions per field in file order."""

    kind: str
    layout: str
    headers: list[str]
    mapping: dict[str, str]
    columns: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, header in enumerate(self.headers):
            if name := self.mapping.get(header):
                self.columns.setdefault(name, []).append(index)

    def mapped(self, *names: str) -> bool:
        return any(name in self.columns for name in names)


def build_plan(
    kind: str, headers: list[str], overrides: dict[str, str] | None, table_layout: str = ""
) -> Plan:
    """Detect the mapping, apply the user's ``overrides`` and check them."""
    layout = detect_layout(headers, table_layout)
    mapping = detect_mapping(kind, headers, layout)
    valid = {t.name for t in targets(kind)}
    by_canon = {canon(h): h for h in headers}
    for header, name in (overrides or {}).items():
        actual = header if header in mapping else by_canon.get(canon(header))
        if actual is None:
            raise ImportFileError(
                _("The mapping names a column the file does not have: “%(h)s”.") % {"h": header}
            )
        if name and name not in valid:
            raise ImportFileError(
                _("“%(field)s” is not a field of %(kind)s; use one of: %(valid)s.")
                % {"field": name, "kind": kind, "valid": ", ".join(sorted(valid))}
            )
        mapping[actual] = name or ""
    return Plan(kind, layout, headers, mapping)


# Outlook's CSV export in German, French, Spanish and Chinese (the English headers are above).
# Written as Outlook writes them; compared through canon() like every synonym.
LOCALISED_OUTLOOK: dict[str, tuple[str, ...]] = {
    "first_name": ("Vorname", "Prénom", "Nombre"),
    "middle_name": ("Weitere Vornamen", "Deuxième prénom", "Segundo nombre"),
    "last_name": ("Nachname", "Nom", "Apellidos"),
    "email": ("E-Mail-Adresse", "Adresse de messagerie", "Dirección de correo electrónico", "电子邮件地址"),
    "other_emails": (
        "E-Mail 2: Adresse", "E-Mail 3: Adresse", "Adresse de messagerie 2", "Adresse de messagerie 3",
        "Dirección de correo electrónico 2", "Dirección de correo electrónico 3", "电子邮件 2 地址",
        "电子邮件 3 地址",
    ),
    "phone": ("Mobiltelefon", "Tél. mobile", "Téléphone mobile", "Teléfono móvil"),
    "other_phones": (
        "Telefon geschäftlich", "Telefon geschäftlich 2", "Telefon privat", "Telefon privat 2",
        "Téléphone (bureau)", "Téléphone 2 (bureau)", "Téléphone (domicile)", "Teléfono del trabajo",
        "Teléfono del trabajo 2", "Teléfono particular", "商务电话", "商务电话 2", "住宅电话",
    ),
    "company": ("Société", "Organización", "Compañía", "Empresa"),
    "title": ("Fonction", "Puesto", "Cargo"),
    "street": (
        "Straße geschäftlich", "Straße privat", "Rue (bureau)", "Rue (domicile)", "Calle del trabajo",
        "Calle del domicilio", "商务地址 街道", "住宅地址 街道",
    ),
    "city": (
        "Ort geschäftlich", "Ort privat", "Ville (bureau)", "Ville (domicile)", "Ciudad de trabajo",
        "Ciudad del domicilio", "商务地址 市/县", "住宅地址 市/县",
    ),
    "region": (
        "Region geschäftlich", "Bundesland/Kanton geschäftlich", "Dép/Région (bureau)",
        "Provincia o estado de trabajo", "商务地址 省/市/自治区", "住宅地址 省/市/自治区",
    ),
    "postal_code": (
        "Postleitzahl geschäftlich", "Postleitzahl privat", "Code postal (bureau)", "Code postal (domicile)",
        "Código postal del trabajo", "Código postal del domicilio", "商务地址 邮政编码", "住宅地址 邮政编码",
    ),
    "country": (
        "Land/Region geschäftlich", "Land/Region privat", "Pays/Région (bureau)", "Pays/Région (domicile)",
        "País o región del trabajo", "País o región del domicilio", "商务地址 国家/地区",
        "住宅地址 国家/地区",
    ),
    "birthday": ("Anniversaire", "Cumpleaños"),
    "notes": ("Notizen", "Notas", "附注"),
    "tags": ("Kategorien", "Catégories", "Categorías", "类别"),
}  # fmt: skip
TARGETS["contacts"] = [
    replace(t, synonyms=(*t.synonyms, *LOCALISED_OUTLOOK.get(t.name, ()))) for t in TARGETS["contacts"]
]
_outlook_signatures, _outlook_meanings = LAYOUTS["outlook"]
LAYOUTS["outlook"] = (
    (
        *_outlook_signatures,
        frozenset(map(canon, ("Vorname", "Nachname", "E-Mail-Adresse", "Telefon geschäftlich"))),
        frozenset(map(canon, ("Prénom", "Nom", "Adresse de messagerie", "Téléphone (bureau)"))),
        frozenset(
            map(canon, ("Nombre", "Apellidos", "Dirección de correo electrónico", "Teléfono del trabajo"))
        ),
        frozenset(map(canon, ("名", "姓", "电子邮件地址", "商务电话"))),
    ),
    # the salutation and the suffix are not names; "Titre" is the salutation in French Outlook
    {
        **_outlook_meanings,
        **dict.fromkeys(map(canon, ("Anrede", "Titre", "Tratamiento", "Suffixe", "Sufijo")), ""),
    },
)


# ------------------------------------------------------------------ files without a header row

_ADDRESS_CELL = re.compile(r"[^@\s<>]+@[^@\s<>]+")
_PHONE_CELL = re.compile(r"\+?[\d\s()./-]{6,25}")


def looks_like_data(cells: list[str]) -> bool:
    """True when a first row is a record, not headers: it holds an e-mail address or a phone
    number (which no header does) and no cell is a header we know."""
    known = {canon(s) for t in TARGETS["contacts"] for s in (t.name, *t.synonyms)}
    if any(canon(c) in known for c in cells if c.strip()):
        return False
    return any(_ADDRESS_CELL.fullmatch(c.strip()) or _is_phone_cell(c) for c in cells)


def _is_phone_cell(cell: str) -> bool:
    return bool(_PHONE_CELL.fullmatch(cell.strip())) and sum(ch.isdigit() for ch in cell) >= 6


def guess_headerless(headers: list[str], rows: list[list[str]]) -> dict[str, str]:
    """header -> field for a file without a header row, from what its first rows hold: e-mail
    addresses, phone numbers, and names (a column that is two others joined by a space is the
    display name of a first and a last name, as Thunderbird writes it)."""
    guessed: dict[str, str] = dict.fromkeys(headers, "")

    def share(index: int, test) -> float:
        cells = [r[index].strip() for r in rows if index < len(r) and r[index].strip()]
        return sum(1 for c in cells if test(c)) / len(cells) if cells else 0.0

    texts = []
    for index, header in enumerate(headers):
        if share(index, _ADDRESS_CELL.fullmatch) > 0.5:
            guessed[header] = "other_emails" if "email" in guessed.values() else "email"
        elif share(index, _is_phone_cell) > 0.5:
            guessed[header] = "other_phones" if "phone" in guessed.values() else "phone"
        elif share(index, lambda c: any(ch.isalpha() for ch in c)) > 0.5:
            texts.append(index)
    for full in texts:
        for first in texts:
            for last in texts:
                if (
                    len({full, first, last}) == 3
                    and share(full, lambda c: True)
                    and all(
                        r[full].strip() == f"{r[first].strip()} {r[last].strip()}"
                        for r in rows
                        if max(full, first, last) < len(r) and r[full].strip()
                    )
                ):
                    guessed.update({headers[first]: "first_name", headers[last]: "last_name"})
                    return guessed
    if texts:
        guessed[headers[texts[0]]] = "full_name"
    return guessed
