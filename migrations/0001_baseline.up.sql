-- 0001_baseline: the consolidated Caracal schema (every table of the seed "Store State"), its group
-- roles, the grants of docs/access-matrix.md, and the integrity controls (append-only audit, immutable
-- policy versions, fail-closed zone RLS, the rolling audit partition window).
--
-- Safe to apply under the previous application version: there is none; this is the first file.
-- Applied by caracal-migrate in ONE transaction (BEGIN; this file; INSERT INTO
-- public.schema_migrations; COMMIT), so it never half-applies. It does not create
-- public.schema_migrations: the runner owns that table.
--
-- Who may apply it (the migrator login):
--   * a superuser, or
--   * a login with CREATEROLE that owns the database (CREATE DATABASE caracal OWNER <migrator>) and
--     can SET ROLE caracal_owner. On a fresh server the baseline creates the group roles and grants
--     caracal_owner to the migrator itself. Where the group roles already exist (another environment's
--     database on the same server), the migrator must already be a member of caracal_owner (on
--     Postgres 16+ with SET, granted by whoever holds ADMIN on it; on 15 CREATEROLE suffices).
--   * Creating caracal_backup WITH BYPASSRLS needs a superuser on Postgres 15 (a role that has
--     BYPASSRLS itself on 16+). Without it the role is created without BYPASSRLS and a WARNING says
--     so; pg_dump then fails loudly on RLS tables instead of dumping a filtered copy.
-- Either way every object ends up owned by caracal_owner: after the role and database statements
-- the file runs as caracal_owner (SET LOCAL ROLE) and resets the role at its end, so the runner's
-- INSERT INTO public.schema_migrations runs as the login again.

-- ---------------------------------------------------------------------------------------------
-- Group roles: cluster-wide, shared by every database on the server, so created idempotently.
-- Two migrators creating them at once (two databases on one server) is a duplicate, not an error.
-- ---------------------------------------------------------------------------------------------
DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['caracal_owner', 'caracal_api', 'caracal_coordinator', 'caracal_audit',
                           'caracal_sts', 'caracal_gateway'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN NOBYPASSRLS', r);
      EXCEPTION WHEN duplicate_object OR unique_violation THEN
        NULL; -- created concurrently by another migrator
      END;
    END IF;
    -- Fail closed: a service or owner role with BYPASSRLS would read every zone.
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r AND rolbypassrls) THEN
      EXECUTE format('ALTER ROLE %I NOBYPASSRLS', r);
    END IF;
  END LOOP;

  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'caracal_backup') THEN
    BEGIN
      CREATE ROLE caracal_backup NOLOGIN BYPASSRLS;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN
        NULL;
      WHEN insufficient_privilege THEN
        CREATE ROLE caracal_backup NOLOGIN;
        RAISE WARNING 'caracal_backup was created without BYPASSRLS: % may not grant it', current_user
          USING HINT = 'As a superuser: ALTER ROLE caracal_backup BYPASSRLS; until then pg_dump as the backup role fails on RLS tables.';
    END;
  END IF;
END
$roles$;

-- The migrator must be able to SET ROLE caracal_owner (see the header).
DO $membership$
DECLARE
  can_set boolean;
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  IF current_setting('server_version_num')::int >= 160000 THEN
    can_set := pg_has_role(current_user, 'caracal_owner', 'SET');
  ELSE
    can_set := pg_has_role(current_user, 'caracal_owner', 'MEMBER');
  END IF;
  IF NOT can_set THEN
    BEGIN
      IF current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE format('GRANT caracal_owner TO %I WITH INHERIT TRUE, SET TRUE', current_user);
      ELSE
        EXECUTE format('GRANT caracal_owner TO %I', current_user);
      END IF;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'migrator login % cannot SET ROLE caracal_owner and may not grant it to itself', current_user
        USING ERRCODE = 'insufficient_privilege',
              HINT = format('As a superuser (or a role with ADMIN on caracal_owner): GRANT caracal_owner TO %I;', current_user);
    END;
  END IF;
END
$membership$;

-- Group roles are shared by every database on the server: only the per-environment login roles
-- (created by the migration Job) get CONNECT on this database. Fail if PUBLIC keeps it.
DO $connect$
BEGIN
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  IF EXISTS (
    SELECT 1
    FROM pg_catalog.pg_database d, LATERAL aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
    WHERE d.datname = current_database() AND a.grantee = 0 AND a.privilege_type = 'CONNECT'
  ) THEN
    RAISE EXCEPTION 'could not revoke CONNECT on database % from PUBLIC', current_database()
      USING HINT = 'Apply the baseline as the database owner or a superuser.';
  END IF;
END
$connect$;

-- caracal_owner creates the objects; the public schema belongs to pg_database_owner (15+).
DO $schema$
BEGIN
  IF NOT has_schema_privilege('caracal_owner', 'public', 'CREATE') THEN
    GRANT USAGE, CREATE ON SCHEMA public TO caracal_owner;
  END IF;
END
$schema$;
GRANT USAGE ON SCHEMA public TO caracal_api, caracal_coordinator, caracal_audit, caracal_sts,
  caracal_gateway, caracal_backup;

-- The runner creates public.schema_migrations (as the login) before it applies this file; backups
-- must be able to read it too. Later tables belong to caracal_owner and get it by default privileges.
DO $runner_table$
BEGIN
  IF to_regclass('public.schema_migrations') IS NOT NULL THEN
    GRANT SELECT ON public.schema_migrations TO caracal_backup;
  END IF;
END
$runner_table$;

SET LOCAL ROLE caracal_owner;

-- Tables created by the owner (here, in later migrations, new audit partitions) are readable by
-- backups from birth; functions are not callable by PUBLIC unless granted.
ALTER DEFAULT PRIVILEGES FOR ROLE caracal_owner IN SCHEMA public GRANT SELECT ON TABLES TO caracal_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE caracal_owner IN SCHEMA public GRANT SELECT ON SEQUENCES TO caracal_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE caracal_owner IN SCHEMA public REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- Shared trigger function: append-only and immutable tables reject UPDATE, DELETE and TRUNCATE.
-- Used by statement-level triggers (they fire even when no row matches, and on TRUNCATE) that are
-- set ENABLE ALWAYS, so session_replication_role = replica does not silence them and they stop the
-- owner as well as every service role.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION public.reject_mutation() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
  RAISE EXCEPTION '%.% is %: % is not allowed', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0], TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = CASE TG_ARGV[0]
                   WHEN 'append-only' THEN 'Audit rows are only removed by dropping expired, exported partitions: public.audit_partitions_apply_retention().'
                   ELSE 'Versions never change: insert a new version instead.'
                 END;
END
$fn$;
COMMENT ON FUNCTION public.reject_mutation() IS
  'Trigger function of the append-only and immutable tables: rejects UPDATE, DELETE and TRUNCATE (TG_ARGV[0] names the rule).';

-- ---------------------------------------------------------------------------------------------
-- Product model (API writes)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.zones (
  id                  uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  slug                text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  display_name        text        NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
  status              text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'archived')),
  -- Key material is referenced (KMS key / secret-manager path), never stored.
  signing_key_ref     text        CHECK (signing_key_ref ~ '^[a-z][a-z0-9+.-]*:\S+$' AND length(signing_key_ref) <= 512 AND signing_key_ref NOT LIKE '%-----BEGIN%'),
  encryption_key_ref  text        CHECK (encryption_key_ref ~ '^[a-z][a-z0-9+.-]*:\S+$' AND length(encryption_key_ref) <= 512 AND encryption_key_ref NOT LIKE '%-----BEGIN%'),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.zones IS
  'Tenancy root: every zone-scoped row carries its zone_id. Not itself under RLS (the API lists and creates zones). Holds references to the zone''s signing and encryption keys (KMS/secret-manager URIs), never key material. Zones are archived (status), not deleted: audit rows and grants refer to them.';

