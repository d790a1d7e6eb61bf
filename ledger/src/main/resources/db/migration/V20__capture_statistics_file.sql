-- The Puffin statistics file Conveyor wrote and registered in an Iceberg table for a captured snapshot.
ALTER TABLE capture_snapshots ADD COLUMN statistics_file VARCHAR(2048);
