// IPostgresDatabase: "a Postgres database the services can reach", the way aws-rds has IDatabaseInstance. The
// in-cluster PostgresInstance implements it, so does the CloudNativePG CloudNativePgCluster, and so does a database
// imported with PostgresInstance.fromAttributes() (a managed or otherwise external one). Everything that connects
// (ServicePools, MigrationJob, the maintenance CronJob, the exporters, CaracalStores) takes this interface, never a
// concrete class.
import type { IConstruct } from 'constructs';
import type { ITerraformDependable } from 'cdktf';
import type { ClientAdmission, ClientWorkload } from './connections';
import type { SslMode } from '../common/names';
import type { ResolvedCapacity } from './postgres-capacity';

/** How clients reach the database: the same shape for in-cluster and external instances. */
export interface PostgresEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslMode: SslMode;
  /** CA certificate clients verify the server with (`verify-ca` / `verify-full`). */
  readonly caCertSecret?: { readonly secretName: string; readonly key: string };
}

export interface IPostgresDatabase extends IConstruct {
  /**
   * `in-cluster` (a StatefulSet of this library), `cloudnative-pg` (a CloudNativePG Cluster of this library) or
   * `external` (imported: nothing is deployed for it).
   */
  readonly mode: 'in-cluster' | 'cloudnative-pg' | 'external';
  /** Where clients connect: host, port, database, sslMode and the CA certificate Secret. */
  readonly endpoint: PostgresEndpoint;
  /** The resolved server settings. */
  readonly capacity: ResolvedCapacity;
  /** Server settings by name (for a managed database: its parameter group). */
  readonly parameters: Readonly<Record<string, string>>;
  /** max_connections the server runs with. */
  readonly maxConnections: number;
  /** superuser_reserved_connections, which no client login may use. */
  readonly reservedConnections: number;
  /** The connection budget: connections the clients' logins may open (max_connections - superuser_reserved_connections). */
  readonly connectionBudget: number;
  /** Labels of the database's pods, for the clients' egress rules; undefined outside the cluster. */
  readonly podLabels?: Readonly<Record<string, string>> | undefined;
  /** What must exist before anything connects (for depends_on): the StatefulSet (or the Cluster's release) and its NetworkPolicy; empty when external. */
  readonly readyResources: readonly ITerraformDependable[];
  /**
   * Admits one more client workload (by pod selector) besides the defaults, which are always admitted: the
   * database's ingress rule (in the cluster) and the client's egress rule (unless `egress: false`).
   */
  allowFrom(id: string, client: ClientWorkload): ClientAdmission;
}