CREATE TABLE public.providers (
  id                 uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id            uuid        NOT NULL REFERENCES public.zones (id),
  name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind               text        NOT NULL CHECK (kind IN ('oidc', 'oauth2', 'saml', 'api_key', 'custom')),
  issuer_url         text        CHECK (issuer_url ~ '^https?://'),
  client_id          text,
  -- Client secrets live in the secret manager; the row keeps the reference.
  client_secret_ref  text        CHECK (client_secret_ref ~ '^[a-z][a-z0-9+.-]*:\S+$' AND length(client_secret_ref) <= 512 AND client_secret_ref NOT LIKE '%-----BEGIN%'),
  config             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
  status             text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, name),
  UNIQUE (zone_id, id)
);
COMMENT ON TABLE public.providers IS
  'Identity and credential providers of a zone (OIDC, OAuth2, SAML, API keys). Client secrets are secret-manager references, never values. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.applications (
  id           uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id      uuid        NOT NULL REFERENCES public.zones (id),
  name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  kind         text        NOT NULL DEFAULT 'service' CHECK (kind IN ('web', 'service', 'agent', 'cli')),
  description  text,
  status       text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'archived')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, name),
  UNIQUE (zone_id, id)
);
COMMENT ON TABLE public.applications IS
  'Applications (services, agents, web apps) registered in a zone. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.resources (
  id           uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id      uuid        NOT NULL REFERENCES public.zones (id),
  provider_id  uuid,
  name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  uri          text        NOT NULL CHECK (length(uri) BETWEEN 1 AND 2048),
  kind         text        NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'mcp_server', 'database', 'queue', 'other')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, uri),
  UNIQUE (zone_id, id),
  FOREIGN KEY (zone_id, provider_id) REFERENCES public.providers (zone_id, id)
);
CREATE INDEX resources_provider_idx ON public.resources (zone_id, provider_id) WHERE provider_id IS NOT NULL;
COMMENT ON TABLE public.resources IS
  'Protected resources (APIs, MCP servers, ...) that applications reach through STS tokens and the gateway. Zone-scoped (fail-closed RLS); foreign keys carry zone_id so a row never points into another zone.';

CREATE TABLE public.application_dependencies (
  zone_id         uuid        NOT NULL REFERENCES public.zones (id),
  application_id  uuid        NOT NULL,
  resource_id     uuid        NOT NULL,
  scopes          text[]      NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, application_id, resource_id),
  FOREIGN KEY (zone_id, application_id) REFERENCES public.applications (zone_id, id) ON DELETE CASCADE,
  FOREIGN KEY (zone_id, resource_id) REFERENCES public.resources (zone_id, id) ON DELETE CASCADE
);
CREATE INDEX application_dependencies_resource_idx ON public.application_dependencies (zone_id, resource_id);
COMMENT ON TABLE public.application_dependencies IS
  'Which resources an application depends on, with the scopes it may request. Zone-scoped (fail-closed RLS).';

-- ---------------------------------------------------------------------------------------------
-- Authority (API writes; STS reads; the gateway reads revocation state)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.sessions (
  id              uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id         uuid        NOT NULL REFERENCES public.zones (id),
  subject         text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 512),
  application_id  uuid,
  -- SHA-256/HMAC of the session token; the token itself is never stored.
  token_hash      bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz,
  step_up_at      timestamptz,
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz,
  revoked_reason  text,
  UNIQUE (zone_id, id),
  CHECK (expires_at > created_at),
  CHECK (revoked_reason IS NULL OR revoked_at IS NOT NULL),
  FOREIGN KEY (zone_id, application_id) REFERENCES public.applications (zone_id, id)
);
CREATE INDEX sessions_expires_idx ON public.sessions (expires_at);
CREATE INDEX sessions_subject_idx ON public.sessions (zone_id, subject);
CREATE INDEX sessions_revoked_idx ON public.sessions (zone_id, revoked_at) WHERE revoked_at IS NOT NULL;
COMMENT ON TABLE public.sessions IS
  'User sessions: token hash only, expiry (expires_at, indexed for purging) and revocation (revoked_at, read by the gateway''s revocation snapshot). Zone-scoped (fail-closed RLS).';

CREATE TABLE public.delegated_grants (
  id              uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id         uuid        NOT NULL REFERENCES public.zones (id),
  subject         text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 512),
  application_id  uuid        NOT NULL,
  resource_id     uuid        NOT NULL,
  session_id      uuid,
  scopes          text[]      NOT NULL CHECK (cardinality(scopes) > 0),
  granted_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,
  revoked_at      timestamptz,
  UNIQUE (zone_id, id),
  CHECK (expires_at IS NULL OR expires_at > granted_at),
  FOREIGN KEY (zone_id, application_id) REFERENCES public.applications (zone_id, id),
  FOREIGN KEY (zone_id, resource_id) REFERENCES public.resources (zone_id, id),
  FOREIGN KEY (zone_id, session_id) REFERENCES public.sessions (zone_id, id) ON DELETE SET NULL (session_id)
);
CREATE INDEX delegated_grants_subject_idx ON public.delegated_grants (zone_id, subject, application_id);
CREATE INDEX delegated_grants_revoked_idx ON public.delegated_grants (zone_id, revoked_at) WHERE revoked_at IS NOT NULL;
COMMENT ON TABLE public.delegated_grants IS
  'Consent a subject gave an application to act on a resource with scopes. Revoked by setting revoked_at (never deleted) so STS and the gateway''s revocation snapshot see it. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.provider_grants (
  id                        uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id                   uuid        NOT NULL REFERENCES public.zones (id),
  provider_id               uuid        NOT NULL,
  subject                   text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 512),
  scopes                    text[]      NOT NULL DEFAULT '{}',
  -- Provider tokens are stored encrypted (AEAD: nonce + ciphertext + tag) under a key referenced
  -- by id; the key itself lives in the secret manager / KMS.
  access_token_ciphertext   bytea       CHECK (octet_length(access_token_ciphertext) >= 28),
  refresh_token_ciphertext  bytea       CHECK (octet_length(refresh_token_ciphertext) >= 28),
  encryption_key_id         text        NOT NULL CHECK (encryption_key_id ~ '^[A-Za-z0-9._:/+-]+$' AND length(encryption_key_id) <= 256),
  expires_at                timestamptz,
  revoked_at                timestamptz,
  created_at                timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, provider_id, subject),
  FOREIGN KEY (zone_id, provider_id) REFERENCES public.providers (zone_id, id)
);
COMMENT ON TABLE public.provider_grants IS
  'Grants a subject holds at an upstream provider. Tokens only as ciphertext under encryption_key_id (a reference; the key is never stored here). Zone-scoped (fail-closed RLS).';

CREATE TABLE public.step_up_challenges (
  id              uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id         uuid        NOT NULL REFERENCES public.zones (id),
  session_id      uuid        NOT NULL,
  method          text        NOT NULL CHECK (method IN ('totp', 'webauthn', 'email_otp', 'push')),
  reason          text,
  -- Hash of the challenge nonce/code; the code itself is never stored.
  challenge_hash  bytea       NOT NULL CHECK (octet_length(challenge_hash) = 32),
  status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'consumed', 'failed', 'expired')),
  attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts BETWEEN 0 AND 10),
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  verified_at     timestamptz,
  consumed_at     timestamptz,
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '15 minutes'),
  CHECK (status <> 'consumed' OR (verified_at IS NOT NULL AND consumed_at IS NOT NULL)),
  FOREIGN KEY (zone_id, session_id) REFERENCES public.sessions (zone_id, id) ON DELETE CASCADE
);
CREATE INDEX step_up_challenges_expires_idx ON public.step_up_challenges (expires_at);
CREATE INDEX step_up_challenges_session_idx ON public.step_up_challenges (zone_id, session_id) WHERE status IN ('pending', 'verified');
COMMENT ON TABLE public.step_up_challenges IS
  'Step-up (MFA) challenges STS raises when a policy demands it: the user answers through the API, STS consumes the verified challenge when it issues the token. Short-lived (at most 15 minutes, expires_at indexed for purging); hash of the code only. Zone-scoped (fail-closed RLS).';

