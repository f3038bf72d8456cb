// AuditPartitionMaintenance: the CronJob's schedule and deadlines, the restricted pod, the password as a
// file, the egress-only NetworkPolicy, bad props. (Its command runs for real in test/integration/constructs.)
import { AuditPartitionMaintenance, AuditPartitionMaintenanceProps } from '../../../constructs/audit-partition-maintenance';
import { checkTerraformJson, formatViolations } from '../../support/pod-security';
import { Json, only, scope, synthScope } from '../../support/synth';

const MAINTENANCE = {
  login: 'maintenance' as const,
  username: 'caracal_dev_maintenance',
  groupRole: 'caracal_maintenance',
  secretName: 'caracal-db-maintenance',
  usernameKey: 'username',
  passwordKey: 'password',
  version: 'generated:32:0',
};
const OWNER = {
  ...MAINTENANCE,
  login: 'owner' as const,
  username: 'caracal_dev_owner',
  groupRole: 'caracal_owner',
  secretName: 'caracal-db-owner',
};
const ENDPOINT = { host: 'postgres.caracal-dev.svc.cluster.local', port: 5432, database: 'caracal', sslMode: 'disable' as const };
const base: AuditPartitionMaintenanceProps = { environment: 'dev', namespace: 'caracal-dev', login: MAINTENANCE, endpoint: ENDPOINT };

function synth(extra: Partial<AuditPartitionMaintenanceProps> = {}): { json: Json; text: string } {
  return synthScope((s) => new AuditPartitionMaintenance(s, 'audit-maintenance', { ...base, ...extra }));
}

