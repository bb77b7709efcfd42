"""A Facebook comment becomes a conversation whose first reply must be a text Private Reply: the composer says so
and disables attachments until that reply has gone, then the thread continues in Messenger with attachments."""
import time
import uuid


def test_comment_first_reply_is_text_only_then_attachments_unlock(page, stack):
    user_id = str(7 * 10**15 + uuid.uuid4().int % 10**15)
    text = f"ราคาเท่าไหร่คะ {uuid.uuid4().hex[:6]}"
    comment_id = stack.post_facebook_comment(user_id, "ลูกค้า ทดสอบ", text)
    conversation = stack.conversation_where(lambda row: row["providerCommentId"] == comment_id, f"comment {comment_id}",
                                            channel="FACEBOOK")
    assert conversation["providerThreadType"] == "FACEBOOK_COMMENT"

    page.dashboard()
    page.wait_live(5)
    key = page.inbox_item(text, 10)
    assert "FB comment" in page.item(key).text
    page.item(key).click()
    page.wait(lambda d: any(text in m.text for m in page.find_all("#messages .message")), 10)

    # The rule, shown before anything is typed: attachments disabled, with the reason next to them.
    page.wait(lambda d: page.find("#attach-image").get_attribute("disabled") is not None, 5,
              "the image control should be disabled for a first comment reply")
    assert page.find("#attach-pdf").get_attribute("disabled") is not None
    reason = page.find("#attach-reason")
    assert reason.is_displayed() and "Private Reply" in reason.text and "text" in reason.text
    described = page.find("#attach-image").get_attribute("aria-describedby")
    assert described == "attach-reason"  # screen readers hear the reason with the control
    assert page.find("#composer-text").is_enabled() and page.find("#send-button").is_enabled()

    # The text reply goes as a Private Reply to the comment.
    stack.http("DELETE", stack.simulator + "/__requests")
    reply = f"ขอบคุณค่ะ ส่งราคาทางข้อความนะคะ {uuid.uuid4().hex[:4]}"
    page.find("#composer-text").send_keys(reply)
    page.find("#send-button").click()
    page.wait(lambda d: page.find("#composer-result").get_attribute("data-kind") == "ok", 10,
              "the text reply was not queued: " + page.text("#composer-result"))

    def private_replies():
        return [r for r in stack.simulator_requests()
                if r["path"].endswith("/messages") and isinstance(r["body"], dict)
                and (r["body"].get("recipient") or {}).get("comment_id") == comment_id]
    deadline = time.time() + 15
    while time.time() < deadline and not private_replies():
        time.sleep(0.3)
    assert private_replies(), "the simulator received no Private Reply for the comment"
    assert private_replies()[0]["body"]["message"]["text"] == reply

    # Once it has gone, the thread is DM-ready: the dashboard learns it live and unlocks attachments.
    page.wait(lambda d: page.find("#attach-image").get_attribute("disabled") is None, 15,
              "attachments stayed disabled after the Private Reply was sent")
    assert not page.find("#attach-reason").is_displayed()


def psid():
    return str(6 * 10**15 + uuid.uuid4().int % 10**15)


def test_messenger_windows_are_shown_before_sending(page, stack):
    # 30 hours after the customer's last message: still allowed, with the human-agent tag, and the agent is told.
    tagged, closed = psid(), psid()
    stack.post_messenger_text(tagged, f"ยังมีของไหมคะ {uuid.uuid4().hex[:4]}", age_seconds=30 * 3600)
    stack.post_messenger_text(closed, f"สอบถามค่ะ {uuid.uuid4().hex[:4]}", age_seconds=8 * 24 * 3600)
    tagged_row = stack.conversation_where(lambda r: r["contactIdentityExternalUserId"] == tagged, "the 30 h thread",
                                      channel="FACEBOOK")
    closed_row = stack.conversation_where(lambda r: r["contactIdentityExternalUserId"] == closed, "the 8 day thread",
                                      channel="FACEBOOK")

    page.dashboard(hash_=f"#conversation={tagged_row['id']}")
    page.wait(lambda d: "human-agent tag" in page.text("#composer-notices"), 10,
              "a thread 30 h after the customer's last message should say replies go with the human-agent tag")
    assert page.find("#send-button").is_enabled() and page.find("#attach-image").is_enabled()

    # Eight days: Meta refuses; the composer is disabled and says why.
    page.open(f"/dashboard#conversation={closed_row['id']}")
    page.wait(lambda d: "refuses replies" in page.text("#composer-notices"), 10,
              "a thread 8 days after the customer's last message should refuse replies with the reason")
    assert not page.find("#send-button").is_enabled()
    assert not page.find("#composer-text").is_enabled()