-- ---------------------------------------------------------------------------------------------
-- Policy (API writes; STS reads). Versions are immutable.
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.policies (
  id           uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id      uuid        NOT NULL REFERENCES public.zones (id),
  name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  archived_at  timestamptz,
  UNIQUE (zone_id, name),
  UNIQUE (zone_id, id)
);
COMMENT ON TABLE public.policies IS
  'Named policies of a zone; their content lives in immutable policy_versions. Archived, not deleted. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.policy_versions (
  zone_id          uuid        NOT NULL REFERENCES public.zones (id),
  policy_id        uuid        NOT NULL,
  version          integer     NOT NULL CHECK (version > 0),
  document         jsonb       NOT NULL CHECK (jsonb_typeof(document) = 'object'),
  document_sha256  bytea       NOT NULL CHECK (octet_length(document_sha256) = 32),
  created_by       text        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, policy_id, version),
  FOREIGN KEY (zone_id, policy_id) REFERENCES public.policies (zone_id, id)
);
COMMENT ON TABLE public.policy_versions IS
  'Immutable policy content: triggers (ENABLE ALWAYS) reject UPDATE, DELETE and TRUNCATE for every role; a change is a new version. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.policy_sets (
  id           uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id      uuid        NOT NULL REFERENCES public.zones (id),
  name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description  text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  archived_at  timestamptz,
  UNIQUE (zone_id, name),
  UNIQUE (zone_id, id)
);
COMMENT ON TABLE public.policy_sets IS
  'Named sets of policies evaluated together; content in immutable policy_set_versions. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.policy_set_versions (
  zone_id              uuid        NOT NULL REFERENCES public.zones (id),
  policy_set_id        uuid        NOT NULL,
  version              integer     NOT NULL CHECK (version > 0),
  -- [{"policy_id": "...", "version": n}, ...]: pinned policy versions.
  members              jsonb       NOT NULL CHECK (jsonb_typeof(members) = 'array'),
  combining_algorithm  text        NOT NULL DEFAULT 'deny_overrides' CHECK (combining_algorithm IN ('deny_overrides', 'permit_overrides', 'first_applicable')),
  document_sha256      bytea       NOT NULL CHECK (octet_length(document_sha256) = 32),
  created_by           text        NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, policy_set_id, version),
  FOREIGN KEY (zone_id, policy_set_id) REFERENCES public.policy_sets (zone_id, id)
);
COMMENT ON TABLE public.policy_set_versions IS
  'Immutable policy set content (pinned policy versions and the combining algorithm): triggers (ENABLE ALWAYS) reject UPDATE, DELETE and TRUNCATE. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.policy_set_bindings (
  id                  uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id             uuid        NOT NULL REFERENCES public.zones (id),
  policy_set_id       uuid        NOT NULL,
  policy_set_version  integer     NOT NULL,
  application_id      uuid,
  resource_id         uuid,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now(),
  CHECK (num_nonnulls(application_id, resource_id) >= 1),
  UNIQUE NULLS NOT DISTINCT (zone_id, application_id, resource_id),
  FOREIGN KEY (zone_id, policy_set_id, policy_set_version) REFERENCES public.policy_set_versions (zone_id, policy_set_id, version),
  FOREIGN KEY (zone_id, application_id) REFERENCES public.applications (zone_id, id) ON DELETE CASCADE,
  FOREIGN KEY (zone_id, resource_id) REFERENCES public.resources (zone_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE public.policy_set_bindings IS
  'Which policy set version applies to an application and/or resource; re-pointing a binding is how a new version goes live. Zone-scoped (fail-closed RLS).';

-- ---------------------------------------------------------------------------------------------
-- Audit
-- ---------------------------------------------------------------------------------------------
-- Partition key = ingest time (UTC days): replay volumes re-send old events, so keying on event
-- time would write into old (possibly dropped) partitions. occurred_at is a column; queries by event
-- time should also bound ingested_at (events are ingested at most the replay horizon after they occur).
-- No foreign key to zones: audit rows outlive zones, and a per-row FK check costs ingest throughput.
CREATE TABLE public.audit_events (
  zone_id       uuid        NOT NULL,
  event_id      uuid        NOT NULL,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  occurred_at   timestamptz NOT NULL,
  source        text        NOT NULL CHECK (source IN ('api', 'coordinator', 'sts', 'gateway', 'audit')),
  event_type    text        NOT NULL CHECK (length(event_type) BETWEEN 1 AND 200),
  actor         text,
  subject       text,
  decision      text        CHECK (decision IN ('allow', 'deny', 'error')),
  request_id    text,
  payload       jsonb       NOT NULL DEFAULT '{}',
  hmac_key_id   text,
  payload_hmac  bytea       CHECK (octet_length(payload_hmac) = 32),
  CHECK ((hmac_key_id IS NULL) = (payload_hmac IS NULL)),
  PRIMARY KEY (ingested_at, event_id)
) PARTITION BY RANGE (ingested_at);
CREATE INDEX audit_events_zone_occurred_idx ON public.audit_events (zone_id, occurred_at);
COMMENT ON TABLE public.audit_events IS
  'Audit events, append-only: no role holds UPDATE, DELETE or TRUNCATE, and triggers (ENABLE ALWAYS) reject them on the parent and every partition, for the owner too. Range-partitioned by ingested_at in UTC days (public.audit_partitions_ensure); ingested_at is always the server clock (the audit role may not set it). Ingest is INSERT-based (batched multi-row INSERT): COPY FROM is not allowed on tables with row-level security. Zone-scoped (fail-closed RLS, on every partition too). Rows are removed only by dropping expired, exported partitions (public.audit_partitions_apply_retention).';

-- No audit event is lost when its day's partition is missing: it lands in this DEFAULT partition.
-- Trade-off: rows in the default partition block attaching a partition whose range overlaps them
-- (and ATTACH must scan the default partition), so audit_partitions_ensure moves such rows into the
-- new partition inside the same locked transaction, and audit_partition_health reports any rows left.
CREATE TABLE public.audit_events_default PARTITION OF public.audit_events DEFAULT;
COMMENT ON TABLE public.audit_events_default IS
  'Catch-all partition of audit_events for events whose day has no partition yet (nothing is lost). Should stay empty: audit_partitions_ensure moves its rows into the day partitions it creates, and audit_partition_health reports rows left here.';

CREATE TABLE public.audit_export_watermark (
  sink              text        PRIMARY KEY CHECK (sink ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  exported_through  timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.audit_export_watermark IS
  'Per export sink (SIEM, archive): every audit event with ingested_at < exported_through has been exported. Retention drops a partition only when its upper bound is at or below the lowest watermark. Global (not zone-scoped).';

CREATE TABLE public.audit_ingest_alerts (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone_id        uuid,
  source         text        NOT NULL CHECK (source IN ('api', 'coordinator', 'sts', 'gateway', 'audit')),
  kind           text        NOT NULL CHECK (kind IN ('replay_gap', 'hmac_mismatch', 'rejected_event', 'ingest_backlog', 'partition_missing', 'default_partition_rows', 'export_lag')),
  severity       text        NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
  detail         text        NOT NULL,
  occurrences    integer     NOT NULL DEFAULT 1 CHECK (occurrences > 0),
  first_seen_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at   timestamptz NOT NULL DEFAULT now(),
  resolved_at    timestamptz,
  CHECK (last_seen_at >= first_seen_at)
);
CREATE INDEX audit_ingest_alerts_open_idx ON public.audit_ingest_alerts (last_seen_at) WHERE resolved_at IS NULL;
COMMENT ON TABLE public.audit_ingest_alerts IS
  'Problems the audit ingester saw (replay gaps, HMAC mismatches, rejected events, backlog, partitions). Open alerts are indexed. Global: an alert may concern no zone or several.';

CREATE TABLE public.admin_tokens (
  id              uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  name            text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- Shown to humans to tell tokens apart; too short to be the token.
  token_prefix    text        NOT NULL CHECK (token_prefix ~ '^[A-Za-z0-9_]{4,12}$'),
  -- HMAC-SHA256 of the token under hmac_key_id (a reference). Exactly 32 bytes of bytea: a plain
  -- token (text) cannot be stored here by mistake.
  token_hash      bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
  hash_algorithm  text        NOT NULL DEFAULT 'hmac-sha256' CHECK (hash_algorithm IN ('hmac-sha256', 'sha256')),
  hmac_key_id     text        CHECK (hmac_key_id ~ '^[A-Za-z0-9._:/+-]+$' AND length(hmac_key_id) <= 256),
  zone_id         uuid        REFERENCES public.zones (id),
  scopes          text[]      NOT NULL CHECK (cardinality(scopes) > 0),
  created_by      text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  last_used_at    timestamptz,
  revoked_at      timestamptz,
  CHECK (expires_at > created_at),
  CHECK (hash_algorithm <> 'hmac-sha256' OR hmac_key_id IS NOT NULL)
);
CREATE INDEX admin_tokens_expires_idx ON public.admin_tokens (expires_at) WHERE revoked_at IS NULL;
COMMENT ON TABLE public.admin_tokens IS
  'Admin API tokens: the HMAC/hash (32 bytes) and a display prefix only, never the token; the HMAC key is referenced by id. They expire (expires_at) and are revoked (revoked_at), never deleted, so admin_audit_events keep their reference. zone_id NULL means every zone. Global (not zone-scoped).';

CREATE TABLE public.admin_audit_events (
  id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  admin_token_id  uuid        REFERENCES public.admin_tokens (id),
  actor           text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 512),
  action          text        NOT NULL CHECK (length(action) BETWEEN 1 AND 200),
  zone_id         uuid,
  target_type     text,
  target_id       text,
  request_id      text,
  detail          jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX admin_audit_events_recorded_idx ON public.admin_audit_events (recorded_at);
CREATE INDEX admin_audit_events_zone_idx ON public.admin_audit_events (zone_id, recorded_at) WHERE zone_id IS NOT NULL;
COMMENT ON TABLE public.admin_audit_events IS
  'Audit trail of admin API actions, written by the API in the transaction of the change it records. Append-only: no role holds UPDATE, DELETE or TRUNCATE, and triggers (ENABLE ALWAYS) reject them for the owner too; id and recorded_at are set by the server. Global (admin actions may span zones).';

-- ---------------------------------------------------------------------------------------------
-- Agents and delegation (Coordinator writes)
-- ---------------------------------------------------------------------------------------------
CREATE TABLE public.agent_sessions (
  id                 uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id            uuid        NOT NULL REFERENCES public.zones (id),
  application_id     uuid        NOT NULL,
  agent_name         text        NOT NULL CHECK (length(agent_name) BETWEEN 1 AND 200),
  principal_subject  text        NOT NULL,
  status             text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'failed', 'revoked')),
  started_at         timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at  timestamptz,
  expires_at         timestamptz NOT NULL,
  ended_at           timestamptz,
  UNIQUE (zone_id, id),
  CHECK (expires_at > started_at),
  CHECK ((status = 'active') = (ended_at IS NULL)),
  FOREIGN KEY (zone_id, application_id) REFERENCES public.applications (zone_id, id)
);
CREATE INDEX agent_sessions_active_expires_idx ON public.agent_sessions (expires_at) WHERE status = 'active';
CREATE INDEX agent_sessions_application_idx ON public.agent_sessions (zone_id, application_id);
COMMENT ON TABLE public.agent_sessions IS
  'Running agent sessions acting for a principal; they expire (expires_at) and end with a status. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.agent_topology (
  zone_id                  uuid        NOT NULL REFERENCES public.zones (id),
  parent_agent_session_id  uuid        NOT NULL,
  child_agent_session_id   uuid        NOT NULL,
  relation                 text        NOT NULL DEFAULT 'spawned' CHECK (relation IN ('spawned', 'orchestrates', 'calls')),
  created_at               timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, parent_agent_session_id, child_agent_session_id),
  CHECK (parent_agent_session_id <> child_agent_session_id),
  FOREIGN KEY (zone_id, parent_agent_session_id) REFERENCES public.agent_sessions (zone_id, id) ON DELETE CASCADE,
  FOREIGN KEY (zone_id, child_agent_session_id) REFERENCES public.agent_sessions (zone_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_topology_child_idx ON public.agent_topology (zone_id, child_agent_session_id);
COMMENT ON TABLE public.agent_topology IS
  'Edges between agent sessions (which agent spawned or orchestrates which). Zone-scoped (fail-closed RLS).';

CREATE TABLE public.agent_services (
  id                uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id           uuid        NOT NULL REFERENCES public.zones (id),
  agent_session_id  uuid        NOT NULL,
  name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  protocol          text        NOT NULL CHECK (protocol IN ('mcp', 'a2a', 'http', 'grpc')),
  endpoint_uri      text        NOT NULL CHECK (length(endpoint_uri) BETWEEN 1 AND 2048),
  registered_at     timestamptz NOT NULL DEFAULT now(),
  last_seen_at      timestamptz,
  UNIQUE (zone_id, agent_session_id, name),
  UNIQUE (zone_id, id),
  FOREIGN KEY (zone_id, agent_session_id) REFERENCES public.agent_sessions (zone_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE public.agent_services IS
  'Services an agent session exposes to other agents (MCP, A2A, ...). Zone-scoped (fail-closed RLS).';

CREATE TABLE public.agent_invocations (
  id                       uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id                  uuid        NOT NULL REFERENCES public.zones (id),
  caller_agent_session_id  uuid        NOT NULL,
  agent_service_id         uuid        NOT NULL,
  delegation_edge_id       uuid,
  status                   text        NOT NULL DEFAULT 'started' CHECK (status IN ('started', 'succeeded', 'failed', 'denied')),
  request_id               text,
  error                    text,
  started_at               timestamptz NOT NULL DEFAULT now(),
  ended_at                 timestamptz,
  CHECK ((status = 'started') = (ended_at IS NULL)),
  FOREIGN KEY (zone_id, caller_agent_session_id) REFERENCES public.agent_sessions (zone_id, id),
  FOREIGN KEY (zone_id, agent_service_id) REFERENCES public.agent_services (zone_id, id)
);
CREATE INDEX agent_invocations_started_idx ON public.agent_invocations (zone_id, started_at);
CREATE INDEX agent_invocations_caller_idx ON public.agent_invocations (zone_id, caller_agent_session_id);
COMMENT ON TABLE public.agent_invocations IS
  'Calls of one agent session into another agent''s service, with outcome. Kept (no DELETE) as coordination history. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.delegation_graph_epochs (
  zone_id     uuid        NOT NULL REFERENCES public.zones (id),
  epoch       bigint      NOT NULL CHECK (epoch > 0),
  reason      text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (zone_id, epoch)
);
COMMENT ON TABLE public.delegation_graph_epochs IS
  'History of a zone''s delegation graph versions: the coordinator inserts epoch n+1 in the transaction that changes delegation_edges (the primary key makes concurrent bumps conflict instead of skipping); STS compares its cached epoch with max(epoch). Rows are never updated or deleted. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.delegation_edges (
  id                          uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id                     uuid        NOT NULL REFERENCES public.zones (id),
  -- NULL delegator agent = delegated directly by the human principal.
  delegator_agent_session_id  uuid,
  delegate_agent_session_id   uuid        NOT NULL,
  principal_subject           text        NOT NULL,
  parent_edge_id              uuid,
  scopes                      text[]      NOT NULL CHECK (cardinality(scopes) > 0),
  epoch                       bigint      NOT NULL,
  created_at                  timestamptz NOT NULL DEFAULT now(),
  expires_at                  timestamptz NOT NULL,
  revoked_at                  timestamptz,
  UNIQUE (zone_id, id),
  CHECK (delegator_agent_session_id IS DISTINCT FROM delegate_agent_session_id),
  CHECK (expires_at > created_at),
  FOREIGN KEY (zone_id, delegator_agent_session_id) REFERENCES public.agent_sessions (zone_id, id),
  FOREIGN KEY (zone_id, delegate_agent_session_id) REFERENCES public.agent_sessions (zone_id, id),
  FOREIGN KEY (zone_id, parent_edge_id) REFERENCES public.delegation_edges (zone_id, id),
  FOREIGN KEY (zone_id, epoch) REFERENCES public.delegation_graph_epochs (zone_id, epoch)
);
CREATE INDEX delegation_edges_delegate_idx ON public.delegation_edges (zone_id, delegate_agent_session_id) WHERE revoked_at IS NULL;
CREATE INDEX delegation_edges_parent_idx ON public.delegation_edges (zone_id, parent_edge_id) WHERE parent_edge_id IS NOT NULL;
COMMENT ON TABLE public.delegation_edges IS
  'Delegation chain from a principal through agent sessions, with scopes, expiry and the graph epoch it was created in. Revoked by revoked_at (never deleted) so revocation snapshots see it. Zone-scoped (fail-closed RLS).';

-- ---------------------------------------------------------------------------------------------
-- Operations
-- ---------------------------------------------------------------------------------------------
-- Outboxes: written in the transaction of the change they announce, dispatched to Redis Streams.
-- Dispatched rows stay (status 'dispatched', dispatched_at, stream_entry_id) so Redis can be
-- rebuilt from Postgres; dead rows stay for the "API outbox grows" troubleshooting row.
CREATE TABLE public.event_outbox (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone_id          uuid        NOT NULL REFERENCES public.zones (id),
  topic            text        NOT NULL CHECK (topic ~ '^[a-z0-9][a-z0-9_.:-]{0,127}$'),
  aggregate_type   text        NOT NULL,
  aggregate_id     text        NOT NULL,
  payload          jsonb       NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dispatched', 'dead')),
  attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  dispatched_at    timestamptz,
  stream_entry_id  text,
  dead_at          timestamptz,
  CHECK ((status = 'dispatched') = (dispatched_at IS NOT NULL)),
  CHECK ((status = 'dead') = (dead_at IS NOT NULL))
);
CREATE INDEX event_outbox_pending_idx ON public.event_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX event_outbox_dead_idx ON public.event_outbox (dead_at) WHERE status = 'dead';
CREATE INDEX event_outbox_dispatched_idx ON public.event_outbox (dispatched_at) WHERE status = 'dispatched';
COMMENT ON TABLE public.event_outbox IS
  'Product events the API writes in the transaction of the change, dispatched to Redis Streams (dispatcher polls event_outbox_pending_idx: status = pending ORDER BY next_attempt_at). Keeps attempts, last_error, dead-letter rows (status dead) and dispatched rows (dispatched_at, stream_entry_id) so Redis can be rebuilt. Payload never changes after insert (UPDATE is granted on the delivery columns only). Global: the dispatcher works across zones; zone_id routes.';

CREATE TABLE public.caracal_outbox (
  id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  zone_id          uuid        NOT NULL REFERENCES public.zones (id),
  stream           text        NOT NULL CHECK (stream IN ('propagation', 'invalidation', 'revocation')),
  message_key      text        NOT NULL,
  payload          jsonb       NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'dispatched', 'dead')),
  attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text,
  dispatched_at    timestamptz,
  stream_entry_id  text,
  dead_at          timestamptz,
  CHECK ((status = 'dispatched') = (dispatched_at IS NOT NULL)),
  CHECK ((status = 'dead') = (dead_at IS NOT NULL))
);
CREATE INDEX caracal_outbox_pending_idx ON public.caracal_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX caracal_outbox_dead_idx ON public.caracal_outbox (dead_at) WHERE status = 'dead';
CREATE INDEX caracal_outbox_dispatched_idx ON public.caracal_outbox (stream, dispatched_at) WHERE status = 'dispatched';
COMMENT ON TABLE public.caracal_outbox IS
  'Control-plane messages (propagation, invalidation, revocation) written by the API and the coordinator in the transaction of the change; dispatched to Redis Streams by the API''s dispatcher (polls caracal_outbox_pending_idx). Keeps attempts, last_error, dead-letter and dispatched rows so Redis streams can be rebuilt. Global: the dispatcher works across zones.';

