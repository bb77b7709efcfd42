"""Phone width (375 px): panels stack, one at a time, nothing overflows sideways; Thai text gets a Thai font."""
import uuid


def test_phone_width_stacks_the_panels(page, stack):
    stack.post_line_text("U" + uuid.uuid4().hex, f"มือถือ ทดสอบ {uuid.uuid4().hex[:4]}")
    page.viewport(375, 812)
    page.dashboard()
    no_overflow = "return document.documentElement.scrollWidth <= window.innerWidth"
    assert page.driver.execute_script(no_overflow), "the inbox overflows 375 px"
    assert page.find("#inbox").is_displayed() and not page.find("#thread").is_displayed()

    page.find("#conversation-list [role=option]").click()
    page.wait(lambda d: page.find("#thread").is_displayed(), 5)
    page.wait(lambda d: len(page.find_all("#messages .message")) > 0, 10)
    assert not page.find("#inbox").is_displayed()
    assert page.find("#back-to-list").is_displayed()
    assert page.find("#composer-text").is_displayed()
    assert page.driver.execute_script(no_overflow), "the thread overflows 375 px"
    # The lead panel comes below the thread, in the same column.
    thread_box = page.find("#thread").rect
    lead_box = page.find("#lead-panel").rect
    assert lead_box["y"] >= thread_box["y"] + thread_box["height"] - 1
    page.screenshot("dashboard-375.png")

    page.find("#back-to-list").click()
    page.wait(lambda d: page.find("#inbox").is_displayed(), 5)


def test_thai_text_renders_with_room_for_its_marks(page, stack):
    page.dashboard()
    style = page.driver.execute_script("""
        const s = getComputedStyle(document.body);
        return { lineHeight: parseFloat(s.lineHeight) / parseFloat(s.fontSize), family: s.fontFamily };
    """)
    assert style["lineHeight"] >= 1.5
    assert "Noto Sans Thai" in style["family"] and "sans-serif" in style["family"]
    # A font on this machine covers Thai (fonts-thai-tlwg, installed by scripts/browser-test).
    covered = page.run_module("""
        await document.fonts.ready;
        const c = document.createElement('canvas').getContext('2d');
        c.font = '20px ' + getComputedStyle(document.body).fontFamily;
        const thai = c.measureText('สวัสดีครับ').width;
        const tofu = c.measureText('\\u{10FFFD}'.repeat(10)).width;
        return thai > 0 && thai !== tofu;
    """)
    assert covered
