// AuditPartitionMaintenance: a CronJob that keeps the audit_events partition window (the schema's
// audit_partitions_ensure / audit_partitions_apply_retention / audit_partition_health_all) with psql from
// the pinned Postgres image, and fails (alerts) when health reports a problem on any partition. It runs as the
// environment's maintenance login (caracal_maintenance may execute those three functions and
// audit_partition_health, nothing else), never the owner.
import { Construct } from 'constructs';
import { ITerraformDependable } from 'cdktf';
import { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { cronRun, restrictedCronJob } from './internal/cron-job';
import { Problems } from './errors';
import { egressOnlyPolicy } from './internal/network-policy';
import { PgConnection } from './internal/pg-connection';
import { componentSelector, standardLabels } from './internal/labels';
import { restrictedContainerSecurityContext } from './internal/pod-security';
import * as rules from './internal/rules';
import type { Duration } from '../common/durations';
import type { LoginSecretRef } from './database-secrets';
import { MAINTENANCE_ROLE } from '../common/names';
import { DEFAULT_POSTGRES_IMAGE, POSTGRES_UID, PostgresEndpoint, ResourceRequirements } from './postgres-instance';
import { checkStackIdentity } from './internal/stack-identity';

/**
 * What the job runs. ensure -> retention -> health of every partition (audit_partition_health_all: the exporter's
 * audit_partition_health, on every scrape, looks at the window only), each call its own transaction (psql autocommit):
 * the functions serialize on one advisory lock, so a concurrent or repeated run waits and then finds
 * nothing to do; a missed run is covered by the window ahead. Health failing raises an error, and
 * ON_ERROR_STOP turns any error into psql exit code 3: the Job fails, which is the alert.
 * The password goes from the mounted file into PGPASSWORD inside the container only.
 */
export const MAINTENANCE_SCRIPT = `set -eu
PGPASSWORD="$(cat "$PGPASSWORD_FILE")"
export PGPASSWORD
exec psql --no-psqlrc --quiet --no-align --tuples-only -v ON_ERROR_STOP=1 \\
  -v days_back="$AUDIT_DAYS_BACK" -v days_ahead="$AUDIT_DAYS_AHEAD" \\
  -v retention_days="$AUDIT_RETENTION_DAYS" -v health_days_ahead="$AUDIT_HEALTH_DAYS_AHEAD" <<'SQL'
SELECT 'audit partitions created: ' || public.audit_partitions_ensure(:days_back, :days_ahead);
SELECT 'audit partitions dropped by retention: ' || public.audit_partitions_apply_retention(:retention_days);
SELECT format('health %s %s: %s', check_name, CASE WHEN ok THEN 'ok' ELSE 'FAILED' END, detail)
  FROM public.audit_partition_health_all(:health_days_ahead) ORDER BY ok, check_name;
DO $health$
DECLARE failed text;
BEGIN
  SELECT string_agg(check_name || ': ' || detail, '; ' ORDER BY check_name) INTO failed
    FROM public.audit_partition_health_all(current_setting('caracal.health_days_ahead')::integer) WHERE NOT ok;
  IF failed IS NOT NULL THEN
    RAISE EXCEPTION 'audit partition health failed: %', failed;
  END IF;
END
$health$;
SQL
`;

export interface AuditPartitionMaintenanceProps {
  /** Environment name (labels). */
  readonly environment: string;
  /** Namespace of the CronJob (where the login's Secret is). */
  readonly namespace: string;
  /** Where the database is. */
  readonly endpoint: PostgresEndpoint;
  /**
   * The maintenance login (`caracal_<env>_maintenance`, a member of caracal_maintenance, created by the migration
   * Job); its Secret is mounted as a file. Not the owner login: that one can switch off every integrity control.
   */
  readonly login: LoginSecretRef;
  /** Image with psql, pinned. @default the Postgres image of PostgresInstance */
  readonly image?: string;
  /** uid of the image's user. @default 999 */
  readonly runAsUser?: number;
  /** Cron schedule. @default '17 * * * *' (hourly) */
  readonly schedule?: string;
  /** Time zone of the schedule. @default 'Etc/UTC' */
  readonly timeZone?: string;
  /** Days of partitions kept behind today (created if missing). @default 7 */
  readonly daysBack?: number;
  /** Days of partitions created ahead of today. @default 14 */
  readonly daysAhead?: number;
  /** Days ahead health requires to exist (must not exceed daysAhead). @default 7 */
  readonly healthDaysAhead?: number;
  /** Partitions older than this many days are dropped, but only once exported (audit_export_watermark). @default 400 */
  readonly retentionDays?: number;
  /** lock_timeout of the session (the functions set 5s for their DDL themselves). @default '5s' */
  readonly lockTimeout?: Duration;
  /** statement_timeout of the session. @default '10min' */
  readonly statementTimeout?: Duration;
  /** Kill a run after this long (whole seconds). @default '15min' */
  readonly activeDeadline?: Duration;
  /** A run that could not start within this long of its schedule is skipped (the next one catches up; whole seconds). @default '30min' */
  readonly startingDeadline?: Duration;
  /** Retries of a failed run. @default 1 */
  readonly backoffLimit?: number;
  /** @default requests 10m/32Mi, limits memory 64Mi */
  readonly resources?: ResourceRequirements;
  /** Name of the CronJob. @default 'caracal-audit-partition-maintenance' */
  readonly name?: string;
  /**
   * Pod selector of an in-cluster database: egress is then allowed to it only (plus DNS).
   * @default none: egress to the endpoint's port on any address (a managed database)
   */
  readonly databasePodSelector?: Readonly<Record<string, string>>;
  /** Resources the CronJob is created after (the database, the migration Job). @default none */
  readonly dependsOn?: ITerraformDependable[];
}

/** Every prop of AuditPartitionMaintenanceProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<AuditPartitionMaintenanceProps>({
  environment: true,
  namespace: true,
  endpoint: true,
  login: true,
  image: true,
  runAsUser: true,
  schedule: true,
  timeZone: true,
  daysBack: true,
  daysAhead: true,
  healthDaysAhead: true,
  retentionDays: true,
  lockTimeout: true,
  statementTimeout: true,
  activeDeadline: true,
  startingDeadline: true,
  backoffLimit: true,
  resources: true,
  name: true,
  databasePodSelector: true,
  dependsOn: true,
});

export class AuditPartitionMaintenance extends Construct {
  /** Labels of the job's pods: admit them in the database's NetworkPolicy. */
  static podSelector(environment: string): Record<string, string> {
    return componentSelector(`caracal-${environment}`, 'audit-partition-maintenance');
  }

  readonly cronJob: CronJobV1;
  readonly podSelector: Readonly<Record<string, string>>;
  readonly name: string;

  constructor(scope: Construct, id: string, props: AuditPartitionMaintenanceProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'AuditPartitionMaintenance prop');
    const name = props.name ?? 'caracal-audit-partition-maintenance';
    const image = props.image ?? DEFAULT_POSTGRES_IMAGE;
    const daysBack = props.daysBack ?? 7;
    const daysAhead = props.daysAhead ?? 14;
    const healthDaysAhead = props.healthDaysAhead ?? 7;
    const retentionDays = props.retentionDays ?? 400;
    const lockTimeout = props.lockTimeout ?? '5s';
    const statementTimeout = props.statementTimeout ?? '10min';
    const resources = props.resources ?? { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '64Mi' } };

    rules.environmentName(problems, 'environment', props.environment);
    rules.namespace(problems, 'namespace', props.namespace);
    // Kubernetes adds 11 characters to a CronJob's name for its Jobs, within the 63 of a label.
    rules.dnsLabel(problems, 'name', name, 'CronJob name', 52);
    rules.pinnedImage(problems, 'image', image);
    const run = cronRun(problems, props, {
      runAsUser: POSTGRES_UID,
      schedule: '17 * * * *',
      activeDeadline: '15min',
      startingDeadline: '30min',
    });
    const activeDeadline = run.activeDeadlineSeconds;
    const int = (field: string, v: number, min: number, max: number) => rules.integer(problems, field, v, min, max);
    int('daysBack', daysBack, 0, 366);
    int('daysAhead', daysAhead, 1, 366);
    int('healthDaysAhead', healthDaysAhead, 0, 366);
    if (Number.isInteger(healthDaysAhead) && Number.isInteger(daysAhead) && healthDaysAhead > daysAhead) {
      problems.add(
        'healthDaysAhead',
        healthDaysAhead,
        `exceeds daysAhead (${daysAhead}): health would require partitions the job never creates`,
      );
    }
    int('retentionDays', retentionDays, 1, 36500);
    if (Number.isInteger(retentionDays) && Number.isInteger(daysBack) && retentionDays <= daysBack) {
      problems.add('retentionDays', retentionDays, `is not beyond daysBack (${daysBack}): the job would drop partitions it just created`);
    }
    const lockMs = rules.duration(problems, 'lockTimeout', lockTimeout, {
      minMs: 100,
      maxMs: 600_000,
      accepted: '100ms to 10min (0 would wait forever)',
    });
    const statementMs = rules.duration(problems, 'statementTimeout', statementTimeout, {
      minMs: 100,
      maxMs: 86_400_000,
      accepted: '100ms to 1440min (0 would wait forever)',
    });
    if (statementMs !== undefined && statementMs > activeDeadline * 1000) {
      problems.add(
        'statementTimeout',
        statementTimeout,
        `exceeds activeDeadline (${activeDeadline}s): the pod would be killed mid-statement instead of the statement being cancelled`,
      );
    }
    rules.resources(problems, 'resources', resources, { limitRequired: 'expected a quantity such as 64Mi', example: '64Mi' });
    if (props.databasePodSelector !== undefined)
      rules.podSelector(problems, 'databasePodSelector', props.databasePodSelector, "the database pods' labels");
    rules.loginOf(
      problems,
      'login',
      props.login,
      MAINTENANCE_ROLE,
      'the maintenance login',
      'the owner login could switch off every integrity control',
    );
    problems.throwIfAny();

    this.name = name;
    this.podSelector = AuditPartitionMaintenance.podSelector(props.environment);
    const labels = {
      ...standardLabels({
        name: 'caracal-audit-partition-maintenance',
        instance: `caracal-${props.environment}`,
        component: 'audit-partition-maintenance',
      }),
      ...this.podSelector,
    };
    // The maintenance login's connection (PGPASSWORD_FILE on its Secret, the CA or the system trust store): the one PG* contract.
    const connection = new PgConnection({
      endpoint: props.endpoint,
      login: props.login,
      password: { volume: 'login-credentials', dir: '/var/run/secrets/caracal/maintenance' },
      ca: { volume: 'db-ca', dir: '/var/run/secrets/caracal/db-ca' },
      extraEnv: [
        { name: 'PGCONNECT_TIMEOUT', value: '10' },
        { name: 'PGAPPNAME', value: name },
        // caracal.health_days_ahead is read by the health DO block (psql variables do not reach inside $$).
        {
          name: 'PGOPTIONS',
          // search_path: the script's own unqualified calls resolve in pg_catalog only.
          value: `-c search_path=pg_catalog -c lock_timeout=${lockMs} -c statement_timeout=${statementMs} -c caracal.health_days_ahead=${healthDaysAhead}`,
        },
        { name: 'AUDIT_DAYS_BACK', value: String(daysBack) },
        { name: 'AUDIT_DAYS_AHEAD', value: String(daysAhead) },
        { name: 'AUDIT_RETENTION_DAYS', value: String(retentionDays) },
        { name: 'AUDIT_HEALTH_DAYS_AHEAD', value: String(healthDaysAhead) },
      ],
    });

    const sec = { runAsUser: run.runAsUser };
    this.cronJob = restrictedCronJob(this, 'cron-job', {
      dependsOn: props.dependsOn,
      name,
      namespace: props.namespace,
      labels,
      ...run,
      containers: [
        {
          name: 'psql',
          image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', MAINTENANCE_SCRIPT],
          env: connection.env.map((e) => ({ ...e })),
          resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
          securityContext: restrictedContainerSecurityContext({ ...sec, readOnlyRootFilesystem: true }),
          volumeMount: connection.mounts.map((m) => ({ ...m })),
        },
      ],
      volumes: connection.providerVolumes(),
    });

    // Egress to the database and DNS only; nothing may connect to the job.
    egressOnlyPolicy(this, 'network-policy', {
      name,
      namespace: props.namespace,
      labels,
      podSelector: { ...this.podSelector },
      database: { port: props.endpoint.port, pods: props.databasePodSelector && { ...props.databasePodSelector } },
    });
  }
}
