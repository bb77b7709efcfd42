-- 0004_lead_status_guard: the lead lifecycle, enforced by the database too.
--
-- NEW → ASSIGNED → CONTACTED → QUALIFIED → PROPOSAL_SENT → NEGOTIATION → WON; any non-final status → LOST;
-- WON and LOST are final; staying in the same status is allowed. The application checks first and answers 409
-- with the allowed next statuses; this trigger is the safety net for a path that forgets, or for two requests
-- racing on the same lead. It raises SQLSTATE 23514 (check_violation) with constraint name
-- `leads_status_transition`, which the application should map to 409, never 500.
-- INSERTs are not checked: a lead may be created (or seeded) in any status.

CREATE FUNCTION lead_status_transition_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT from_status = to_status
        OR (to_status = 'LOST' AND from_status NOT IN ('WON', 'LOST'))
        OR (from_status, to_status) IN (
               ('NEW', 'ASSIGNED'),
               ('ASSIGNED', 'CONTACTED'),
               ('CONTACTED', 'QUALIFIED'),
               ('QUALIFIED', 'PROPOSAL_SENT'),
               ('PROPOSAL_SENT', 'NEGOTIATION'),
               ('NEGOTIATION', 'WON'))
$$;

CREATE FUNCTION leads_guard_status_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT lead_status_transition_allowed(OLD.status, NEW.status) THEN
        RAISE EXCEPTION 'lead % cannot move from % to %', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'leads_status_transition',
                  TABLE = 'leads',
                  COLUMN = 'status';
    END IF;
    -- Kept here so every path that changes the status also dates it, unless it set the date itself.
    IF NEW.status_changed_at IS NOT DISTINCT FROM OLD.status_changed_at THEN
        NEW.status_changed_at := now();
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER leads_guard_status_transition BEFORE UPDATE OF status ON leads
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION leads_guard_status_transition();
