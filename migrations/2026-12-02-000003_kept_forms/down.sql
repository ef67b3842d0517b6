DROP TRIGGER sales_salesperson ON sales;
DROP FUNCTION pcn_sale_salesperson();
DROP FUNCTION pcn_keep_form(text, bytea, text, jsonb);
DROP TABLE kept_forms;
