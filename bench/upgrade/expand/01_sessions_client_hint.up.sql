-- A nullable column on a hot table: ACCESS EXCLUSIVE for an instant (no rewrite, no scan). The previous version
-- names its columns, so it neither reads nor writes client_hint.
ALTER TABLE public.sessions ADD COLUMN client_hint text;
