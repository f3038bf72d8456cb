// dev: a local cluster (kind), Postgres and Redis in the cluster, small pools, local state.
import type { EnvironmentSpec } from './schema';

export const dev: EnvironmentSpec = {
  name: 'dev',
  namespace: 'caracal-dev',
  cluster: { kind: 'kubeconfig', configPath: '~/.kube/config', context: 'kind-caracal' },
  backend: { kind: 'local', path: 'terraform.dev.tfstate' },
  postgres: {
    mode: 'in-cluster',
    major: 18,
    dataVolumeMajor: 18,
    storageSize: '10Gi',
    resources: { requests: { cpu: '250m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } },
    capacity: { kind: 'resources', workload: 'oltp', storage: 'ssd' },
  },
  credentials: { kind: 'generated' },
  keyMaterial: { kind: 'generated' },
  pools: {
    api: { replicas: 1, poolMax: 5 },
    coordinator: { replicas: 1, poolMax: 5 },
    audit: { replicas: 1, poolMax: 5 },
    sts: { replicas: 1, poolMax: 5 },
    gateway: { replicas: 1, poolMax: 5 },
  },
  redis: {
    resources: { requests: { cpu: '50m', memory: '256Mi' }, limits: { memory: '256Mi' } },
    storageSize: '2Gi',
    passwords: { kind: 'generated' },
  },
  // No export sink in dev: retention keeps every partition (it drops only exported ones) and says so.
  auditMaintenance: { schedule: '17 * * * *', retentionDays: 30 },
};
