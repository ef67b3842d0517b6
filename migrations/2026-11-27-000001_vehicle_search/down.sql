DROP INDEX vehicles_model_lower_idx;
DROP INDEX vehicles_names_trgm_idx;
DROP INDEX vehicles_vin_suffix_idx;
DROP INDEX vehicles_vin_prefix_idx;
DROP INDEX vehicles_number_suffix_idx;
DROP INDEX vehicles_number_prefix_idx;

ALTER TABLE vehicles ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    lower(vehicle_number || ' ' || coalesce(vin, '') || ' ' || make || ' ' || model)
) STORED;
CREATE INDEX vehicles_search_trgm_idx ON vehicles USING gin (search_text gin_trgm_ops);
