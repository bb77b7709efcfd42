"""The composer's checks and sends beyond the main flow: files refused before any upload, a PDF, partial success
when the attachment of a text + attachment send fails, and older messages and conversations paged in by cursor."""
import base64
import hashlib
import hmac
import json
import time
import uuid

from selenium.webdriver.common.by import By


def minimal_pdf(text="HubChat price list"):
    """A small, whole PDF (header, objects, a correct xref table, trailer) with one page of text."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def open_new_line_conversation(page, stack, words):
    user_id = "U" + uuid.uuid4().hex
    reply_token = stack.post_line_text(user_id, words)
    conversation = stack.conversation_by_thread(user_id)
    page.dashboard(hash_=f"#conversation={conversation['id']}")
    page.wait(lambda d: any(words in m.text for m in page.find_all("#messages .message")), 10)
    return user_id, reply_token, conversation


def test_files_are_checked_before_upload(page, stack, tmp_path):
    open_new_line_conversation(page, stack, f"ไฟล์ {uuid.uuid4().hex[:4]}")
    fake = tmp_path / "photo.jpg"
    fake.write_text("<html>not an image</html>")
    page.find("#attach-image").send_keys(str(fake))
    page.wait(lambda d: page.find("#composer-result").get_attribute("data-kind") == "error", 5)
    assert "not a JPEG, PNG or WEBP" in page.text("#composer-result")
    assert not page.find("#attachment").is_displayed()

    # LINE shows JPEG and PNG only: a WEBP is refused here, before the upload route (which would take it).
    webp = tmp_path / "photo.webp"
    webp.write_bytes(b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(32))
    page.find("#attach-image").send_keys(str(webp))
    page.wait(lambda d: "WEBP images cannot be sent here" in page.text("#composer-result"), 5)

    pdf_named_jpg = tmp_path / "scan.pdf"
    pdf_named_jpg.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(16))
    page.find("#attach-pdf").send_keys(str(pdf_named_jpg))
    page.wait(lambda d: "is not a PDF" in page.text("#composer-result"), 5)


def test_a_pdf_goes_to_line_as_a_link(page, stack, tmp_path):
    user_id, reply_token, _ = open_new_line_conversation(page, stack, f"ขอใบเสนอราคา {uuid.uuid4().hex[:4]}")
    pdf = tmp_path / "ใบเสนอราคา.pdf"
    pdf.write_bytes(minimal_pdf())
    page.find("#attach-pdf").send_keys(str(pdf))
    page.wait(lambda d: "ใบเสนอราคา.pdf" in page.text("#attachment"), 5)
    page.find("#send-button").click()
    page.wait(lambda d: page.find("#composer-result").get_attribute("data-kind") in ("ok", "error", "warn"), 20)
    assert page.find("#composer-result").get_attribute("data-kind") == "ok", page.text("#composer-result")
    page.wait(lambda d: any(m.get_attribute("data-type") == "DOCUMENT_PDF" and m.get_attribute("data-status") == "SENT"
                            for m in page.find_all("#messages .message.outbound")), 15, "the PDF does not show as sent")
    link = page.find("#messages .message.outbound .pdf-link")
    assert "ใบเสนอราคา.pdf" in link.text and "/media/" in link.get_attribute("href")

    deliveries = [r for r in stack.simulator_requests() if isinstance(r["body"], dict) and (
        r["body"].get("to") == user_id or r["body"].get("replyToken") == reply_token)]
    assert any("/media/" in json.dumps(r["body"], ensure_ascii=False) for r in deliveries), deliveries


def test_text_and_a_failing_attachment_report_partial_success(page, stack, tmp_path):
    open_new_line_conversation(page, stack, f"บางส่วน {uuid.uuid4().hex[:4]}")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)  # a PNG by its first bytes, but no image
    page.find("#attach-image").send_keys(str(broken))
    page.wait(lambda d: "broken.png" in page.text("#attachment"), 5)
    text = f"ข้อความก่อนรูป {uuid.uuid4().hex[:4]}"
    page.find("#composer-text").send_keys(text)
    page.find("#send-button").click()
    page.wait(lambda d: page.find("#composer-result").get_attribute("data-kind") in ("ok", "warn", "error"), 20)
    result = page.text("#composer-result")
    assert page.find("#composer-result").get_attribute("data-kind") == "warn", result
    assert "Partly sent" in result and "text" in result and "image did not" in result
    assert "still attached" in result and "broken.png" in page.text("#attachment")
    assert page.find("#composer-text").get_attribute("value") == ""  # the text went; a retry sends only the image
    page.wait(lambda d: any(text in m.text for m in page.find_all("#messages .message.outbound")), 10)


def test_older_messages_and_conversations_page_in_by_cursor(page, stack):
    # One LINE delivery with 60 messages from one customer: more than the thread's first page (50).
    user_id = "U" + uuid.uuid4().hex
    now_ms = int(time.time() * 1000)
    events = [{
        "type": "message", "mode": "active", "timestamp": now_ms - (60 - n) * 1000,
        "webhookEventId": f"01PAGING{uuid.uuid4().hex}", "deliveryContext": {"isRedelivery": False},
        "source": {"type": "user", "userId": user_id}, "replyToken": uuid.uuid4().hex,
        "message": {"id": str(now_ms * 100 + n), "type": "text", "quoteToken": "q", "text": f"ข้อความที่ {n:02d}"},
    } for n in range(1, 61)]
    post_line(stack, events)
    conversation = stack.conversation_by_thread(user_id)
    deadline = time.time() + 30  # the worker may take the batch's events in any order: wait for all of them
    while time.time() < deadline:
        status, messages = stack.api("GET", f"/api/conversations/{conversation['id']}/messages?limit=100")
        if status == 200 and len(messages["data"]) == 60:
            break
        time.sleep(0.5)
    assert len(messages["data"]) == 60, f"the worker stored {len(messages['data'])} of 60 messages"

    page.dashboard(hash_=f"#conversation={conversation['id']}")
    page.wait(lambda d: len(page.find_all("#messages .message")) == 50, 10, "the thread should show its newest 50")
    assert not page.find_all("#messages .thread-start")
    page.driver.execute_script("document.getElementById('messages').scrollTop = 0")
    page.wait(lambda d: len(page.find_all("#messages .message")) == 60, 10, "scrolling back did not load older messages")
    texts = [m.find_element(By.CSS_SELECTOR, ".text").text for m in page.find_all("#messages .message")]
    assert texts == [f"ข้อความที่ {n:02d}" for n in range(1, 61)], "oldest → newest, each once"
    assert page.find_all("#messages .thread-start") and page.find_all("#messages .day-separator")

    # 51 more customers in one delivery: the inbox's first page (50) no longer holds them all.
    tag = uuid.uuid4().hex[:4]
    events = [{
        "type": "message", "mode": "active", "timestamp": now_ms, "webhookEventId": f"01LIST{uuid.uuid4().hex}",
        "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": "U" + uuid.uuid4().hex},
        "replyToken": uuid.uuid4().hex,
        "message": {"id": str(now_ms * 100 + 80 + n), "type": "text", "quoteToken": "q", "text": f"ลูกค้าใหม่ {tag} {n}"},
    } for n in range(51)]
    post_line(stack, events)
    deadline = time.time() + 20
    while time.time() < deadline:
        status, listed = stack.api("GET", "/api/conversations?limit=100")
        if sum(1 for row in listed["data"] if (row["lastMessagePreview"] or "").startswith(f"ลูกค้าใหม่ {tag}")) >= 51:
            break
        time.sleep(0.5)
    page.open("/dashboard")
    page.wait(lambda d: page.find("#conversation-list").get_attribute("aria-busy") == "false", 10)
    first = len(page.find_all("#conversation-list [role=option]"))
    assert first <= 50
    page.driver.execute_script("const s = document.getElementById('inbox-scroll'); s.scrollTop = s.scrollHeight;")
    page.wait(lambda d: len(page.find_all("#conversation-list [role=option]")) > first, 10,
              "scrolling to the end of the inbox did not load the next page")
    keys = [i.get_attribute("data-key") for i in page.find_all("#conversation-list [role=option]")]
    assert len(keys) == len(set(keys))
    # The next page in, the list is no longer busy (it once stayed aria-busy until something else redrew it).
    page.wait(lambda d: page.find("#conversation-list").get_attribute("aria-busy") == "false", 5,
              "the inbox stayed busy after its next page arrived")


def post_line(stack, events):
    body = json.dumps({"destination": stack.env["LINE_DESTINATION"], "events": events}, ensure_ascii=False).encode()
    signature = base64.b64encode(hmac.new(stack.env["LINE_CHANNEL_SECRET"].encode(), body, hashlib.sha256).digest()).decode()
    status, answer = stack.http("POST", stack.url + "/api/webhook/line", body, {
        "Content-Type": "application/json", "x-line-signature": signature})
    assert status == 200 and answer["stored"] == len(events), (status, answer)