CREATE TABLE public.gateway_binding_revision (
  zone_id     uuid        PRIMARY KEY REFERENCES public.zones (id),
  revision    bigint      NOT NULL DEFAULT 0 CHECK (revision >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE public.gateway_binding_revision IS
  'One row per zone: the revision of its gateway bindings, bumped by the API in the transaction that changes gateway_resource_bindings; gateways poll it to know when to reload. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.gateway_resource_bindings (
  id            uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id       uuid        NOT NULL REFERENCES public.zones (id),
  resource_id   uuid        NOT NULL,
  route         text        NOT NULL CHECK (length(route) BETWEEN 1 AND 1024),
  upstream_uri  text        NOT NULL CHECK (upstream_uri ~ '^[a-z][a-z0-9+.-]*://'),
  enabled       boolean     NOT NULL DEFAULT true,
  revision      bigint      NOT NULL CHECK (revision > 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (zone_id, route),
  FOREIGN KEY (zone_id, resource_id) REFERENCES public.resources (zone_id, id)
);
CREATE INDEX gateway_resource_bindings_revision_idx ON public.gateway_resource_bindings (zone_id, revision);
COMMENT ON TABLE public.gateway_resource_bindings IS
  'Routes the gateway serves for a resource, with the binding revision they changed in. Written by the API, read by the gateway. Zone-scoped (fail-closed RLS).';

CREATE TABLE public.resource_rate_limits (
  id              uuid        NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
  zone_id         uuid        NOT NULL REFERENCES public.zones (id),
  resource_id     uuid        NOT NULL,
  application_id  uuid,
  requests        integer     NOT NULL CHECK (requests > 0),
  window_seconds  integer     NOT NULL CHECK (window_seconds BETWEEN 1 AND 86400),
  burst           integer     NOT NULL DEFAULT 0 CHECK (burst >= 0),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE NULLS NOT DISTINCT (zone_id, resource_id, application_id),
  FOREIGN KEY (zone_id, resource_id) REFERENCES public.resources (zone_id, id) ON DELETE CASCADE,
  FOREIGN KEY (zone_id, application_id) REFERENCES public.applications (zone_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE public.resource_rate_limits IS
  'Durable rate-limit settings per resource (and optionally per application); the counters themselves live in Redis. Zone-scoped (fail-closed RLS).';

-- ---------------------------------------------------------------------------------------------
-- Fail-closed zone row-level security: ENABLE + FORCE (the owner is filtered too), one policy on
-- the session's zone context. No context (unset or '') = NULL = no rows visible and no writes.
-- ---------------------------------------------------------------------------------------------
DO $rls$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'providers', 'applications', 'resources', 'application_dependencies',
    'sessions', 'delegated_grants', 'provider_grants', 'step_up_challenges',
    'policies', 'policy_versions', 'policy_sets', 'policy_set_versions', 'policy_set_bindings',
    'audit_events',
    'agent_sessions', 'agent_topology', 'agent_services', 'agent_invocations', 'delegation_edges',
    'delegation_graph_epochs',
    'gateway_resource_bindings', 'gateway_binding_revision', 'resource_rate_limits'] LOOP
    EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format($p$CREATE POLICY zone_isolation ON public.%I AS PERMISSIVE FOR ALL TO PUBLIC
      USING (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)
      WITH CHECK (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)$p$, t);
  END LOOP;
END
$rls$;

-- ---------------------------------------------------------------------------------------------
-- Append-only and immutable tables: statement-level triggers, ENABLE ALWAYS.
-- audit_events also gets a row-level trigger, which Postgres clones onto every partition however
-- it is created, as a second line behind the per-partition statement trigger.
-- ---------------------------------------------------------------------------------------------
CREATE TRIGGER policy_versions_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON public.policy_versions
  FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation('immutable');
ALTER TABLE public.policy_versions ENABLE ALWAYS TRIGGER policy_versions_immutable;

CREATE TRIGGER policy_set_versions_immutable BEFORE UPDATE OR DELETE OR TRUNCATE ON public.policy_set_versions
  FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation('immutable');
ALTER TABLE public.policy_set_versions ENABLE ALWAYS TRIGGER policy_set_versions_immutable;

CREATE TRIGGER delegation_graph_epochs_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public.delegation_graph_epochs
  FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation('append-only');
ALTER TABLE public.delegation_graph_epochs ENABLE ALWAYS TRIGGER delegation_graph_epochs_append_only;

CREATE TRIGGER admin_audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public.admin_audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation('append-only');
ALTER TABLE public.admin_audit_events ENABLE ALWAYS TRIGGER admin_audit_events_append_only;

CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON public.audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation('append-only');
ALTER TABLE public.audit_events ENABLE ALWAYS TRIGGER audit_events_append_only;
CREATE TRIGGER audit_events_append_only_row BEFORE UPDATE OR DELETE ON public.audit_events
  FOR EACH ROW EXECUTE FUNCTION public.reject_mutation('append-only');
ALTER TABLE public.audit_events ENABLE ALWAYS TRIGGER audit_events_append_only_row;

-- ---------------------------------------------------------------------------------------------
-- Audit partitions
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION public.audit_partition_bounds()
  RETURNS TABLE (partition_name text, is_default boolean, lower_bound timestamptz, upper_bound timestamptz)
  LANGUAGE sql STABLE
  SET search_path = pg_catalog, pg_temp
AS $fn$
  SELECT c.relname::text,
         c.relpartbound IS NOT NULL AND pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT',
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\)'))[1]::timestamptz,
         (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'public.audit_events'::regclass
$fn$;
COMMENT ON FUNCTION public.audit_partition_bounds() IS
  'The partitions of public.audit_events with their bounds (the DEFAULT partition has none).';

-- Puts a partition (or a table about to become one) under the audit controls: RLS enabled and
-- forced with the zone policy, the append-only statement trigger ENABLE ALWAYS (and the cloned row
-- trigger, when attached), no privileges for PUBLIC or any service role, SELECT for backups only.
CREATE FUNCTION public.audit_partition_secure(part regclass)
  RETURNS void
  LANGUAGE plpgsql
  SET search_path = pg_catalog, public, pg_temp
AS $fn$
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', part);
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = part AND polname = 'zone_isolation') THEN
    EXECUTE format($p$CREATE POLICY zone_isolation ON %s AS PERMISSIVE FOR ALL TO PUBLIC
      USING (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)
      WITH CHECK (zone_id = NULLIF(current_setting('caracal.zone_id', true), '')::uuid)$p$, part);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = part AND tgname = 'audit_events_append_only') THEN
    EXECUTE format('CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %s
      FOR EACH STATEMENT EXECUTE FUNCTION public.reject_mutation(%L)', part, 'append-only');
  END IF;
  EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER audit_events_append_only', part);
  IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = part AND tgname = 'audit_events_append_only_row') THEN
    EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER audit_events_append_only_row', part);
  END IF;
  EXECUTE format('REVOKE ALL ON %s FROM PUBLIC, caracal_api, caracal_coordinator, caracal_audit, caracal_sts, caracal_gateway', part);
  EXECUTE format('GRANT SELECT ON %s TO caracal_backup', part);
END
$fn$;
COMMENT ON FUNCTION public.audit_partition_secure(regclass) IS
  'Applies the audit controls to one audit_events partition (RLS forced with the zone policy, append-only triggers ENABLE ALWAYS, no service-role privileges, backup SELECT). Idempotent.';

SELECT public.audit_partition_secure('public.audit_events_default');
-- The owner (maintenance functions, which run as caracal_owner) may read and, while the append-only
-- triggers are disabled inside audit_partitions_ensure's transaction, move rows out of the default
-- partition. Service roles have no privilege on any partition; queries through the parent use the
-- parent's zone policy only.
CREATE POLICY owner_maintenance_select ON public.audit_events_default FOR SELECT TO caracal_owner USING (true);
CREATE POLICY owner_maintenance_delete ON public.audit_events_default FOR DELETE TO caracal_owner USING (true);

CREATE FUNCTION public.audit_partitions_ensure(days_back integer DEFAULT 7, days_ahead integer DEFAULT 14)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, public, pg_temp
  SET lock_timeout = '5s'
AS $fn$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  d date;
  lo timestamptz;
  hi timestamptz;
  lo_txt text;
  hi_txt text;
  part text;
  moved bigint;
  created integer := 0;
BEGIN
  IF days_back IS NULL OR days_ahead IS NULL OR days_back < 0 OR days_ahead < 0 OR days_back + days_ahead > 1000 THEN
    RAISE EXCEPTION 'audit_partitions_ensure: days_back (%) and days_ahead (%) must be >= 0 and span at most 1000 days', days_back, days_ahead;
  END IF;
  -- One maintainer at a time (ensure and retention share the key). Waiting for the other one may
  -- take longer than a DDL lock wait should.
  PERFORM set_config('lock_timeout', '60s', true);
  PERFORM pg_advisory_xact_lock(hashtext('caracal.audit_partitions'));
  PERFORM set_config('lock_timeout', '5s', true);

  FOR i IN -days_back .. days_ahead LOOP
    d := today + i;
    lo_txt := to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00';
    hi_txt := to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00';
    lo := lo_txt::timestamptz;
    hi := hi_txt::timestamptz;
    CONTINUE WHEN EXISTS (
      SELECT 1 FROM public.audit_partition_bounds() b
      WHERE NOT b.is_default AND b.lower_bound < hi AND b.upper_bound > lo);

    part := 'audit_events_p' || to_char(d, 'YYYYMMDD');
    -- A standalone table first, with a CHECK matching the bounds, so ATTACH skips the validation
    -- scan and holds its lock (SHARE UPDATE EXCLUSIVE on the parent) only briefly.
    EXECUTE format('CREATE TABLE public.%I (LIKE public.audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE)', part);
    EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (ingested_at >= %L AND ingested_at < %L)',
                   part, part || '_bounds', lo_txt, hi_txt);

    -- Events that arrived while this day had no partition sit in the default partition and would
    -- make ATTACH fail: move them here first, in this locked transaction. The append-only triggers
    -- of the default partition are disabled only inside this transaction (nobody else sees it).
    IF to_regclass('public.audit_events_default') IS NOT NULL
       AND EXISTS (SELECT 1 FROM public.audit_events_default WHERE ingested_at >= lo AND ingested_at < hi) THEN
      ALTER TABLE public.audit_events_default DISABLE TRIGGER audit_events_append_only;
      ALTER TABLE public.audit_events_default DISABLE TRIGGER audit_events_append_only_row;
      EXECUTE format('WITH moved AS (DELETE FROM public.audit_events_default WHERE ingested_at >= $1 AND ingested_at < $2 RETURNING *)
                      INSERT INTO public.%I SELECT * FROM moved', part) USING lo, hi;
      GET DIAGNOSTICS moved = ROW_COUNT;
      ALTER TABLE public.audit_events_default ENABLE ALWAYS TRIGGER audit_events_append_only;
      ALTER TABLE public.audit_events_default ENABLE ALWAYS TRIGGER audit_events_append_only_row;
      RAISE NOTICE 'audit_partitions_ensure: moved % event(s) from audit_events_default into %', moved, part;
    END IF;

    PERFORM public.audit_partition_secure(format('public.%I', part)::regclass);
    EXECUTE format('COMMENT ON TABLE public.%I IS %L', part,
                   format('audit_events partition for ingest day %s (UTC). Created by audit_partitions_ensure.', to_char(d, 'YYYY-MM-DD')));
    EXECUTE format('ALTER TABLE public.audit_events ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', part, lo_txt, hi_txt);
    -- The row trigger was cloned by ATTACH; make sure it fires ALWAYS too. The CHECK is now redundant.
    PERFORM public.audit_partition_secure(format('public.%I', part)::regclass);
    EXECUTE format('ALTER TABLE public.%I DROP CONSTRAINT %I', part, part || '_bounds');
    created := created + 1;
  END LOOP;
  RETURN created;
END
$fn$;
COMMENT ON FUNCTION public.audit_partitions_ensure(integer, integer) IS
  'Creates the missing daily (UTC) audit_events partitions from days_back before to days_ahead after today; returns how many it created. Idempotent; serialized by a transaction-level advisory lock; DDL under lock_timeout 5s; create + CHECK + ATTACH so the parent is never held ACCESS EXCLUSIVE; moves matching rows out of the default partition. Run by the maintenance CronJob (and the baseline).';

CREATE FUNCTION public.audit_partition_health(days_ahead integer DEFAULT 7)
  RETURNS TABLE (check_name text, ok boolean, detail text)
  LANGUAGE plpgsql
  STABLE
  SECURITY DEFINER
  SET search_path = pg_catalog, public, pg_temp
AS $fn$
DECLARE
  today date := (now() AT TIME ZONE 'UTC')::date;
  missing text;
  gaps text;
  offenders text;
  n bigint;
  first_at timestamptz;
  last_at timestamptz;
BEGIN
  -- Day bounds are built as text in UTC, independent of the session's TimeZone and DateStyle.
  SELECT string_agg(to_char(today + i, 'YYYY-MM-DD'), ', ' ORDER BY i) INTO missing
  FROM generate_series(0, days_ahead) AS i
  WHERE NOT EXISTS (
    SELECT 1 FROM public.audit_partition_bounds() b
    WHERE NOT b.is_default
      AND b.lower_bound <= (to_char(today + i, 'YYYY-MM-DD') || ' 00:00:00+00')::timestamptz
      AND b.upper_bound >= (to_char(today + i + 1, 'YYYY-MM-DD') || ' 00:00:00+00')::timestamptz);
  check_name := 'future_partitions'; ok := missing IS NULL;
  detail := CASE WHEN missing IS NULL THEN format('today and the next %s day(s) have partitions', days_ahead)
                 ELSE 'missing day partitions: ' || missing || '; run public.audit_partitions_ensure()' END;
  RETURN NEXT;

  SELECT string_agg(format('%s .. %s', prev_upper, lower_bound), ', ') INTO gaps
  FROM (SELECT lower_bound, lag(upper_bound) OVER (ORDER BY lower_bound) AS prev_upper
        FROM public.audit_partition_bounds() WHERE NOT is_default) s
  WHERE prev_upper IS NOT NULL AND prev_upper <> lower_bound;
  check_name := 'no_gaps'; ok := gaps IS NULL;
  detail := coalesce('gaps between partitions: ' || gaps, 'partitions are contiguous');
  RETURN NEXT;

  SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO offenders
  FROM pg_class c
  WHERE (c.oid = 'public.audit_events'::regclass
         OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'public.audit_events'::regclass))
    AND NOT (c.relrowsecurity AND c.relforcerowsecurity
             AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'zone_isolation'));
  check_name := 'rls_forced'; ok := offenders IS NULL;
  detail := coalesce('without forced RLS and the zone policy: ' || offenders, 'RLS enabled and forced with the zone policy on the parent and every partition');
  RETURN NEXT;

  SELECT string_agg(c.relname, ', ' ORDER BY c.relname) INTO offenders
  FROM pg_class c
  WHERE (c.oid = 'public.audit_events'::regclass
         OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'public.audit_events'::regclass))
    AND (SELECT count(*) FROM pg_trigger t
         WHERE t.tgrelid = c.oid AND t.tgenabled = 'A'
           AND t.tgname IN ('audit_events_append_only', 'audit_events_append_only_row')) <> 2;
  check_name := 'append_only_triggers'; ok := offenders IS NULL;
  detail := coalesce('without both append-only triggers ENABLE ALWAYS: ' || offenders, 'append-only triggers ENABLE ALWAYS on the parent and every partition');
  RETURN NEXT;

  SELECT string_agg(DISTINCT c.relname || ' (' || r.rolname || ')', ', ') INTO offenders
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL aclexplode(c.relacl) a
  JOIN pg_roles r ON r.oid = a.grantee
  WHERE i.inhparent = 'public.audit_events'::regclass
    AND r.rolname IN ('caracal_api', 'caracal_coordinator', 'caracal_audit', 'caracal_sts', 'caracal_gateway');
  IF offenders IS NULL THEN
    SELECT string_agg(c.relname || ' (PUBLIC)', ', ') INTO offenders
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid CROSS JOIN LATERAL aclexplode(c.relacl) a
    WHERE i.inhparent = 'public.audit_events'::regclass AND a.grantee = 0;
  END IF;
  check_name := 'no_partition_privileges'; ok := offenders IS NULL;
  detail := coalesce('service roles hold privileges on partitions: ' || offenders, 'no service role holds privileges on any partition');
  RETURN NEXT;

  check_name := 'default_partition_empty';
  IF to_regclass('public.audit_events_default') IS NULL THEN
    ok := false;
    detail := 'audit_events has no DEFAULT partition: an event for a day without a partition would be rejected';
  ELSE
    SELECT count(*), min(ingested_at), max(ingested_at) INTO n, first_at, last_at FROM public.audit_events_default;
    ok := n = 0;
    detail := CASE WHEN n = 0 THEN 'the default partition is empty'
                   ELSE format('%s event(s) in audit_events_default, ingested %s .. %s: run public.audit_partitions_ensure(days_back => ...) covering those days to move them', n, first_at, last_at) END;
  END IF;
  RETURN NEXT;
