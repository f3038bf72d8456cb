// ExternalPostgres: a database this library does not deploy (a managed service, or one run elsewhere), imported
// by its attributes with PostgresInstance.fromAttributes(): it implements IPostgresDatabase, so the pools, the
// migration Job, the CronJobs and the exporters reach it exactly as they reach the in-cluster instance. Nothing is
// deployed; the capacity renders the parameter map to put into the managed service's parameter group.
import { Construct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import { Problems } from './errors';
import * as rules from './internal/rules';
import { SSL_MODES, SslMode } from '../common/names';
import { PostgresCapacity, ResolvedCapacity } from './postgres-capacity';
import type { IPostgresDatabase, PostgresEndpoint } from './postgres-database';
import { AdmittingStore, ClientAdmission, ClientWorkload, admitClient } from './connections';
import { checkStackIdentity } from './internal/stack-identity';

/** A Secret key holding a PEM CA certificate. */
export interface CaCertSecretRef {
  readonly secretName: string;
  /** @default 'ca.crt' */
  readonly key?: string;
}

/** The attributes of an external database (PostgresInstance.fromAttributes). */
export interface ExternalPostgresProps {
  /** Host name of the managed database. */
  readonly host: string;
  /** @default 5432 */
  readonly port?: number;
  /** @default 'caracal' */
  readonly database?: string;
  /** @default 'verify-full' */
  readonly sslMode?: SslMode;
  /** CA certificate for `verify-ca` / `verify-full`. @default none (the system trust store) */
  readonly caCertSecret?: CaCertSecretRef;
  /** The settings to put into the managed service's parameter group. @default PostgresCapacity.of({}) */
  readonly capacity?: PostgresCapacity;
  /** Connections the pools need; max_connections is derived from it when not given. @default none */
  readonly requiredConnections?: number;
  /**
   * Memory of the managed instance, to check the capacity's memory budget: a Kubernetes quantity (`16Gi`, `16G`), as
   * the in-cluster instance's memory limit is. A Postgres-style `16GB` is refused with the hint `16Gi` or `16G`.
   * @default not checked
   */
  readonly instanceMemory?: string;
}

/** Every prop of ExternalPostgresProps: a key not among them (from JavaScript) is an error naming the closest. */
const PROPS = rules.keysOf<ExternalPostgresProps>({
  host: true,
  port: true,
  database: true,
  sslMode: true,
  caCertSecret: true,
  capacity: true,
  requiredConnections: true,
  instanceMemory: true,
});

export class ExternalPostgres extends Construct implements IPostgresDatabase {
  readonly mode = 'external' as const;
  readonly endpoint: PostgresEndpoint;
  readonly capacity: ResolvedCapacity;
  readonly parameters: Readonly<Record<string, string>>;
  readonly maxConnections: number;
  readonly reservedConnections: number;
  readonly connectionBudget: number;
  /** Outside the cluster: clients' egress goes to the port on any address (or the CIDRs they are given). */
  readonly podLabels = undefined;
  readonly readyResources: readonly ITerraformDependable[] = [];
  private readonly admitting: AdmittingStore;

  constructor(scope: Construct, id: string, props: ExternalPostgresProps) {
    super(scope, id);
    checkStackIdentity(this);
    const problems = new Problems(this.node.path);
    rules.knownKeys(problems, '', props, PROPS, 'ExternalPostgres prop');
    const p = props;
    const port = p.port ?? 5432;
    const database = p.database ?? 'caracal';
    const sslMode = p.sslMode ?? 'verify-full';
    rules.hostName(problems, 'host', p.host);
    rules.port(problems, 'port', port);
    rules.databaseName(problems, 'database', database);
    if (!SSL_MODES.includes(sslMode)) problems.add('sslMode', sslMode, `is not an sslmode: expected one of ${SSL_MODES.join(', ')}`);
    else if (['disable', 'allow', 'prefer'].includes(sslMode)) {
      problems.add(
        'sslMode',
        sslMode,
        'lets credentials cross the network unencrypted to a managed database: expected require, verify-ca or verify-full',
      );
    }
    if (p.caCertSecret) {
      rules.knownKeys(problems, 'caCertSecret', p.caCertSecret, ['secretName', 'key'], 'caCertSecret key');
      rules.secretName(problems, 'caCertSecret.secretName', p.caCertSecret.secretName);
      if (p.caCertSecret.key !== undefined) rules.secretKey(problems, 'caCertSecret.key', p.caCertSecret.key);
    }
    if (sslMode === 'verify-ca' && !p.caCertSecret)
      problems.add('caCertSecret', undefined, 'is required with sslMode verify-ca (there is no system trust store fallback for verify-ca)');
    let memoryLimitBytes: number | undefined;
    // A Kubernetes quantity, as the in-cluster instance's memory limit is: `16GB` gets the hint for `16Gi` or `16G`.
    if (p.instanceMemory !== undefined) memoryLimitBytes = rules.quantity(problems, 'instanceMemory', p.instanceMemory, '16Gi');
    if (p.requiredConnections !== undefined) rules.integer(problems, 'requiredConnections', p.requiredConnections, 1, 10000);
    this.capacity = (p.capacity ?? PostgresCapacity.of({})).resolve(
      { requiredConnections: p.requiredConnections, memoryLimitBytes, memoryLimitLabel: p.instanceMemory },
      problems,
    );
    problems.throwIfAny();
    this.endpoint = {
      host: p.host,
      port,
      database,
      sslMode,
      caCertSecret: p.caCertSecret ? { secretName: p.caCertSecret.secretName, key: p.caCertSecret.key ?? 'ca.crt' } : undefined,
    };
    this.parameters = this.capacity.settings;
    this.maxConnections = this.capacity.maxConnections;
    this.reservedConnections = this.capacity.superuserReservedConnections;
    this.connectionBudget = this.maxConnections - this.reservedConnections;
    this.admitting = { name: id, labels: {}, port };
  }

  /**
   * A client workload of ours that must reach the database: its egress rule to the port (any address: the database
   * is outside the cluster) and DNS. The database's own firewall is not this library's; `id` names the policy.
   */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission {
    return admitClient(this, id, this.admitting, client);
  }
}
