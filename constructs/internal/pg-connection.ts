// The PG* connection contract of every workload that reaches Postgres (the services, the migration Job, the audit
// maintenance CronJob): libpq's variables, the login's password as a file (PGPASSWORD_FILE, never a value), the CA
// certificate (or the system trust store), and the Secret volumes and mounts that put those files in place. Rendered
// here only, in the two shapes Kubernetes objects take: the API shape (Helm values, chart manifests) and the cdktf
// kubernetes provider's shape.
import type { PostgresEndpoint } from '../postgres-instance';
import type { ProviderVolume } from '../workload-values';

export interface PgEnvVar {
  readonly name: string;
  readonly value: string;
}

/** Where a Secret is mounted: the volume's name and directory; `file` mounts only one key under that file name. */
export interface PgSecretMount {
  readonly volume: string;
  readonly dir: string;
  readonly file?: string;
}

export interface PgConnectionSpec {
  readonly endpoint: PostgresEndpoint;
  /** The login: its role and the Secret key holding its password. */
  readonly login: { readonly username: string; readonly secretName: string; readonly passwordKey: string };
  /** The login Secret's mount. */
  readonly password: PgSecretMount;
  /** The CA Secret's mount, used when the endpoint names a CA certificate. */
  readonly ca: PgSecretMount;
  /** The workload's own variables (PGAPPNAME, PGCONNECT_TIMEOUT, ...), after the connection's and before PGSSLROOTCERT. */
  readonly extraEnv?: readonly PgEnvVar[];
}

/** A Secret volume in the Kubernetes API shape (Helm values, manifests). */
export interface ManifestSecretVolume {
  readonly name: string;
  readonly secret: {
    readonly secretName: string;
    readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }>;
    readonly defaultMode: number;
  };
}

/** A ConfigMap volume in the Kubernetes API shape. */
export interface ManifestConfigMapVolume {
  readonly name: string;
  readonly configMap: {
    readonly name: string;
    readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }>;
    readonly defaultMode: number;
  };
}

/** A file mode as the kubernetes provider takes it: an octal string (`'0440'` for 0o440). */
export function providerMode(mode: number): string {
  return `0${mode.toString(8)}`;
}

/**
 * A Secret or ConfigMap volume of the API shape in the cdktf kubernetes provider's shape (octal mode as a string;
 * fresh arrays the provider may keep): the one translation, for the constructs' own pods and for `serviceWorkload()`.
 */
export function providerVolume(v: ManifestSecretVolume | ManifestConfigMapVolume): ProviderVolume {
  const items = (list?: ReadonlyArray<{ readonly key: string; readonly path: string }>) =>
    list ? { items: list.map((i) => ({ key: i.key, path: i.path })) } : {};
  if ('secret' in v)
    return {
      name: v.name,
      secret: { secretName: v.secret.secretName, ...items(v.secret.items), defaultMode: providerMode(v.secret.defaultMode) },
    };
  return {
    name: v.name,
    configMap: { name: v.configMap.name, ...items(v.configMap.items), defaultMode: providerMode(v.configMap.defaultMode) },
  };
}

export interface PgVolumeMount {
  readonly name: string;
  readonly mountPath: string;
  readonly readOnly: true;
}

/** Passwords are readable by the pod's user and group only; a CA certificate is public. */
const PASSWORD_MODE = 0o440;
const CA_MODE = 0o444;

interface SecretVolume {
  readonly name: string;
  readonly secretName: string;
  readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }>;
  readonly mode: number;
}

/** One workload's connection to Postgres: env, volumes (the login's first, then the CA's) and mounts. */
export class PgConnection {
  /** PGHOST, PGPORT, PGDATABASE, PGUSER, PGSSLMODE, PGPASSWORD_FILE, the workload's own, then PGSSLROOTCERT. */
  readonly env: readonly PgEnvVar[];
  readonly mounts: readonly PgVolumeMount[];
  private readonly volumes: readonly SecretVolume[];

  constructor(spec: PgConnectionSpec) {
    const { endpoint, login } = spec;
    const fileIn = (m: PgSecretMount, key: string) => `${m.dir}/${m.file ?? key}`;
    const secretVolume = (m: PgSecretMount, secretName: string, key: string, mode: number): SecretVolume => ({
      name: m.volume,
      secretName,
      ...(m.file ? { items: [{ key, path: m.file }] } : {}),
      mode,
    });
    const env: PgEnvVar[] = [
      { name: 'PGHOST', value: endpoint.host },
      { name: 'PGPORT', value: String(endpoint.port) },
      { name: 'PGDATABASE', value: endpoint.database },
      { name: 'PGUSER', value: login.username },
      { name: 'PGSSLMODE', value: endpoint.sslMode },
      { name: 'PGPASSWORD_FILE', value: fileIn(spec.password, login.passwordKey) },
      ...(spec.extraEnv ?? []),
    ];
    const volumes = [secretVolume(spec.password, login.secretName, login.passwordKey, PASSWORD_MODE)];
    const ca = endpoint.caCertSecret;
    if (ca) {
      env.push({ name: 'PGSSLROOTCERT', value: fileIn(spec.ca, ca.key) });
      volumes.push(secretVolume(spec.ca, ca.secretName, ca.key, CA_MODE));
    } else if (endpoint.sslMode === 'verify-full') {
      // No CA given: verify against the image's system trust store (libpq 16+, and the runner), not ~/.postgresql/root.crt.
      env.push({ name: 'PGSSLROOTCERT', value: 'system' });
    }
    this.env = env;
    this.volumes = volumes;
    const mount = (m: PgSecretMount): PgVolumeMount => ({ name: m.volume, mountPath: m.dir, readOnly: true });
    this.mounts = ca ? [mount(spec.password), mount(spec.ca)] : [mount(spec.password)];
  }

  /** The variables as ConfigMap data (for `envFrom`). */
  envData(): Record<string, string> {
    return Object.fromEntries(this.env.map((e) => [e.name, e.value]));
  }

  /** The Secret volumes in the Kubernetes API shape (Helm values, chart manifests). */
  manifestVolumes(): ManifestSecretVolume[] {
    return this.volumes.map((v) => ({
      name: v.name,
      secret: { secretName: v.secretName, ...(v.items ? { items: v.items.map((i) => ({ ...i })) } : {}), defaultMode: v.mode },
    }));
  }

  /** The Secret volumes in the cdktf kubernetes provider's shape. */
  providerVolumes(): ProviderVolume[] {
    return this.manifestVolumes().map(providerVolume);
  }
}
