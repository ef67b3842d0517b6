DROP TABLE vehicle_imports;
