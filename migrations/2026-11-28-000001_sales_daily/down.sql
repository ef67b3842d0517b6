DROP TRIGGER sales_not_deleted ON sales;
DROP FUNCTION pcn_sales_not_deleted();
DROP TRIGGER sales_daily_on_update ON sales;
DROP TRIGGER sales_daily_on_insert ON sales;
DROP FUNCTION pcn_sales_daily_apply();
DROP TABLE sales_daily;
