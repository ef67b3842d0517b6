DROP INDEX sales_voided_idx;
DROP INDEX sales_customer_idx;
DROP INDEX sales_gross_idx;
DROP INDEX sales_price_idx;

CREATE INDEX vehicles_names_trgm_idx ON vehicles USING gin (lower(make || ' ' || model) gin_trgm_ops);
CREATE INDEX vehicles_model_lower_idx ON vehicles (lower(model));
DROP INDEX vehicles_search_words_trgm_idx;
ALTER TABLE vehicles DROP COLUMN search_words;
DROP FUNCTION pcn_search_words(integer, text, text, text, text);
DROP FUNCTION pcn_search_field(text);