END
$fn$;
COMMENT ON FUNCTION public.audit_partition_health(integer) IS
  'One row per audit partition check: future_partitions (today..+days_ahead), no_gaps, rls_forced, append_only_triggers, no_partition_privileges, default_partition_empty. ok=false rows say what to do.';

CREATE FUNCTION public.audit_partitions_apply_retention(retention_days integer DEFAULT 400)
  RETURNS integer
  LANGUAGE plpgsql
  SECURITY DEFINER
  SET search_path = pg_catalog, public, pg_temp
  SET lock_timeout = '5s'
AS $fn$
DECLARE
  cutoff timestamptz;
  exported timestamptz;
  sinks integer;
  r record;
  dropped integer := 0;
  refused integer := 0;
BEGIN
  IF retention_days IS NULL OR retention_days < 1 THEN
    RAISE EXCEPTION 'audit_partitions_apply_retention: retention_days must be >= 1 (got %)', retention_days;
  END IF;
  PERFORM set_config('lock_timeout', '60s', true);
  PERFORM pg_advisory_xact_lock(hashtext('caracal.audit_partitions'));
  PERFORM set_config('lock_timeout', '5s', true);

  cutoff := (to_char((now() AT TIME ZONE 'UTC')::date - retention_days, 'YYYY-MM-DD') || ' 00:00:00+00')::timestamptz;
  SELECT count(*), min(exported_through) INTO sinks, exported FROM public.audit_export_watermark;

  FOR r IN SELECT b.partition_name, b.lower_bound, b.upper_bound
           FROM public.audit_partition_bounds() b
           WHERE NOT b.is_default AND b.upper_bound <= cutoff
           ORDER BY b.lower_bound LOOP
    IF exported IS NULL OR r.upper_bound > exported THEN
      refused := refused + 1;
      RAISE WARNING 'audit retention: refusing to drop % (% .. %): not exported yet (lowest audit_export_watermark.exported_through: %, sinks: %)',
        r.partition_name, r.lower_bound, r.upper_bound, coalesce(exported::text, 'none'), sinks
        USING HINT = 'Export the partition and advance public.audit_export_watermark for every sink first.';
      CONTINUE;
    END IF;
    -- Dropping an expired, exported partition is the one sanctioned removal of audit rows. DROP
    -- fires no row or TRUNCATE trigger, so the append-only triggers stay enabled everywhere.
    EXECUTE format('DROP TABLE public.%I', r.partition_name);
    dropped := dropped + 1;
  END LOOP;
  IF refused > 0 THEN
    RAISE WARNING 'audit retention: % partition(s) past % days kept because they are not exported; % dropped', refused, retention_days, dropped;
    -- Also visible where operators look for audit problems: one open export_lag alert, refreshed.
    UPDATE public.audit_ingest_alerts
       SET occurrences = occurrences + 1, last_seen_at = now(), severity = 'warning',
           detail = format('retention kept %s expired partition(s) that are not exported (lowest watermark: %s)', refused, coalesce(exported::text, 'none'))
     WHERE kind = 'export_lag' AND source = 'audit' AND zone_id IS NULL AND resolved_at IS NULL;
    IF NOT FOUND THEN
      INSERT INTO public.audit_ingest_alerts (source, kind, severity, detail)
      VALUES ('audit', 'export_lag', 'warning',
              format('retention kept %s expired partition(s) that are not exported (lowest watermark: %s)', refused, coalesce(exported::text, 'none')));
    END IF;
  END IF;
  RETURN dropped;
