"""A second tenant's dashboard sees nothing of the first: not its conversations, not its live events, not a
conversation opened by id; and its token cannot subscribe to the first tenant's events."""
import time
import urllib.parse
import uuid


def test_second_tenant_sees_nothing_of_the_first(page, stack):
    other_tenant, other_token = stack.create_tenant_with_admin("Isolation")

    # The first tenant has a conversation (made now, so it is surely there).
    user_id = "U" + uuid.uuid4().hex
    secret_words = f"ข้อมูลลับของร้านแรก {uuid.uuid4().hex[:6]}"
    stack.post_line_text(user_id, secret_words)
    first_tenants = stack.conversation_by_thread(user_id)

    page.dashboard(token=other_token, tenant_id=other_tenant)
    page.wait_live(5)
    assert page.find_all("#conversation-list [role=option]") == []
    assert "No conversations" in page.text("#inbox-status")

    # A live event of the first tenant never reaches the second tenant's browser.
    stack.post_line_text(user_id, secret_words + " อีกครั้ง")
    time.sleep(3)
    events = page.driver.execute_script("return document.documentElement.dataset.realtimeEvents || '0'")
    assert events == "0", f"the second tenant's dashboard received {events} realtime event(s)"
    assert page.find_all("#conversation-list [role=option]") == []
    assert secret_words not in page.driver.page_source

    # Opening the first tenant's conversation by id: not found, nothing shown.
    page.open(f"/dashboard#conversation={first_tenants['id']}")
    page.wait(lambda d: "does not exist in this tenant" in page.text("#thread-status"), 10,
              "the other tenant's conversation should be reported as not found")
    assert page.find_all("#messages .message") == []
    assert page.find("#composer-text").get_attribute("disabled") is not None
    assert secret_words not in page.driver.page_source

    # Its token cannot subscribe to the first tenant's channel, nor read its API.
    query = urllib.parse.urlencode({"tenant": stack.tenant_id, "access_token": other_token})
    status, _ = stack.http("GET", f"{stack.url}/api/realtime?{query}", headers={"Accept": "text/event-stream"}, timeout=5)
    assert status in (401, 403), f"subscribing to another tenant's events answered {status}"
    status, _ = stack.api("GET", "/api/conversations", token=other_token, tenant_id=stack.tenant_id)
    assert status == 403

    # And /setup says why, in words.
    page.sign_in(token=other_token, tenant_id=stack.tenant_id)
    page.open("/setup")
    page.find("#test-connection").click()
    page.wait(lambda d: page.find("#setup-result").get_attribute("data-kind") == "error", 10)
    assert "not an active agent of tenant" in page.text("#setup-result")
