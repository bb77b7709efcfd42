#!/usr/bin/env python3
"""Writes a pgbench script that runs the webhook handler's own store statement, taken from its Swift source so the
two cannot drift apart, for one event with the same payload the bench posts (a distinct event id and user each time).

usage: store-sql.py TENANT_ID CHANNEL_ACCOUNT_ID DESTINATION OUT
"""
import json, os, re, sys

from line_events import text_event

tenant, account, destination, out = sys.argv[1:5]
source = os.path.join(os.path.dirname(__file__), "../../Sources/Core/Adapters/Postgres/Repositories/PostgresWebhookEventStore.swift")
text = open(source, encoding="utf-8").read()
found = re.search(r'PreparedStatement\("webhook_events_store_batch", """\n(.*?)"""', text, re.S)
topic = re.search(r'static let topic = "([^"]+)"', text)
if not found or not topic:
    sys.exit(f"store-sql.py: the store statement was not found in {source}")
statement = re.sub(r"--[^\n]*", "", found.group(1)).replace("\\(topic)", topic.group(1))


def literal(s):
    return "'" + s.replace("'", "''") + "'"


# pgbench reads ":name" as a variable anywhere in a command, JSON's colons included: they travel as "~" and come back
# with replace() (its cost is small beside the jsonb parse). The event id and user vary per transaction.
payload = json.dumps(text_event(0, event_id="@ID@", user="@USER@"), ensure_ascii=False, separators=(",", ":"))
assert "~" not in payload
varying = "' || :n || '-' || :client_id || '"
payload_sql = "replace(" + literal(payload.replace(":", "~")).replace("@ID@", "01BENCH" + varying) \
    .replace("@USER@", "U" + varying) + ", '~', chr(58))"
parameters = {
    "$1::uuid[]": f"ARRAY[{literal(tenant)}]::uuid[]",
    "$2::uuid[]": f"ARRAY[{literal(account)}]::uuid[]",
    "$3::text[]": "ARRAY['LINE']::text[]",
    "$4::text[]": f"ARRAY['01BENCH' || :n || '-' || :client_id]::text[]",
    "$5::text[]": "ARRAY['message.text']::text[]",
    "$6::jsonb[]": f"ARRAY[{payload_sql}::jsonb]",
    "$7::text[]": f"ARRAY[{literal(destination)}]::text[]",
}
for placeholder, value in parameters.items():
    if placeholder not in statement:
        sys.exit(f"store-sql.py: {placeholder} is not in the store statement any more; update this script")
    statement = statement.replace(placeholder, value)
if re.search(r"\$\d", statement):
    sys.exit("store-sql.py: the store statement has a parameter this script does not fill")
with open(out, "w", encoding="utf-8") as f:
    f.write("\\set n random(1, 9000000000000)\n" + " ".join(statement.split()) + ";\n")
