-- A vehicle's history also says when a change came from a CSV import or a
-- bulk change on the list (#14).
ALTER TABLE vehicle_history DROP CONSTRAINT vehicle_history_action_check;
ALTER TABLE vehicle_history ADD CONSTRAINT vehicle_history_action_check
    CHECK (action IN ('created', 'edited', 'archived', 'sold', 'sale voided',
                      'imported', 'bulk change'));
