"""What ``profiles`` holds about one customer, for the privacy office (``common.privacy.CustomerData``).

Export: the profile, channel identities, orders and the changes made to them from a conversation,
consent and consent changes, offers. Erasure: the name becomes ``erased`` and the contact hashes, masked
forms, birth year, birthday, the declared accessibility need, sealed vault, channel identities (a returning WeChat user is then a guest) and consent
changes go; orders keep amount, status, dates and items (bookkeeping) but lose the address and tracking
number; an order change keeps its masked detail, its conversation id is renamed when it names an openid;
offers keep kind, code, amounts, dates and experiment arm (the dashboard's counts) but lose the
conversation id.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from common.ids import ConversationId
from common.privacy import ERASED, ERASED_TEXT, DataSubject, Identifiers, plain
from profiles.models import ChannelIdentity, Consent, ConsentChange, Customer, CustomerVault, Offer, Order, OrderChange

CONTACT_COLUMNS = ("phone_hash", "phone_masked", "id_number_hash", "id_number_masked", "email_hash",
                   "email_masked", "birth_year", "birthday", "accessibility")


class ProfileData:
    tables = ("customers", "channel_identities", "orders", "order_changes", "consents", "consent_changes",
              "customer_vault", "offers")

    def identify(self, session: Session, customer_id: str) -> Identifiers:
        conversations = {str(ConversationId.web_customer(customer_id))}
        openids: set[str] = set()
        for identity in session.scalars(sa.select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id)):
            conversations.add(identity.external_id)
            conversations.add(f"{identity.channel}:{identity.external_id}")
            if identity.channel == "wechat":
                openids.add(identity.external_id)
        return Identifiers(frozenset(conversations), frozenset(openids))

    def export(self, session: Session, subject: DataSubject) -> dict[str, Any]:
        def rows(model: Any, *where: Any) -> list[dict[str, Any]]:
            return [plain(r) for r in session.scalars(sa.select(model).where(*where))]

        cid = subject.customer_id
        return {
            "profile": plain(session.get(Customer, cid)),
            "identities": rows(ChannelIdentity, ChannelIdentity.customer_id == cid),
            "orders": rows(Order, Order.customer_id == cid),
            "order_changes": rows(OrderChange, sa.or_(OrderChange.customer_id == cid,
                                                      OrderChange.conversation_id.in_(subject.conversation_ids))),
            "consent": rows(Consent, Consent.customer_id == cid),
            "consent_changes": rows(ConsentChange, ConsentChange.customer_id == cid),
            "offers": rows(Offer, Offer.customer_id == cid),
        }

    def erase(self, session: Session, subject: DataSubject) -> None:
        cid = subject.customer_id
        customer = session.get(Customer, cid)
        for column in CONTACT_COLUMNS:
            setattr(customer, column, None)
        customer.name = ERASED
        for model in (ChannelIdentity, ConsentChange, CustomerVault):
            session.execute(sa.delete(model).where(model.customer_id == cid))
        session.execute(sa.update(Order).where(Order.customer_id == cid).values(address=ERASED_TEXT, tracking_no=None))
        # offers keep kind, amounts, dates and arm (the experiment's counts stay right), not the conversation
        session.execute(sa.update(Offer).where(Offer.customer_id == cid).values(conversation_id=None))
        for old, new in subject.renames.items():
            session.execute(sa.update(OrderChange).where(OrderChange.conversation_id == old)
                            .values(conversation_id=new).execution_options(synchronize_session=False))
