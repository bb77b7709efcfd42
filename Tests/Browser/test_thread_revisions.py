"""Messages that change after they were shown change in the open thread at once: one the customer takes back, also
when it sits on an older page the agent scrolled back to (the live event names the message; the newest page alone
would not hold it), and a LINE image whose download fails after its message arrived."""
import time
import uuid


def line_text(user_id, message_id, timestamp_ms, text):
    token = uuid.uuid4().hex
    return {"type": "message", "mode": "active", "timestamp": timestamp_ms,
            "webhookEventId": f"01REV{token}", "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": user_id}, "replyToken": token,
            "message": {"id": message_id, "type": "text", "quoteToken": f"q{token}", "text": text}}


def test_an_unsent_message_on_an_older_page_changes_without_reopening(page, stack):
    user_id = "U" + uuid.uuid4().hex
    tag = uuid.uuid4().hex[:6]
    start = int(time.time() * 1000) - 120_000
    ids = [f"{start}{i:03d}" for i in range(60)]  # one page is 50: the first ten are on the older page
    stack.post_line_events([line_text(user_id, ids[i], start + i * 1000, f"message {i} {tag}") for i in range(60)])
    conversation = stack.conversation_where(lambda row: row["lastMessagePreview"] == f"message 59 {tag}",
                                            "all 60 messages", channel="LINE", timeout=20)

    # Opened by its link: a busy test tenant has newer conversations above it in the inbox.
    page.dashboard(hash_=f"#conversation={conversation['id']}")
    page.wait_live(5)
    shown = lambda text: any(text in m.text for m in page.find_all("#messages .message"))  # noqa: E731
    page.wait(lambda d: shown(f"message 59 {tag}"), 10, "the thread did not open")
    assert not shown(f"message 0 {tag}"), "the first message should be on the older page"
    page.find("#load-older").click()
    page.wait(lambda d: shown(f"message 0 {tag}"), 10, "the older page did not load")

    stack.post_line_events([{
        "type": "unsend", "mode": "active", "timestamp": start + 61_000, "webhookEventId": f"01REV{uuid.uuid4().hex}",
        "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": user_id},
        "unsend": {"messageId": ids[0]},
    }])
    page.wait(lambda d: not shown(f"message 0 {tag}") and len(page.find_all("#messages .message .unsent")) == 1, 10,
              "the unsent message on the older page still shows what it said")
    assert shown(f"message 1 {tag}") and shown(f"message 59 {tag}"), "the thread lost messages around it"


def test_a_line_image_that_cannot_be_fetched_stops_arriving(page, stack):
    user_id = "U" + uuid.uuid4().hex
    message_id = str(int(time.time() * 1000)) + "77"
    # LINE's content API answers 404 (the content expired), slowly enough for the thread to show the image coming.
    status, _ = stack.http("POST", stack.simulator + "/__faults", {
        "pathPrefix": f"/v2/bot/message/{message_id}/content", "status": 404, "delayMs": 4000})
    assert status in (200, 201, 204), status
    token = uuid.uuid4().hex
    stack.post_line_events([{
        "type": "message", "mode": "active", "timestamp": int(time.time() * 1000),
        "webhookEventId": f"01IMG{token}", "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": user_id}, "replyToken": token,
        "message": {"id": message_id, "type": "image", "quoteToken": f"q{token}",
                    "contentProvider": {"type": "line"}},
    }])
    conversation = stack.conversation_by_thread(user_id, channel="LINE")
    page.dashboard(hash_=f"#conversation={conversation['id']}")
    page.wait(lambda d: page.find_all("#messages .media-pending"), 10, "the thread did not show the image coming")
    page.wait(lambda d: page.find_all("#messages .media-missing") and not page.find_all("#messages .media-pending"),
              15, "the thread kept saying the image is arriving after its download failed")


def test_more_than_a_page_arriving_at_once_leaves_no_gap_in_the_open_thread(page, stack):
    user_id = "U" + uuid.uuid4().hex
    tag = uuid.uuid4().hex[:6]
    start = int(time.time() * 1000) - 180_000
    stack.post_line_events([line_text(user_id, f"{start}{i:03d}", start + i * 1000, f"early {i} {tag}") for i in range(3)])
    conversation = stack.conversation_where(lambda row: row["lastMessagePreview"] == f"early 2 {tag}",
                                            "the first messages", channel="LINE", timeout=20)
    page.dashboard(hash_=f"#conversation={conversation['id']}")
    page.wait_live(5)
    shown = lambda text: any(text in m.text for m in page.find_all("#messages .message"))  # noqa: E731
    page.wait(lambda d: shown(f"early 2 {tag}"), 10, "the thread did not open")

    # 70 messages while it is open: more than the newest page (50) that a refresh reads.
    later = start + 10_000
    stack.post_line_events([line_text(user_id, f"{later}{i:03d}", later + i * 1000, f"burst {i} {tag}")
                            for i in range(70)])
    page.wait(lambda d: shown(f"burst 69 {tag}"), 20, "the burst did not arrive")
    page.wait(lambda d: len([m for m in page.find_all("#messages .message") if tag in m.text]) == 73, 10,
              "the thread shows a gap between what was open and the newest page")
    assert shown(f"burst 0 {tag}") and shown(f"early 0 {tag}")


def test_a_redelivered_burst_older_than_the_newest_message_leaves_no_gap(page, stack):
    """After an outage LINE redelivers what it could not deliver: 70 messages older than one already shown."""
    user_id = "U" + uuid.uuid4().hex
    tag = uuid.uuid4().hex[:6]
    start = int(time.time() * 1000) - 600_000
    stack.post_line_events([line_text(user_id, f"{start}{i:03d}", start + i * 1000, f"early {i} {tag}") for i in range(3)])
    stack.post_line_events([line_text(user_id, f"{start}999", start + 500_000, f"newest {tag}")])
    conversation = stack.conversation_where(lambda row: row["lastMessagePreview"] == f"newest {tag}",
                                            "the first messages", channel="LINE", timeout=20)
    page.dashboard(hash_=f"#conversation={conversation['id']}")
    page.wait_live(5)
    shown = lambda text: any(text in m.text for m in page.find_all("#messages .message"))  # noqa: E731
    page.wait(lambda d: shown(f"newest {tag}") and shown(f"early 0 {tag}"), 10, "the thread did not open")

    between = start + 10_000
    redelivered = [line_text(user_id, f"{between}{i:03d}", between + i * 1000, f"redelivered {i} {tag}") for i in range(70)]
    for event in redelivered:
        event["deliveryContext"] = {"isRedelivery": True}
    stack.post_line_events(redelivered)
    page.wait(lambda d: len([m for m in page.find_all("#messages .message") if tag in m.text]) == 74, 20,
              "the thread shows a gap among the redelivered messages")
