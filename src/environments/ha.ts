// ha: highly available Postgres in the cluster through CloudNativePG (three instances, one per node, automated
// failover, WAL archived and base backups to S3 through the Barman Cloud plugin), Redis in the cluster; state in S3.
import type { EnvironmentSpec } from './schema';

export const ha: EnvironmentSpec = {
  name: 'ha',
  namespace: 'caracal-ha',
  cluster: { kind: 'kubeconfig', configPath: '~/.kube/config', context: 'caracal-ha' },
  backend: { kind: 's3', bucket: 'caracal-terraform-state', key: 'stores/ha.tfstate', region: 'eu-west-1', encrypt: true },
  postgres: {
    mode: 'cloudnative-pg',
    instances: 3,
    storageSize: '50Gi',
    walStorageSize: '10Gi',
    resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { cpu: '2', memory: '4Gi' } },
    capacity: { kind: 'resources', workload: 'oltp', storage: 'ssd' },
    parameters: { idle_in_transaction_session_timeout: '60s' },
    backup: {
      destinationPath: 's3://caracal-ha-postgres-backups/ha/',
      credentialsSecret: { name: 'caracal-ha-backup-s3' },
      schedule: '0 3 * * *',
      retention: '30d',
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
