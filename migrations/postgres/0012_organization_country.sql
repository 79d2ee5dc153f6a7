-- The country an organization sells in (ISO 3166-1 alpha-2, upper case): customers' phone
-- numbers written as dialled there (`07 07 07 07 07` in Côte d'Ivoire) are read in it. Null
-- when the operator has not set one.
ALTER TABLE organizations ADD COLUMN country TEXT;
