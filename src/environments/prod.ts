// prod: managed Postgres sized by PGTune from the instance class, Redis in the cluster, credentials,
// keys and Redis passwords from the secret manager (External Secrets), state in an encrypted S3 bucket.
import type { EnvironmentSpec } from './schema';

export const prod: EnvironmentSpec = {
  name: 'prod',
  namespace: 'caracal',
  cluster: { kind: 'kubeconfig', configPath: '~/.kube/config', context: 'caracal-prod' },
  backend: {
    kind: 's3',
    bucket: 'caracal-terraform-state',
    key: 'stores/prod.tfstate',
    region: 'eu-west-1',
    encrypt: true,
    kmsKeyId: 'alias/caracal-terraform-state',
    dynamodbTable: 'caracal-terraform-locks',
  },
  postgres: {
    mode: 'external',
    host: 'caracal-prod.db.internal.example.com',
    port: 5432,
    database: 'caracal',
    sslMode: 'verify-full',
    caCertSecret: { secretName: 'caracal-db-ca', key: 'ca.crt' },
    instanceMemory: '32Gi',
    cpus: 8,
    capacity: { kind: 'resources', workload: 'oltp', storage: 'ssd' },
  },
  credentials: { kind: 'existing', secretPrefix: 'caracal-prod-db' },
  keyMaterial: { kind: 'existing', secretName: 'caracal-prod-keys' },
  pools: {
    api: { replicas: 3, maxReplicas: 8, poolMax: 15, resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '1Gi' } } },
    coordinator: { replicas: 3, maxReplicas: 4, poolMax: 10 },
    audit: { replicas: 3, maxReplicas: 6, poolMax: 10, statementTimeout: '60s' },
    sts: { replicas: 3, maxReplicas: 8, poolMax: 10, statementTimeout: '5s', idleInTransactionTimeout: '10s' },
    gateway: { replicas: 3, maxReplicas: 8, poolMax: 10, statementTimeout: '5s', idleInTransactionTimeout: '10s' },
  },
  redis: {
    resources: { requests: { cpu: '500m', memory: '4Gi' }, limits: { memory: '4Gi' } },
    storageSize: '20Gi',
    // The secret manager also builds the ACL Secret (caracal-prod-redis-acl) from RedisStreams.aclFileTemplate() with
    // { reloader: true }, and creates caracal-prod-redis-reloader (the ACL reloader's password) for live reload.
    // After it rotates a password, bump that user's version token (`rotation: { api: '...' }`) to roll its pods.
    passwords: { kind: 'existing', secretPrefix: 'caracal-prod-redis' },
  },
  // A month of partitions ahead: a broken CronJob has weeks before inserts fail.
  auditMaintenance: { schedule: '17 * * * *', retentionDays: 400, daysAhead: 30 },
};