describe('AuditPartitionMaintenance', () => {
  test('GIVEN defaults WHEN synthesized THEN the CronJob runs hourly in UTC, never concurrently, with starting and active deadlines and no restarts', () => {
    const spec = only(synth().json, 'kubernetes_cron_job_v1').spec;

    expect(spec).toMatchObject({
      schedule: '17 * * * *',
      timezone: 'Etc/UTC',
      concurrency_policy: 'Forbid',
      starting_deadline_seconds: 1800,
    });
    expect(spec.job_template.spec).toMatchObject({ active_deadline_seconds: 900, backoff_limit: 1 });
    expect(spec.job_template.spec.template.spec.restart_policy).toBe('Never');
  });

  test('GIVEN defaults WHEN the container is read THEN it runs psql from the pinned Postgres image as the maintenance login with the password file, search_path and lock/statement timeouts', () => {
    const c = only(synth().json, 'kubernetes_cron_job_v1').spec.job_template.spec.template.spec.container[0];
    const env = Object.fromEntries(c.env.map((e: Json) => [e.name, e.value]));

    expect(c.image).toMatch(/^docker\.io\/library\/postgres:\d+\.\d+-bookworm$/);
    expect(c.command[2]).toContain('exec psql');
    expect(env).toMatchObject({
      PGUSER: 'caracal_dev_maintenance',
      PGPASSWORD_FILE: '/var/run/secrets/caracal/maintenance/password',
      PGOPTIONS: '-c search_path=pg_catalog -c lock_timeout=5000 -c statement_timeout=600000 -c caracal.health_days_ahead=7',
      AUDIT_DAYS_AHEAD: '14',
      AUDIT_RETENTION_DAYS: '400',
    });
    expect(env.PGPASSWORD).toBeUndefined();
    expect(c.volume_mount.every((m: Json) => m.sub_path === undefined)).toBe(true);
  });

  test('GIVEN the synthesized pod WHEN checked against Pod Security "restricted" THEN there is no violation and the hardening holds', () => {
    const report = checkTerraformJson(synth().text);

    expect(report.pods).toHaveLength(1);
    expect(formatViolations(report.violations)).toBe('');
    expect(report.hardening).toEqual([]);
  });

  test('GIVEN an in-cluster database selector WHEN synthesized THEN egress goes to those pods on 5432 and to DNS only', () => {
    const np = only(synth({ databasePodSelector: { 'app.kubernetes.io/name': 'postgres' } }).json, 'kubernetes_network_policy_v1').spec;

    expect(np.policy_types).toEqual(['Ingress', 'Egress']);
    expect(np.ingress).toBeUndefined();
    expect(np.egress[0]).toEqual({
      to: [{ pod_selector: { match_labels: { 'app.kubernetes.io/name': 'postgres' } } }],
      ports: [{ port: '5432', protocol: 'TCP' }],
    });
    expect(np.egress[1].ports.map((p: Json) => p.port)).toEqual(['53', '53']);
  });

  test('GIVEN a CA certificate on the endpoint WHEN synthesized THEN it is mounted and PGSSLROOTCERT points at it', () => {
    const { json } = synth({ endpoint: { ...ENDPOINT, sslMode: 'verify-full', caCertSecret: { secretName: 'db-ca', key: 'ca.pem' } } });
    const pod = only(json, 'kubernetes_cron_job_v1').spec.job_template.spec.template.spec;

    expect(pod.container[0].env).toContainEqual({ name: 'PGSSLROOTCERT', value: '/var/run/secrets/caracal/db-ca/ca.pem' });
    expect(pod.volume).toContainEqual({ name: 'db-ca', secret: { secret_name: 'db-ca', default_mode: '0444' } });
  });

  test.each<[string, Partial<AuditPartitionMaintenanceProps>, RegExp]>([
    ['environment', { environment: 'PROD' }, /environment: "PROD" is not a valid environment name/],
    ['namespace', { namespace: 'a_b' }, /namespace: "a_b" is not a namespace/],
    ['name', { name: 'x'.repeat(60) }, /name: .* is not a CronJob name/],
    ['image', { image: 'postgres:latest' }, /image: "postgres:latest" is not a pinned image reference/],
    ['runAsUser', { runAsUser: 0 }, /runAsUser: 0 is not a non-root uid/],
    ['schedule', { schedule: 'every hour' }, /schedule: "every hour" is not a cron schedule/],
    ['timeZone', { timeZone: 'UTC+2 hours' }, /timeZone: .* is not an IANA time zone/],
    ['daysBack', { daysBack: -1 }, /daysBack: -1 is out of range/],
    ['daysAhead', { daysAhead: 0 }, /daysAhead: 0 is out of range/],
    ['healthDaysAhead > daysAhead', { healthDaysAhead: 20, daysAhead: 14 }, /healthDaysAhead: 20 exceeds daysAhead \(14\)/],
    ['retentionDays', { retentionDays: 0 }, /retentionDays: 0 is out of range/],
    ['retentionDays <= daysBack', { retentionDays: 5, daysBack: 7 }, /retentionDays: 5 is not beyond daysBack \(7\)/],
    ['lockTimeout', { lockTimeout: 'forever' as never }, /lockTimeout: "forever" is not a duration/],
    ['lockTimeout 0', { lockTimeout: '0s' }, /lockTimeout: "0s" is out of range/],
    ['lockTimeout without a unit', { lockTimeout: '5' as never }, /lockTimeout: "5" is not a duration/],
    [
      'statementTimeout beyond deadline',
      { statementTimeout: '2h', activeDeadline: '10min' },
      /statementTimeout: "2h" exceeds activeDeadline \(600s\)/,
    ],
    ['activeDeadline', { activeDeadline: '5s' }, /activeDeadline: "5s" is out of range/],
    ['startingDeadline', { startingDeadline: '0s' }, /startingDeadline: "0s" is out of range/],
    ['startingDeadline', { startingDeadline: '90.5s' }, /startingDeadline: "90.5s" is not a whole number of seconds/],
    ['backoffLimit', { backoffLimit: 99 }, /backoffLimit: 99 is out of range/],
    ['resources.limits.memory', { resources: { requests: { memory: '32Mi' } } }, /resources\.limits\.memory: undefined is required/],
    ['databasePodSelector', { databasePodSelector: {} }, /databasePodSelector: \{\} is an empty selector/],
    [
      'login (the owner login)',
      { login: OWNER },
      /login: "caracal_dev_owner" is a member of caracal_owner: expected the maintenance login \(a member of caracal_maintenance\)/,
    ],
  ])('GIVEN a bad %s WHEN constructed THEN a ValidationError names the prop', (_name, props, expected) => {
    expect(() => new AuditPartitionMaintenance(scope(), 'audit-maintenance', { ...base, ...props })).toThrow(expected);
  });
});