END
$fn$;
COMMENT ON FUNCTION public.audit_partitions_apply_retention(integer) IS
  'Drops audit_events partitions wholly older than retention_days (UTC days) whose upper bound is covered by every sink''s audit_export_watermark; refuses otherwise (partition kept, a WARNING naming it, and one open export_lag row in audit_ingest_alerts). Returns how many it dropped. The only sanctioned removal of audit rows.';

REVOKE ALL ON FUNCTION public.audit_partition_bounds(), public.audit_partition_secure(regclass),
  public.audit_partitions_ensure(integer, integer), public.audit_partition_health(integer),
  public.audit_partitions_apply_retention(integer), public.reject_mutation() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.audit_partition_health(integer) TO caracal_audit;

-- ---------------------------------------------------------------------------------------------
-- Grants: exactly docs/access-matrix.md (S=SELECT I=INSERT U=UPDATE D=DELETE). New tables grant
-- PUBLIC nothing; TRUNCATE, REFERENCES and TRIGGER stay with the owner.
-- ---------------------------------------------------------------------------------------------

-- Product model
GRANT SELECT, INSERT, UPDATE ON public.zones TO caracal_api;
GRANT SELECT ON public.zones TO caracal_coordinator, caracal_sts, caracal_gateway;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.providers TO caracal_api;
GRANT SELECT ON public.providers TO caracal_sts;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.applications TO caracal_api;
GRANT SELECT ON public.applications TO caracal_coordinator, caracal_sts;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.resources TO caracal_api;
GRANT SELECT ON public.resources TO caracal_coordinator, caracal_sts, caracal_gateway;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.application_dependencies TO caracal_api;
GRANT SELECT ON public.application_dependencies TO caracal_sts;

