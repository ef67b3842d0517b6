ALTER TABLE vehicle_history DROP CONSTRAINT vehicle_history_action_check;
ALTER TABLE vehicle_history ADD CONSTRAINT vehicle_history_action_check
    CHECK (action IN ('created', 'edited', 'archived', 'sold', 'sale voided'))
    NOT VALID;
