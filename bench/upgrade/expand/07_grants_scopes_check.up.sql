-- A CHECK added NOT VALID: new rows are checked at once, existing ones are not read (ACCESS EXCLUSIVE, an instant).
ALTER TABLE public.delegated_grants ADD CONSTRAINT delegated_grants_scopes_bounded CHECK (cardinality(scopes) <= 64) NOT VALID;
