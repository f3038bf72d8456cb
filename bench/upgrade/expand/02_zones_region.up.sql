-- A column with a constant default: stored once as the column's missing value, no rewrite. The previous version's
-- inserts leave it out and get the default.
ALTER TABLE public.zones ADD COLUMN region text NOT NULL DEFAULT 'eu-west';
