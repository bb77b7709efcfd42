#!/usr/bin/env python3
"""Writes a pgbench script that runs the webhook handler's own store statement, taken from its Swift source so the
two cannot drift apart, for one event with the same payload the bench posts (a distinct event id and user each time),
or for a batch of EVENTS such events in one statement (what one group commit of the webhook pool stores).

usage: store-sql.py TENANT_ID CHANNEL_ACCOUNT_ID DESTINATION OUT [EVENTS=1]
"""
import json, os, re, sys

from line_events import text_event

tenant, account, destination, out = sys.argv[1:5]
events = int(sys.argv[5]) if len(sys.argv) > 5 else 1
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


def varying(k):
    return "' || :n || '-' || :client_id || '" + ("" if events == 1 else f"-{k}")


def each(value):
    return ", ".join(value(k) for k in range(events))


def payload_sql(k):
    return "replace(" + literal(payload.replace(":", "~")).replace("@ID@", "01BENCH" + varying(k)) \
        .replace("@USER@", "U" + varying(k)) + ", '~', chr(58))::jsonb"


parameters = {
    "$1::uuid[]": f"ARRAY[{each(lambda k: literal(tenant))}]::uuid[]",
    "$2::uuid[]": f"ARRAY[{each(lambda k: literal(account))}]::uuid[]",
    "$3::text[]": f"ARRAY[{each(lambda k: literal('LINE'))}]::text[]",
    "$4::text[]": f"ARRAY[{each(lambda k: chr(39) + '01BENCH' + varying(k) + chr(39))}]::text[]",
    "$5::text[]": f"ARRAY[{each(lambda k: literal('message.text'))}]::text[]",
    "$6::jsonb[]": f"ARRAY[{each(payload_sql)}]",
    "$7::text[]": f"ARRAY[{each(lambda k: literal(destination))}]::text[]",
}
for placeholder, value in parameters.items():
    if placeholder not in statement:
        sys.exit(f"store-sql.py: {placeholder} is not in the store statement any more; update this script")
    statement = statement.replace(placeholder, value)
if re.search(r"\$\d", statement):
    sys.exit("store-sql.py: the store statement has a parameter this script does not fill")
with open(out, "w", encoding="utf-8") as f:
    f.write("\\set n random(1, 9000000000000)\n" + " ".join(statement.split()) + ";\n")
