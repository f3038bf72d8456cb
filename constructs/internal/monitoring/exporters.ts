// How the two exporters are run: redis_exporter's arguments (the exporter ACL user, XINFO on exactly Caracal's
// streams, no key scans) and postgres_exporter's arguments and connection variables (lib/pq's DATA_SOURCE_* with the
// password from a file). Used by the construct and by the tests that run the real exporters (Debian's
// prometheus-postgres-exporter and prometheus-redis-exporter, the pinned versions).
import { STREAMS } from '../../../common/redis-streams';

/** The exporter images, pinned to the versions the tests run (Debian bookworm's packages). */
export const POSTGRES_EXPORTER_IMAGE = 'quay.io/prometheuscommunity/postgres-exporter:v0.11.1';
export const REDIS_EXPORTER_IMAGE = 'docker.io/oliver006/redis_exporter:v1.45.0';
export const POSTGRES_EXPORTER_PORT = 9187;
export const REDIS_EXPORTER_PORT = 9121;

export interface RedisExporterOptions {
  /** redis://host:port of the Redis the exporter watches. */
  readonly redisUri: string;
  /** @default REDIS_EXPORTER_PORT on every interface */
  readonly listenAddress?: string;
}

/**
 * redis_exporter's arguments. It logs in as the `exporter` ACL user; the password comes from REDIS_PASSWORD, which
 * the construct fills from the user's Secret (valueFrom.secretKeyRef: never a literal in the manifest). Its other
 * option, --redis.password-file, wants a JSON map of URIs to passwords that an existing Secret does not hold.
 */
export function redisExporterArgs(o: RedisExporterOptions): string[] {
  return [
    `--redis.addr=${o.redisUri}`,
    '--redis.user=exporter',
    // The streams by name: no SCAN over the keyspace, which the exporter user may not run.
    `--check-single-streams=${Object.values(STREAMS).join(',')}`,
    '--include-system-metrics=false',
    `--web.listen-address=${o.listenAddress ?? `:${REDIS_EXPORTER_PORT}`}`,
  ];
}

/** The environment variable redis_exporter reads the exporter user's password from. */
export const REDIS_EXPORTER_PASSWORD_ENV = 'REDIS_PASSWORD';

export interface PostgresExporterOptions {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** libpq sslmode; postgres_exporter's lib/pq knows disable, require, verify-ca and verify-full. */
  readonly sslMode: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  /** CA file for verify-ca / verify-full. */
  readonly rootCertFile?: string;
  readonly user: string;
  readonly passwordFile: string;
  readonly queryFile: string;
  /** @default POSTGRES_EXPORTER_PORT on every interface */
  readonly listenAddress?: string;
}

export function postgresExporterArgs(o: Pick<PostgresExporterOptions, 'queryFile' | 'listenAddress'>): string[] {
  return [
    `--extend.query-path=${o.queryFile}`,
    // Its bgwriter collector reads pg_stat_bgwriter's checkpoint columns, which Postgres 17 moved to
    // pg_stat_checkpointer: on 17+ it fails every scrape. The custom queries and the default metrics cover the rest.
    '--no-collector.bgwriter',
    `--web.listen-address=${o.listenAddress ?? `:${POSTGRES_EXPORTER_PORT}`}`,
  ];
}

/** DATA_SOURCE_URI (no password), DATA_SOURCE_USER and DATA_SOURCE_PASS_FILE: the password stays in its file. */
export function postgresExporterEnv(o: PostgresExporterOptions): Record<string, string> {
  const params = new URLSearchParams({ sslmode: o.sslMode });
  if (o.rootCertFile) params.set('sslrootcert', o.rootCertFile);
  return {
    DATA_SOURCE_URI: `${o.host}:${o.port}/${o.database}?${params.toString()}`,
    DATA_SOURCE_USER: o.user,
    DATA_SOURCE_PASS_FILE: o.passwordFile,
  };
}
