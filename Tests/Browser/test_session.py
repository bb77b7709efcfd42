"""/setup explains what is wrong with a session; /dashboard without one links to /setup; a refused or expired token
sends the agent back to /setup with a message."""
import uuid


def submit_setup(page, tenant_id, token):
    page.open("/setup")
    page.driver.execute_script("localStorage.clear(); sessionStorage.clear();")
    page.open("/setup")
    page.find("#tenant-id").send_keys(tenant_id)
    page.find("#access-token").send_keys(token)
    page.find("#test-connection").click()
    page.wait(lambda d: page.find("#setup-result").get_attribute("data-kind") in ("ok", "error"), 10)
    return page.find("#setup-result").get_attribute("data-kind"), page.text("#setup-result")


def test_dashboard_without_a_session_links_to_setup(page):
    page.open("/setup")
    page.driver.execute_script("localStorage.clear();")
    page.open("/dashboard")
    link = page.find("#no-session a[href='/setup']")
    assert link.is_displayed()
    assert not page.find("#app").is_displayed()


def test_index_sends_people_to_the_dashboard(page):
    page.open("/")
    page.wait(lambda d: d.current_url.rstrip("/").endswith("/dashboard"), 5)


def test_setup_explains_each_kind_of_failure(page, stack):
    kind, text = submit_setup(page, stack.tenant_id, stack.forge_token("admin@demo.hubchat.local", 3600, secret="wrong"))
    assert kind == "error" and "token was refused" in text, text

    kind, text = submit_setup(page, str(uuid.uuid4()), stack.admin_token)
    assert kind == "error" and "not an active agent" in text, text

    kind, text = submit_setup(page, "not-a-tenant", stack.admin_token)
    assert kind == "error" and "UUID" in text, text
    assert page.find("#tenant-id").get_attribute("aria-invalid") == "true"

    kind, text = submit_setup(page, stack.tenant_id, stack.forge_token("admin@demo.hubchat.local", -3600))
    assert kind == "error" and "expired" in text, text

    kind, text = submit_setup(page, stack.tenant_id, stack.sales_token)
    assert kind == "ok" and "Sales" in text, text


def test_a_refused_token_sends_the_dashboard_back_to_setup(page, stack):
    # Signed with another key: the browser cannot tell, the API answers 401.
    page.sign_in(token=stack.forge_token("admin@demo.hubchat.local", 3600, secret="rotated"))
    page.open("/dashboard")
    page.wait(lambda d: d.current_url.endswith("/setup"), 10, "a 401 should lead to /setup")
    notice = page.find("#setup-notice")
    assert notice.is_displayed() and "access token was refused" in notice.text
    # The values stay, so the agent only replaces the token.
    assert page.find("#tenant-id").get_attribute("value") == stack.tenant_id


def test_an_expired_token_sends_the_dashboard_back_to_setup(page, stack):
    page.sign_in(token=stack.forge_token("admin@demo.hubchat.local", -120))
    page.open("/dashboard")
    page.wait(lambda d: d.current_url.endswith("/setup"), 10, "an expired token should lead to /setup")
    assert "access token has expired" in page.find("#setup-notice").text
