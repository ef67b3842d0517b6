DROP TABLE vehicle_photos;
