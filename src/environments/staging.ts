// staging: managed Postgres whose settings carry over from the Compose deployment, Redis in the cluster;
// state in HCP Terraform.
import type { EnvironmentSpec } from './schema';

export const staging: EnvironmentSpec = {
  name: 'staging',
  namespace: 'caracal-staging',
  cluster: { kind: 'kubeconfig', configPath: '~/.kube/config', context: 'caracal-staging' },
  backend: { kind: 'remote', organization: 'caracal', workspace: 'caracal-stores-staging' },
  postgres: {
    mode: 'external',
    host: 'caracal-staging.db.internal.example.com',
    port: 5432,
    database: 'caracal',
    sslMode: 'verify-full',
    caCertSecret: { secretName: 'caracal-db-ca', key: 'ca.crt' },
    instanceMemory: '8Gi',
    capacity: {
      kind: 'compose',
      env: {
        POSTGRES_MAX_CONNECTIONS: '200',
        POSTGRES_SHARED_BUFFERS: '2GB',
        POSTGRES_EFFECTIVE_CACHE_SIZE: '6GB',
        POSTGRES_WORK_MEM: '8MB',
        POSTGRES_LOG_MIN_DURATION_MS: '500',
      },
    },
  },
  credentials: { kind: 'generated' },
  keyMaterial: { kind: 'generated' },
  pools: {
    api: { replicas: 2, maxReplicas: 4, poolMax: 10 },
    coordinator: { replicas: 2, poolMax: 8 },
    audit: { replicas: 2, poolMax: 8, statementTimeout: '60s' },
    sts: { replicas: 2, maxReplicas: 4, poolMax: 8, statementTimeout: '5s' },
    gateway: { replicas: 2, maxReplicas: 4, poolMax: 8, statementTimeout: '5s' },
  },
  redis: {
    resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { memory: '1Gi' } },
    storageSize: '10Gi',
    passwords: { kind: 'generated' },
  },
  auditMaintenance: { schedule: '17 * * * *', retentionDays: 90 },
};
