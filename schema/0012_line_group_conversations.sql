-- 0012_line_group_conversations: LINE group and room chats recorded before group chats became customers of
-- their own move onto the group's lead.
--
-- Until now a group (or room) conversation, keyed on the group id, was created on the lead of whichever member
-- spoke first. The worker now records a group chat as one customer, the group id its party; the conversation it
-- finds by thread would otherwise stay on that member's lead for good, and the group's own lead would have no
-- conversation. Each such conversation is moved onto the group's identity, contact and lead (created as the
-- worker would create them); the member keeps their lead, and the messages stay where they are. LINE group ids
-- start with "C" and room ids with "R" (user ids with "U"), 33 characters.

SELECT set_config('hubchat.scope', 'system', true);

UPDATE conversations c
   SET lead_id = p.lead_id, contact_id = p.contact_id, contact_identity_id = p.identity_id,
       provider_external_user_id = c.channel_thread_id
  FROM conversations old
 CROSS JOIN LATERAL hubchat_upsert_inbound_party(old.tenant_id, 'LINE', old.channel_thread_id,
                                                 old.channel_account_id, NULL, NULL, false,
                                                 coalesce(old.last_inbound_at, old.last_message_at, old.created_at)) p
 WHERE c.id = old.id
   AND old.channel = 'LINE' AND old.channel_thread_id ~ '^[CR][0-9a-f]{32}$'
   AND old.provider_external_user_id IS DISTINCT FROM old.channel_thread_id;
