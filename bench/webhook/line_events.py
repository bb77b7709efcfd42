"""A LINE text event as the bench sends it: ~1 KB of Thai text from one new user."""
import uuid

FILLER = ("สวัสดีครับ สนใจสินค้าตัวนี้ ราคาเท่าไหร่ครับ ส่งต่างจังหวัดได้ไหม " * 4)[:300]


def text_event(i, event_id=None, user=None):
    return {
        "type": "message", "mode": "active", "timestamp": 1795737925000 + i,
        "webhookEventId": event_id or "01BENCH" + uuid.uuid4().hex.upper(),
        "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": user or "U" + uuid.uuid4().hex},
        "replyToken": uuid.uuid4().hex,
        "message": {"id": str(500000000000 + i), "type": "text", "quoteToken": uuid.uuid4().hex, "text": FILLER},
    }
