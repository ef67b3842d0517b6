DROP TRIGGER vehicles_sold_status_on_insert ON vehicles;
DROP TRIGGER vehicles_sold_status_on_update ON vehicles;
DROP TABLE sales;
DROP FUNCTION pcn_check_sold_status();