def test_a_lead_with_two_comment_threads_is_one_item_and_the_agent_picks_the_thread(page, stack):
    user_id = str(7 * 10**15 + uuid.uuid4().int % 10**15)
    first = f"โพสต์แรก {uuid.uuid4().hex[:4]}"
    second = f"โพสต์สอง {uuid.uuid4().hex[:4]}"
    first_id = stack.post_facebook_comment(user_id, "ลูกค้า สองโพสต์", first)
    stack.conversation_where(lambda r: r["providerCommentId"] == first_id, "the first comment", channel="FACEBOOK")
    time.sleep(1.1)  # comment times have whole seconds: the second comment must be newer
    second_id = stack.post_facebook_comment(user_id, "ลูกค้า สองโพสต์", second)
    newest = stack.conversation_where(lambda r: r["providerCommentId"] == second_id, "the second comment",
                                      channel="FACEBOOK")

    page.dashboard()
    key = page.inbox_item(second, 10)
    assert key == f"{newest['leadId']}|FACEBOOK"
    assert "2 threads" in page.item(key).text
    assert first not in page.text("#conversation-list")  # one item for both threads

    page.item(key).click()
    page.wait(lambda d: any(second in m.text for m in page.find_all("#messages .message")), 10)
    page.wait(lambda d: page.find("#composer-thread-field").is_displayed(), 10, "the thread picker should show")
    options = page.find_all("#composer-thread option")
    assert len(options) == 2 and options[0].get_attribute("selected") is not None
    options[1].click()  # the older comment thread
    page.wait(lambda d: any(first in m.text for m in page.find_all("#messages .message")), 10,
              "picking the other thread should open it")
    assert page.item_attribute(key, "aria-selected") == "true"  # still the same inbox item


def test_a_customers_video_file_and_shared_link_open_from_the_thread(page, stack):
    customer = psid()
    video = f"https://video.xx.fbcdn.net/v/t42/{uuid.uuid4().hex}.mp4?_nc_cat=1"
    quote = f"https://cdn.fbsbx.com/v/t59.2708-21/{uuid.uuid4().hex}/quotation%20v2.pdf?_nc_cat=1"
    shared = f"https://www.facebook.com/{uuid.uuid4().int % 10**15}/posts/pfbid0{uuid.uuid4().hex}"
    stack.post_messenger_message(customer, {"text": "ดูคลิปนี้ค่ะ", "attachments": [
        {"type": "video", "payload": {"url": video}}, {"type": "file", "payload": {"url": quote}},
        {"type": "fallback", "title": "Summer sale", "url": shared, "payload": None}]})
    row = stack.conversation_where(lambda r: r["contactIdentityExternalUserId"] == customer, "the thread with attachments",
                                   channel="FACEBOOK")
    page.dashboard(hash_=f"#conversation={row['id']}")
    page.wait(lambda d: len(page.find_all("#messages a.attachment-link")) == 3, 10,
              "the customer's video, file and shared link should be links the agent can open")
    links = {a.get_attribute("href"): a.text for a in page.find_all("#messages a.attachment-link")}
    assert "Video" in links[video]
    assert "quotation v2.pdf" in links[quote] and "File" in links[quote]
    assert "Open link" in links[shared]

    # A link someone pasted: Messenger sends the text with a "fallback" preview of the link.
    pasted = f"https://shop.example/sale/{uuid.uuid4().hex}"
    stack.post_messenger_message(customer, {"text": f"ดูลิงก์นี้ {pasted}", "attachments": [
        {"type": "fallback", "title": "Summer sale", "url": pasted, "payload": None}]})
    page.wait(lambda d: any(a.get_attribute("href") == pasted for a in page.find_all("#messages a.attachment-link")), 10,
              "a pasted link's preview should open from the thread")
