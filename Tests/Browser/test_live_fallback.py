"""When the event stream cannot be had, the dashboard says live updates are paused and polls every 10 s instead."""
import uuid


def test_blocked_stream_falls_back_to_polling_with_a_notice(page, stack):
    page.driver.execute_cdp_cmd("Network.enable", {})
    page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/realtime*"]})
    try:
        page.dashboard()
        page.wait(lambda d: page.find("#live-status").get_attribute("data-state") == "polling", 15,
                  "a stream that keeps failing should switch to polling")
        assert "paused" in page.text("#live-status")
        words = f"ระหว่างหยุดชั่วคราว {uuid.uuid4().hex[:6]}"
        stack.post_line_text("U" + uuid.uuid4().hex, words)
        page.inbox_item(words, 14, "polling did not bring the new message within one 10 s round")
    finally:
        page.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        page.driver.execute_cdp_cmd("Network.disable", {})