-- Authority
GRANT SELECT, INSERT, UPDATE, DELETE ON public.sessions TO caracal_api;
GRANT SELECT ON public.sessions TO caracal_sts;
-- The gateway's revocation snapshot needs which sessions are revoked or expired, not token hashes.
GRANT SELECT (id, zone_id, subject, application_id, expires_at, revoked_at) ON public.sessions TO caracal_gateway;
GRANT SELECT, INSERT, UPDATE ON public.delegated_grants TO caracal_api;
GRANT SELECT ON public.delegated_grants TO caracal_sts, caracal_gateway;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.provider_grants TO caracal_api;
GRANT SELECT ON public.provider_grants TO caracal_sts;
GRANT SELECT, UPDATE, DELETE ON public.step_up_challenges TO caracal_api;
GRANT SELECT, INSERT, UPDATE ON public.step_up_challenges TO caracal_sts;

-- Policy
GRANT SELECT, INSERT, UPDATE ON public.policies TO caracal_api;
GRANT SELECT ON public.policies TO caracal_sts;
GRANT SELECT, INSERT ON public.policy_versions TO caracal_api;
GRANT SELECT ON public.policy_versions TO caracal_sts;
GRANT SELECT, INSERT, UPDATE ON public.policy_sets TO caracal_api;
GRANT SELECT ON public.policy_sets TO caracal_sts;
GRANT SELECT, INSERT ON public.policy_set_versions TO caracal_api;
GRANT SELECT ON public.policy_set_versions TO caracal_sts;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.policy_set_bindings TO caracal_api;
GRANT SELECT ON public.policy_set_bindings TO caracal_sts;

