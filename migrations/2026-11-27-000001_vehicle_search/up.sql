-- Search that stays fast at a million vehicles. Stock numbers and VINs are
-- codes: people type their start or their last characters ("the last 8 of
-- the VIN"), which plain B-tree prefix scans answer, the ends reversed. Make
-- and model are words, found anywhere by trigrams (three letters or digits
-- in a row; a shorter search is a whole model name). The former trigram index
-- over all four spent most of its time on codes' frequent trigrams ("s00",
-- "000"), slower the more vehicles there were.

DROP INDEX vehicles_search_trgm_idx;
ALTER TABLE vehicles DROP COLUMN search_text;

-- text_pattern_ops: LIKE 'ABC%' uses these whatever the database collation.
CREATE INDEX vehicles_number_prefix_idx ON vehicles (vehicle_number text_pattern_ops);
CREATE INDEX vehicles_number_suffix_idx ON vehicles (reverse(vehicle_number) text_pattern_ops);
CREATE INDEX vehicles_vin_prefix_idx ON vehicles (vin text_pattern_ops);
CREATE INDEX vehicles_vin_suffix_idx ON vehicles (reverse(vin) text_pattern_ops);
CREATE INDEX vehicles_names_trgm_idx ON vehicles USING gin (lower(make || ' ' || model) gin_trgm_ops);
-- A search too short for trigrams ("X5", "A4") matches a whole model name.
CREATE INDEX vehicles_model_lower_idx ON vehicles (lower(model));
