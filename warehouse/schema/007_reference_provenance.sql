-- 007_reference_provenance: what every chart of a reference must say about its data:
-- the date of the data (the export's date, when the importer knows it), whom to credit,
-- under which licence, and where it comes from. `paramminer reference import` fills them
-- (Epoch AI's exports are recognised by their columns); NULL when unknown.

ALTER TABLE reference_sources ADD COLUMN IF NOT EXISTS data_date DATE;
ALTER TABLE reference_sources ADD COLUMN IF NOT EXISTS credit VARCHAR;
ALTER TABLE reference_sources ADD COLUMN IF NOT EXISTS license VARCHAR;
ALTER TABLE reference_sources ADD COLUMN IF NOT EXISTS url VARCHAR;