-- Audit (ingested_at is not insertable: always the server clock, which picks the partition)
GRANT SELECT ON public.audit_events TO caracal_audit;
GRANT INSERT (zone_id, event_id, occurred_at, source, event_type, actor, subject, decision, request_id,
              payload, hmac_key_id, payload_hmac) ON public.audit_events TO caracal_audit;
GRANT SELECT, INSERT, UPDATE ON public.audit_export_watermark TO caracal_audit;
GRANT SELECT, INSERT, UPDATE ON public.audit_ingest_alerts TO caracal_audit;
GRANT SELECT ON public.audit_ingest_alerts TO caracal_api;
GRANT SELECT ON public.admin_audit_events TO caracal_api, caracal_audit;
GRANT INSERT (admin_token_id, actor, action, zone_id, target_type, target_id, request_id, detail)
  ON public.admin_audit_events TO caracal_api;

-- Agents and delegation
GRANT SELECT, INSERT, UPDATE, DELETE ON public.agent_sessions, public.agent_topology, public.agent_services TO caracal_coordinator;
GRANT SELECT, INSERT, UPDATE ON public.agent_invocations, public.delegation_edges TO caracal_coordinator;
GRANT SELECT, INSERT ON public.delegation_graph_epochs TO caracal_coordinator;
GRANT SELECT ON public.agent_sessions, public.agent_topology, public.agent_services, public.agent_invocations,
  public.delegation_edges, public.delegation_graph_epochs TO caracal_api;
GRANT SELECT ON public.agent_sessions, public.delegation_edges, public.delegation_graph_epochs TO caracal_sts;

-- Operations (outbox payloads are immutable: UPDATE only on the delivery columns)
GRANT SELECT, INSERT ON public.event_outbox, public.caracal_outbox TO caracal_api;
GRANT UPDATE (status, attempts, next_attempt_at, last_error, dispatched_at, stream_entry_id, dead_at)
  ON public.event_outbox, public.caracal_outbox TO caracal_api;
GRANT INSERT (zone_id, stream, message_key, payload) ON public.caracal_outbox TO caracal_coordinator;
GRANT SELECT, INSERT ON public.admin_tokens TO caracal_api;
GRANT UPDATE (last_used_at, revoked_at) ON public.admin_tokens TO caracal_api;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.gateway_resource_bindings TO caracal_api;
GRANT SELECT ON public.gateway_resource_bindings TO caracal_gateway;
GRANT SELECT, INSERT, UPDATE ON public.gateway_binding_revision TO caracal_api;
GRANT SELECT ON public.gateway_binding_revision TO caracal_gateway;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.resource_rate_limits TO caracal_api;
GRANT SELECT ON public.resource_rate_limits TO caracal_gateway;

-- Backups read everything (BYPASSRLS), partitions included (pg_dump reads leaf partitions): every
-- table above got SELECT for caracal_backup from the default privileges set before it was created,
-- and so does every table caracal_owner creates later. Identity sequences do not take default
-- privileges, so they are granted here (a later migration adding an identity column does the same).
DO $sequences$
DECLARE
  seq regclass;
BEGIN
  FOR seq IN SELECT c.oid::regclass FROM pg_class c
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S' AND c.relowner = 'caracal_owner'::regrole LOOP
    EXECUTE format('GRANT SELECT ON SEQUENCE %s TO caracal_backup', seq);
  END LOOP;
END
$sequences$;

-- The rolling window exists from the first deploy.
SELECT public.audit_partitions_ensure();

RESET ROLE;
