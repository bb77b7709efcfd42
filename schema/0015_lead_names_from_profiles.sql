-- 0015_lead_names_from_profiles: leads that nobody named take their contact's name.
--
-- A lead is named when it is created from a message that carries the sender's name (a Facebook comment's
-- from.name). LINE, Messenger and Instagram messages carry none: the name comes later from the provider's profile,
-- which updated the identity, the contact and the conversations but not the lead, so those leads kept no name.
-- The profile now names an unnamed lead as well (PostgresInbox.updateProfile); this names the ones recorded
-- before. A name an agent gave is never replaced.

UPDATE leads l
   SET name = btrim(c.display_name)
  FROM contacts c
 WHERE l.name IS NULL AND c.tenant_id = l.tenant_id AND c.id = l.contact_id
   AND nullif(btrim(c.display_name), '') IS NOT NULL;
