"""Deterministic demo data: a fixed demo cast plus a few hundred synthetic customers.

``seed_demo(session_factory, today=..., salt=...)`` is idempotent (it does nothing when any customer
exists) and deterministic: the same ``today`` gives the same names, order ids, dates and amounts
(``random.Random(20261120)``, every date relative to ``today``). Phones, ID numbers and e-mails are
synthetic and stored only as ``common.masking.hash_contact`` + masked display form.

Demo cast (``DEMO_CAST``: external id -> customer id; each external id is registered on channels
``web`` and ``rest``, besides the ``web-<customer_id>`` and WeChat identities every customer has):

- ``demo-vip-zh``      C000001 陈静, VIP, zh -> ``important_value``; orders: processing (yesterday),
                       shipped (3 days ago, ETA tomorrow), delivered x5 (one with an open refund ticket
                       that has 2 contacts in the last 30 days).
- ``demo-elderly-zh``  C000002 王秀英, born 1950, zh, regular tier; orders: shipped, delivered.
- ``demo-atrisk-en``   C000003 Emily Carter, en, gold; last order 120 days ago -> ``at_risk``.
- ``demo-new-en``      C000004 James Wilson, en, registered 5 days ago, 1 processing order -> ``new``.
- ``demo-regular-zh``  C000005 张伟, zh, regular tier; orders paid, shipped, delivered, cancelled
                       (segment ``potential``: recent but not frequent).
- ``demo-optout-zh``   C000006 李建国, zh, silver; personalisation switched off.
- ``demo-access-zh``   C000901 林晓梅, zh, regular; declared a visual need (screen reader): priority human
                       access, plain short replies, larger text in the widget; orders delivered, shipped.
- ``demo-dormant-en``  C000902 Sarah Mitchell, en, silver, intensity ``high``; last order 150 days ago
                       (``at_risk`` / ``dormant``: the welcome-back coupon on her first greeting) and her
                       birthday (``customers.birthday``) falls three days from ``today``.

Offers (``offers``): about one in six crowd customers who bought in the last 90 days got a welcome-back coupon
(arm of the amount experiment in profiles/offers.yml) before that purchase; half of them used it on the
order (``redeemed_order_id``), so the dashboard's redemption rate is a real one.

Order numbers are ``E`` + YYYYMMDD (creation date) + a 3-digit sequence per day, so they depend on
``today``; look them up through the store (``recent_orders``) rather than hard-coding them.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from common.ids import ConversationId
from common.masking import hash_contact, mask_email, mask_id_number, mask_phone
from desk.models import Ticket, TicketContact
from profiles.models import ChannelIdentity, Consent, ConsentChange, Customer, CustomerVault, Offer, Order
from profiles.vault import DEV_VAULT_KEY, seal

__all__ = ["DEMO_CAST", "DEMO_CHANNELS", "SEED", "SeedSummary", "seed_demo"]

SEED = 20261120
RANDOM_CUSTOMERS = 220
DEMO_CHANNELS = ("web", "rest")

SEED_PAYMENT_METHODS = ("alipay", "wechat_pay", "alipay", "unionpay_debit", "credit_card", "wechat_pay", "balance")
DEMO_CAST: dict[str, str] = {
    "demo-vip-zh": "C000001",
    "demo-elderly-zh": "C000002",
    "demo-atrisk-en": "C000003",
    "demo-new-en": "C000004",
    "demo-regular-zh": "C000005",
    "demo-optout-zh": "C000006",
    # added after the crowd (C000007 onwards), so every earlier seeded value stays as it was
    "demo-access-zh": "C000901",
    "demo-dormant-en": "C000902",
}
CROWD_FIRST = 7  # the crowd's first customer number


@dataclass(frozen=True)
class SeedSummary:
    seeded: bool  # False: customers already existed, nothing was written
    customers: int = 0
    orders: int = 0
    identities: int = 0
    consents_off: int = 0
    tickets: int = 0
    ticket_contacts: int = 0
    demo_cast: dict[str, str] = field(default_factory=dict)


# -- reference data ---------------------------------------------------------------------------------

ZH_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
ZH_GIVEN = [
    "秀英", "建国", "伟", "静", "敏", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超",
    "秀兰", "霞", "平", "刚", "桂英", "志强", "海燕", "晓东", "婷", "欣怡", "子涵", "浩然", "雨桐", "玉兰",
    "淑珍", "德明", "建华", "丽娟", "文博", "思远", "佳怡", "一鸣", "梓萱", "国强", "红梅", "春华", "凤英",
]
EN_FIRST = [
    "Emily", "James", "Priya", "Olivia", "Michael", "Sophie", "Daniel", "Hannah", "Lucas", "Chloe", "Raj",
    "Aisha", "Thomas", "Grace", "David", "Mei", "Carlos", "Anna", "Benjamin", "Fatima", "Oliver", "Charlotte",
    "William", "Amelia", "Noah", "Isabella", "Arjun", "Zoe", "Samuel", "Laura",
]
EN_LAST = [
    "Carter", "Wilson", "Sharma", "Brown", "Taylor", "Nguyen", "Garcia", "Patel", "Johnson", "Lee", "Martin",
    "Thompson", "Walker", "Evans", "Kim", "O'Brien", "Rossi", "Schmidt", "Cohen", "Anderson", "Clarke",
    "Hughes", "Singh", "Murphy", "Fischer", "Dubois", "Tanaka", "Silva", "Moore", "Wright",
]

# (sku, name_zh, name_en, price CNY)
PRODUCTS: list[tuple[str, str, str, str]] = [
    ("SKU-1001", "无线蓝牙耳机", "Wireless Bluetooth Earbuds", "299.00"),
    ("SKU-1002", "不锈钢保温杯", "Insulated Water Bottle", "89.00"),
    ("SKU-1003", "纯棉T恤", "Cotton T-shirt", "79.00"),
    ("SKU-1004", "轻薄羽绒服", "Lightweight Down Jacket", "699.00"),
    ("SKU-1005", "智能手环", "Smart Fitness Band", "199.00"),
    ("SKU-1006", "空气炸锅", "Air Fryer", "359.00"),
    ("SKU-1007", "声波电动牙刷", "Sonic Electric Toothbrush", "229.00"),
    ("SKU-1008", "保湿护肤套装", "Hydrating Skincare Set", "468.00"),
    ("SKU-1009", "缓震跑步鞋", "Cushioned Running Shoes", "529.00"),
    ("SKU-1010", "机械键盘", "Mechanical Keyboard", "399.00"),
    ("SKU-1011", "真丝枕套", "Silk Pillowcase", "159.00"),
    ("SKU-1012", "西湖龙井礼盒", "Longjing Green Tea Gift Box", "268.00"),
    ("SKU-1013", "儿童绘本套装", "Children's Picture Book Set", "128.00"),
    ("SKU-1014", "不粘炒锅", "Non-stick Wok", "189.00"),
    ("SKU-1015", "20寸登机箱", "20-inch Carry-on Suitcase", "599.00"),
    ("SKU-1016", "加厚瑜伽垫", "Thick Yoga Mat", "99.00"),
    ("SKU-1017", "防蓝光老花镜", "Blue-light Reading Glasses", "129.00"),
    ("SKU-1018", "颈部按摩仪", "Neck Massager", "349.00"),
    ("SKU-1019", "20000毫安充电宝", "20000mAh Power Bank", "149.00"),
    ("SKU-1020", "护眼台灯", "LED Desk Lamp", "169.00"),
    ("SKU-1021", "扫地机器人", "Robot Vacuum Cleaner", "1999.00"),
    ("SKU-1022", "降噪头戴耳机", "Noise-cancelling Headphones", "1299.00"),
    ("SKU-1023", "羊绒围巾", "Cashmere Scarf", "459.00"),
    ("SKU-1024", "咖啡机", "Espresso Machine", "2399.00"),
]
PRODUCT_BY_SKU = {p[0]: p for p in PRODUCTS}

# (province-level city, districts, streets) for zh addresses; English renderings for en customers
ZH_CITIES = [
    ("上海市", "Shanghai", [("浦东新区", "Pudong New Area"), ("徐汇区", "Xuhui District"), ("静安区", "Jing'an District")],
     [("世纪大道", "Century Avenue"), ("淮海中路", "Middle Huaihai Road"), ("南京西路", "West Nanjing Road")]),
    ("北京市", "Beijing", [("朝阳区", "Chaoyang District"), ("海淀区", "Haidian District"), ("东城区", "Dongcheng District")],
     [("建国路", "Jianguo Road"), ("中关村大街", "Zhongguancun Street"), ("东直门内大街", "Dongzhimen Inner Street")]),
    ("广东省广州市", "Guangzhou, Guangdong", [("天河区", "Tianhe District"), ("越秀区", "Yuexiu District")],
     [("天河路", "Tianhe Road"), ("环市东路", "Huanshi East Road")]),
    ("广东省深圳市", "Shenzhen, Guangdong", [("南山区", "Nanshan District"), ("福田区", "Futian District")],
     [("深南大道", "Shennan Avenue"), ("科技南路", "Keji South Road")]),
    ("浙江省杭州市", "Hangzhou, Zhejiang", [("西湖区", "Xihu District"), ("滨江区", "Binjiang District")],
     [("文三路", "Wensan Road"), ("江南大道", "Jiangnan Avenue")]),
    ("四川省成都市", "Chengdu, Sichuan", [("武侯区", "Wuhou District"), ("锦江区", "Jinjiang District")],
     [("人民南路", "South Renmin Road"), ("春熙路", "Chunxi Road")]),
    ("江苏省南京市", "Nanjing, Jiangsu", [("鼓楼区", "Gulou District"), ("玄武区", "Xuanwu District")],
     [("中山路", "Zhongshan Road"), ("北京东路", "East Beijing Road")]),
    ("湖北省武汉市", "Wuhan, Hubei", [("洪山区", "Hongshan District"), ("江汉区", "Jianghan District")],
     [("珞喻路", "Luoyu Road"), ("解放大道", "Jiefang Avenue")]),
]

# 6-digit area codes used for synthetic ID numbers
ID_AREAS = ["110101", "110105", "310101", "310115", "440103", "440305", "330106", "510107", "320106", "420111"]

CARRIER_WEIGHTS = [("sf", 30), ("jd", 25), ("zto", 15), ("yto", 10), ("sto", 8), ("ems", 8), ("dhl", 2), ("ups", 2)]

TICKET_SUBJECTS = {
    "refund": ("订单{order}退款申请", "Refund request for order {order}"),
    "order": ("订单{order}物流进度查询", "Delivery progress of order {order}"),
    "address": ("订单{order}修改收货地址", "Change delivery address of order {order}"),
    "complaint": ("订单{order}配送太慢，客户不满意", "Customer unhappy with slow delivery of order {order}"),
}


# -- generators (all draws come from the one Random, in a fixed order) -------------------------------


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute))


def _id_check_digit(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return "10X98765432"[total % 11]


class _Generator:
    """Builds ORM objects for one seeding run; ``rng`` draws happen in a fixed order."""

    def __init__(self, today: date, salt: str, vault_key: str = DEV_VAULT_KEY) -> None:
        self.rng = random.Random(SEED)
        self.today = today
        self.salt = salt
        self.vault_key = vault_key
        self.vault: list[CustomerVault] = []
        self.seq: dict[date, int] = {}
        self.openids: set[str] = set()
        self.phones: set[str] = set()
        self.customers: list[Customer] = []
        self.orders: list[Order] = []
        self.identities: list[ChannelIdentity] = []
        self.consents: list[Consent] = []
        self.consent_changes: list[ConsentChange] = []
        self.offers: list[Offer] = []
        # (Ticket, [contact datetimes])
        self.tickets: list[tuple[Ticket, list[datetime]]] = []

    # identities and contact data

    def order_id(self, created: datetime) -> str:
        n = self.seq.get(created.date(), 0) + 1
        self.seq[created.date()] = n
        return f"E{created:%Y%m%d}{n:03d}"

    def openid(self) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        while True:
            value = "o" + "".join(self.rng.choice(alphabet) for _ in range(27))
            if value not in self.openids:
                self.openids.add(value)
                return value

    def phone(self) -> str:
        while True:
            value = "1" + self.rng.choice("3456789") + "".join(self.rng.choice(string.digits) for _ in range(9))
            if value not in self.phones:
                self.phones.add(value)
                return value

    def id_number(self, birth_year: int) -> str:
        born = date(birth_year, self.rng.randint(1, 12), self.rng.randint(1, 28))
        first17 = f"{self.rng.choice(ID_AREAS)}{born:%Y%m%d}{self.rng.randint(0, 999):03d}"
        return first17 + _id_check_digit(first17)

    def address(self, language: str) -> str:
        city_zh, city_en, districts, streets = self.rng.choice(ZH_CITIES)
        d_zh, d_en = self.rng.choice(districts)
        s_zh, s_en = self.rng.choice(streets)
        number = self.rng.randint(1, 999)
        building = self.rng.randint(1, 12)
        room = self.rng.randint(1, 30) * 100 + self.rng.randint(1, 8)
        if language == "zh":
            return f"{city_zh}{d_zh}{s_zh}{number}号{building}栋{room}室"
        return f"Room {room}, Building {building}, No. {number} {s_en}, {d_en}, {city_en}"

    def tracking_no(self, carrier: str) -> str:
        digits = lambda n: "".join(self.rng.choice(string.digits) for _ in range(n))  # noqa: E731
        letters = lambda n: "".join(self.rng.choice(string.ascii_uppercase) for _ in range(n))  # noqa: E731
        # digit runs are kept at 10, 12, 13 or 14 so no tracking number looks like a phone or an ID number
        return {
            "sf": lambda: "SF" + digits(13),
            "jd": lambda: "JDV" + digits(12),
            "zto": lambda: "7" + digits(13),
            "yto": lambda: "YT" + digits(13),
            "sto": lambda: "77" + digits(12),
            "ems": lambda: "E" + letters(1) + digits(9) + "CN",
            "dhl": lambda: digits(10),
            "ups": lambda: "1Z" + letters(6) + digits(10),
        }[carrier]()

    def add_customer(
        self,
        *,
        customer_id: str,
        name: str,
        language: str,
        tier: str,
        birth_year: int,
        registered_at: date,
        personalization: bool,
        intensity: str = "medium",
        email: bool = True,
        external_ids: tuple[str, ...] = (),
    ) -> Customer:
        phone = self.phone()
        id_number = self.id_number(birth_year)
        email_value = None
        if email:
            local = name.lower().replace(" ", ".").replace("'", "") if language == "en" else f"user{customer_id[1:]}"
            email_value = f"{local}{self.rng.randint(1, 99)}@example.com"
        customer = Customer(
            id=customer_id,
            name=name,
            preferred_language=language,
            tier=tier,
            birth_year=birth_year,
            registered_at=registered_at,
            phone_hash=hash_contact(phone, self.salt),
            phone_masked=mask_phone(phone),
            id_number_hash=hash_contact(id_number, self.salt),
            id_number_masked=mask_id_number(id_number),
            email_hash=hash_contact(email_value, self.salt) if email_value else None,
            email_masked=mask_email(email_value) if email_value else None,
            created_at=_at(registered_at, 9),
        )
        self.customers.append(customer)
        # the raw values, sealed, for a supervisor's audited reveal (profiles.vault)
        self.vault.append(CustomerVault(customer_id=customer_id, phone_sealed=seal(phone, self.vault_key),
                                        id_number_sealed=seal(id_number, self.vault_key)))
        web = ConversationId.web_customer(customer_id)
        self.identities.append(ChannelIdentity(channel=web.channel, external_id=web.external_id, customer_id=customer_id,
                                               created_at=_at(registered_at, 9)))
        self.identities.append(ChannelIdentity(channel="wechat", external_id=self.openid(), customer_id=customer_id,
                                               created_at=_at(registered_at, 9)))
        for external_id in external_ids:
            for channel in DEMO_CHANNELS:
                self.identities.append(ChannelIdentity(channel=channel, external_id=external_id,
                                                       customer_id=customer_id, created_at=_at(registered_at, 9)))
        self.consents.append(Consent(customer_id=customer_id, personalization=personalization, intensity=intensity,
                                     source="seed", updated_at=_at(registered_at, 9)))
        if not personalization:
            changed = _at(registered_at + timedelta(days=1), 10)
            self.consent_changes.append(ConsentChange(customer_id=customer_id, personalization=False, source="seed",
                                                      conversation_id=None, created_at=changed))
        return customer

    def items(self, skus: list[tuple[str, int]] | None = None) -> list[dict[str, Any]]:
        if skus is None:
            picks = self.rng.sample(PRODUCTS, self.rng.choice([1, 1, 1, 2, 2, 3]))
            skus = [(p[0], self.rng.choice([1, 1, 1, 2, 3])) for p in picks]
        out = []
        for sku, qty in skus:
            _, name_zh, name_en, price = PRODUCT_BY_SKU[sku]
            out.append({"sku": sku, "name_zh": name_zh, "name_en": name_en, "qty": qty, "price": float(price)})
        return out

    def add_order(
        self,
        customer: Customer,
        *,
        created: datetime,
        status: str,
        address: str,
        skus: list[tuple[str, int]] | None = None,
        ship_hours: int = 20,
        transit_days: int = 2,
        carrier: str | None = None,
    ) -> Order:
        items = self.items(skus)
        amount = sum((Decimal(str(i["price"])) * i["qty"] for i in items), Decimal("0")).quantize(Decimal("0.01"))
        shipped_at = delivered_at = eta = tracking = None
        planned_ship = created + timedelta(hours=ship_hours)
        planned_delivery = planned_ship + timedelta(days=transit_days)
        if status in {"shipped", "delivered", "refunded"}:
            carrier = carrier or self.weighted_carrier()
            tracking = self.tracking_no(carrier)
            shipped_at = planned_ship
            eta = planned_delivery.date()
            if status in {"delivered", "refunded"}:
                delivered_at = planned_delivery
        else:
            carrier = None
            if status in {"paid", "processing", "pending_payment"}:
                eta = planned_delivery.date()
        order = Order(
            id=self.order_id(created),
            customer_id=customer.id,
            status=status,
            amount=amount,
            currency="CNY",
            items=items,
            created_at=created,
            shipped_at=shipped_at,
            delivered_at=delivered_at,
            eta=eta,
            carrier=carrier,
            tracking_no=tracking,
            address=address,
            updated_at=delivered_at or shipped_at or created,
        )
        # not drawn from the generator, so every other seeded value stays as it was
        order.payment_method = SEED_PAYMENT_METHODS[sum(map(ord, order.id)) % len(SEED_PAYMENT_METHODS)]
        self.orders.append(order)
        return order

    def weighted_carrier(self) -> str:
        codes, weights = zip(*CARRIER_WEIGHTS)
        return self.rng.choices(codes, weights=weights)[0]

    def add_ticket(
        self,
        customer: Customer,
        *,
        topic: str,
        order: Order | None,
        created: datetime,
        status: str,
        priority: str,
        channel: str,
        contacts: list[datetime],
    ) -> None:
        zh, en = TICKET_SUBJECTS[topic]
        template = zh if customer.preferred_language == "zh" else en
        subject = template.format(order=order.id if order else "-")
        resolved_at = None
        if status in {"resolved", "closed"}:
            resolved_at = max([created, *contacts]) + timedelta(hours=self.rng.randint(2, 30))
        ticket = Ticket(
            customer_id=customer.id,
            conversation_id=None,
            topic=topic,
            order_id=order.id if order else None,
            subject=subject,
            status=status,
            priority=priority,
            channel=channel,
            created_at=created,
            updated_at=max([created, *contacts]),
            due_at=created + timedelta(hours=24),
            resolved_at=resolved_at,
        )
        self.tickets.append((ticket, contacts))

    # the fixed demo cast

    def demo_cast(self) -> None:
        t = self.today
        ago = lambda days, hour=10: _at(t - timedelta(days=days), hour)  # noqa: E731

        vip = self.add_customer(customer_id="C000001", name="陈静", language="zh", tier="vip", birth_year=1985,
                                registered_at=t - timedelta(days=900), personalization=True, intensity="high",
                                external_ids=("demo-vip-zh",))
        addr = self.address("zh")
        for days, sku in [(320, "SKU-1024"), (240, "SKU-1022"), (150, "SKU-1021"), (60, "SKU-1004")]:
            self.add_order(vip, created=ago(days), status="delivered", address=addr, skus=[(sku, 1)], carrier="sf")
        refund_order = self.add_order(vip, created=ago(20), status="delivered", address=addr,
                                      skus=[("SKU-1018", 1), ("SKU-1023", 1)], carrier="sf")
        self.add_order(vip, created=ago(3), status="shipped", address=addr, skus=[("SKU-1008", 2)],
                       ship_hours=24, transit_days=3, carrier="sf")
        self.add_order(vip, created=ago(1, 9), status="processing", address=addr, skus=[("SKU-1012", 2)])
        self.add_ticket(vip, topic="refund", order=refund_order, created=ago(12, 15), status="open",
                        priority="high", channel="web", contacts=[ago(12, 15), ago(4, 11)])

        elderly = self.add_customer(customer_id="C000002", name="王秀英", language="zh", tier="regular",
                                    birth_year=1950, registered_at=t - timedelta(days=400), personalization=True,
                                    email=False, external_ids=("demo-elderly-zh",))
        addr = self.address("zh")
        self.add_order(elderly, created=ago(45), status="delivered", address=addr, skus=[("SKU-1017", 1)],
                       carrier="ems")
        self.add_order(elderly, created=ago(2), status="shipped", address=addr, skus=[("SKU-1002", 1)],
                       ship_hours=20, transit_days=3, carrier="ems")

        atrisk = self.add_customer(customer_id="C000003", name="Emily Carter", language="en", tier="gold",
                                   birth_year=1988, registered_at=t - timedelta(days=700), personalization=True,
                                   external_ids=("demo-atrisk-en",))
        addr = self.address("en")
        for days, sku in [(300, "SKU-1015"), (200, "SKU-1009"), (120, "SKU-1022")]:
            self.add_order(atrisk, created=ago(days), status="delivered", address=addr, skus=[(sku, 1)], carrier="jd")

        new = self.add_customer(customer_id="C000004", name="James Wilson", language="en", tier="regular",
                                birth_year=1995, registered_at=t - timedelta(days=5), personalization=True,
                                external_ids=("demo-new-en",))
        self.add_order(new, created=ago(1, 8), status="processing", address=self.address("en"),
                       skus=[("SKU-1001", 1)])

        regular = self.add_customer(customer_id="C000005", name="张伟", language="zh", tier="regular",
                                    birth_year=1979, registered_at=t - timedelta(days=500), personalization=True,
                                    external_ids=("demo-regular-zh",))
        addr = self.address("zh")
        self.add_order(regular, created=ago(40), status="delivered", address=addr, skus=[("SKU-1003", 2)],
                       carrier="zto")
        self.add_order(regular, created=ago(20), status="cancelled", address=addr, skus=[("SKU-1016", 1)])
        self.add_order(regular, created=ago(3), status="shipped", address=addr, skus=[("SKU-1014", 1)],
                       ship_hours=20, transit_days=3, carrier="zto")
        self.add_order(regular, created=ago(1, 20), status="paid", address=addr, skus=[("SKU-1019", 1)])

        optout = self.add_customer(customer_id="C000006", name="李建国", language="zh", tier="silver",
                                   birth_year=1972, registered_at=t - timedelta(days=600), personalization=False,
                                   external_ids=("demo-optout-zh",))
        addr = self.address("zh")
        self.add_order(optout, created=ago(10), status="delivered", address=addr, skus=[("SKU-1010", 1)],
                       carrier="jd")
        self.add_order(optout, created=ago(1, 11), status="processing", address=addr, skus=[("SKU-1020", 1)])

    def later_cast(self) -> None:
        """The cast members added after the crowd: an accessibility customer, a dormant one with a birthday."""
        t = self.today
        ago = lambda days, hour=10: _at(t - timedelta(days=days), hour)  # noqa: E731
        access = self.add_customer(customer_id="C000901", name="林晓梅", language="zh", tier="regular",
                                   birth_year=1983, registered_at=t - timedelta(days=800), personalization=True,
                                   external_ids=("demo-access-zh",))
        access.accessibility = "visual"
        self.consent_changes.append(ConsentChange(customer_id="C000901", personalization=True, accessibility="visual",
                                                  source="seed", conversation_id=None, created_at=ago(60)))
        addr = self.address("zh")
        self.add_order(access, created=ago(50), status="delivered", address=addr, skus=[("SKU-1006", 1)],
                       carrier="sf")
        self.add_order(access, created=ago(2), status="shipped", address=addr, skus=[("SKU-1013", 1)],
                       ship_hours=20, transit_days=3, carrier="sf")

        dormant = self.add_customer(customer_id="C000902", name="Sarah Mitchell", language="en", tier="silver",
                                    birth_year=1990, registered_at=t - timedelta(days=900), personalization=True,
                                    intensity="high", external_ids=("demo-dormant-en",))
        soon = t + timedelta(days=3)
        dormant.birthday = date(1990, soon.month, 28 if (soon.month, soon.day) == (2, 29) else soon.day)
        addr = self.address("en")
        for days, sku in [(400, "SKU-1011"), (260, "SKU-1007"), (150, "SKU-1005")]:
            self.add_order(dormant, created=ago(days), status="delivered", address=addr, skus=[(sku, 1)],
                           carrier="jd")

    def crowd_offers(self) -> None:
        """Welcome-back coupons made to crowd customers before their latest purchase, half of them redeemed by
        it. Drawn from a Random of their own, so the rest of the seed is unchanged."""
        from desk.experiment import Experiment, assign_arm
        from profiles.offers import CODE_PREFIX, load_offer_rules, terms_for

        rules = load_offer_rules()
        experiment = Experiment(rules.experiment, tuple(rules.arms)) if rules.experiment else None
        rng = random.Random(SEED + 8)
        latest: dict[str, Order] = {}
        for order in self.orders:
            counted = order.status in ("paid", "processing", "shipped", "delivered") and order.customer_id not in (
                "C000901", "C000902")
            if counted and (order.customer_id not in latest or order.created_at > latest[order.customer_id].created_at):
                latest[order.customer_id] = order
        for customer_id, order in sorted(latest.items()):
            if int(customer_id[1:]) < CROWD_FIRST or (self.today - order.created_at.date()).days >= 90:
                continue
            if rng.random() >= 1 / 6:
                continue
            arm = assign_arm(customer_id, experiment) if experiment else None
            terms = terms_for("welcome_back", rules, arm)
            issued = order.created_at - timedelta(days=rng.randint(1, 20), hours=rng.randint(1, 8))
            redeemed = rng.random() < 0.5
            self.offers.append(Offer(
                customer_id=customer_id, kind="welcome_back",
                code=f"{CODE_PREFIX['welcome_back']}{''.join(rng.choice('0123456789ABCDEF') for _ in range(8))}",
                amount=terms.amount, issued_at=issued, expires_at=issued + timedelta(days=terms.valid_days),
                redeemed_at=order.created_at if redeemed else None, redeemed_order_id=order.id if redeemed else None,
                channel=rng.choice(["web", "wechat"]), reason="at_risk",
                experiment=rules.experiment if arm else None, arm=arm, conversation_id=None))

    # the synthetic crowd

    def crowd(self, count: int) -> None:
        rng, t = self.rng, self.today
        elderly_max_year = t.year - 65
        for n in range(count):
            customer_id = f"C{CROWD_FIRST + n:06d}"
            language = "zh" if rng.random() < 0.7 else "en"
            if language == "zh":
                name = rng.choice(ZH_SURNAMES) + rng.choice(ZH_GIVEN)
            else:
                name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
            tier = rng.choices(["regular", "silver", "gold", "vip"], weights=[60, 20, 12, 8])[0]
            if rng.random() < 0.12:
                birth_year = rng.randint(1940, max(1940, min(2005, elderly_max_year)))
            else:
                birth_year = rng.randint(min(2005, max(1940, elderly_max_year + 1)), 2005)
            registered_at = t - timedelta(days=rng.randint(0, 3 * 365))
            personalization = rng.random() >= 0.10
            intensity = rng.choices(["medium", "high", "low"], weights=[70, 15, 15])[0]
            customer = self.add_customer(customer_id=customer_id, name=name, language=language, tier=tier,
                                         birth_year=birth_year, registered_at=registered_at,
                                         personalization=personalization, intensity=intensity,
                                         email=rng.random() < 0.6)
            self.crowd_orders(customer, tier)

    def crowd_orders(self, customer: Customer, tier: str) -> None:
        rng, t = self.rng, self.today
        weights = {"regular": [14, 14, 12, 10, 9, 8, 7, 6, 5, 4, 4, 4, 3],
                   "silver": [4, 6, 8, 10, 11, 11, 10, 9, 8, 7, 6, 5, 5],
                   "gold": [2, 3, 5, 7, 9, 10, 11, 11, 10, 9, 8, 8, 7],
                   "vip": [1, 2, 3, 4, 6, 8, 10, 12, 12, 12, 11, 10, 9]}[tier]
        n_orders = rng.choices(range(13), weights=weights)[0]
        tenure = (t - customer.registered_at).days
        # about a quarter stopped buying at some point (at risk / dormant / churned)
        stopped_days_ago = 0
        if rng.random() < 0.25 and tenure > 100:
            stopped_days_ago = rng.randint(90, tenure)
        address = self.address(customer.preferred_language)
        # orders lean towards recent days (customers buy more once they know the shop)
        span = tenure - stopped_days_ago
        ages = sorted((stopped_days_ago + int(span * rng.random() ** 1.6) for _ in range(n_orders)), reverse=True)
        for age in ages:
            if rng.random() < 0.08:
                address = self.address(customer.preferred_language)
            created = _at(t - timedelta(days=age), rng.randint(0, 8) if age == 0 else rng.randint(7, 22),
                          rng.randint(0, 59))
            ship_hours = rng.randint(10, 40)
            transit = rng.randint(1, 4)
            now = _at(t, 9)
            shipped = created + timedelta(hours=ship_hours)
            delivered = shipped + timedelta(days=transit)
            roll = rng.random()
            if age > 2 and roll < 0.05:
                status = "cancelled"
            elif shipped > now:
                status = "pending_payment" if age == 0 and roll < 0.3 else ("paid" if roll < 0.5 else "processing")
            elif delivered > now:
                status = "shipped"
            else:
                status = "refunded" if roll > 0.96 else "delivered"
            order = self.add_order(customer, created=created, status=status, address=address,
                                   ship_hours=ship_hours, transit_days=transit)
            self.crowd_ticket(customer, order, age)

    def crowd_ticket(self, customer: Customer, order: Order, age: int) -> None:
        rng, t = self.rng, self.today
        roll = rng.random()
        channel = rng.choice(["web", "wechat"])
        now = _at(t, 9)
        if order.status == "refunded":
            opened = min(order.delivered_at + timedelta(days=rng.randint(1, 5)), now)
            self.add_ticket(customer, topic="refund", order=order, created=opened, status="resolved",
                            priority="medium", channel=channel, contacts=[opened])
        elif order.status == "delivered" and age <= 40 and roll < 0.10:
            # open refund requests that already have 1-2 contacts in the last 30 days
            opened = max(_at(t - timedelta(days=rng.randint(2, 25)), rng.randint(8, 21)), order.delivered_at)
            contacts = [opened]
            if rng.random() < 0.5:
                contacts.append(min(opened + timedelta(days=rng.randint(1, 3), hours=rng.randint(1, 6)), now))
            self.add_ticket(customer, topic="refund", order=order, created=opened,
                            status=rng.choice(["open", "pending"]),
                            priority="high" if len(contacts) > 1 else "medium", channel=channel, contacts=contacts)
        elif order.status == "shipped" and roll < 0.25:
            opened = _at(t, rng.randint(0, 8))
            topic = "complaint" if rng.random() < 0.4 else "order"
            self.add_ticket(customer, topic=topic, order=order, created=opened, status="open",
                            priority="high" if topic == "complaint" else "medium", channel=channel,
                            contacts=[opened])
        elif order.status == "delivered" and age > 40 and roll < 0.03:
            opened = order.created_at + timedelta(days=rng.randint(2, 6))
            topic = rng.choice(["complaint", "order", "address"])
            self.add_ticket(customer, topic=topic, order=order, created=opened, status="closed",
                            priority="medium", channel=channel, contacts=[opened])


def seed_demo(
    session_factory: sessionmaker, *, today: date | None = None, salt: str, vault_key: str = DEV_VAULT_KEY
) -> SeedSummary:
    """Seed the demo cast and ~220 synthetic customers once; a no-op when any customer exists."""
    today = today or date.today()
    with session_factory.begin() as s:
        existing = s.execute(select(func.count()).select_from(Customer)).scalar_one()
    if existing:
        return SeedSummary(seeded=False, customers=existing, demo_cast=dict(DEMO_CAST))

    gen = _Generator(today, salt, vault_key)
    gen.demo_cast()
    gen.crowd(RANDOM_CUSTOMERS)
    gen.later_cast()
    gen.crowd_offers()
    contacts_total = 0
    try:
        with session_factory.begin() as s:
            s.add_all(gen.customers)
            s.flush()
            s.add_all(gen.identities)
            s.add_all(gen.vault)
            s.add_all(gen.consents)
            s.add_all(gen.consent_changes)
            s.add_all(gen.orders)
            s.flush()
            s.add_all(gen.offers)
            for ticket, contacts in gen.tickets:
                s.add(ticket)
                s.flush()
                for when in contacts:
                    s.add(TicketContact(ticket_id=ticket.id, customer_id=ticket.customer_id, conversation_id=None,
                                        channel=ticket.channel, created_at=when))
                    contacts_total += 1
    except IntegrityError:  # another process seeded at the same moment
        return SeedSummary(seeded=False, demo_cast=dict(DEMO_CAST))
    return SeedSummary(
        seeded=True,
        customers=len(gen.customers),
        orders=len(gen.orders),
        identities=len(gen.identities),
        consents_off=sum(1 for c in gen.consents if not c.personalization),
        tickets=len(gen.tickets),
        ticket_contacts=contacts_total,
        demo_cast=dict(DEMO_CAST),
    )
