-- 0020_identity_lead_link_index: the link 0019 added is indexed, so deleting a lead finds the identities that point
-- at it without reading them all.
--
-- contact_identities.lead_id is a foreign key with ON DELETE SET NULL: without an index, every deleted lead (a
-- tenant's deletion cascades through all of its leads) scans the identities. Only linked identities are indexed.

SELECT set_config('hubchat.scope', 'system', true);

CREATE INDEX contact_identities_lead_idx ON contact_identities (tenant_id, lead_id) WHERE lead_id IS NOT NULL;
