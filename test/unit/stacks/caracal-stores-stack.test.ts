// The stack: providers bound to the environment's explicit cluster, its backend, the stores and the outputs.
import { CaracalStoresStack } from '../../../src/stacks/caracal-stores-stack';
import { loadEnvironments, EnvironmentSpec } from '../../../src/environments';
import { dev } from '../../../src/environments/dev';
import { prod } from '../../../src/environments/prod';
import { buildApp } from '../../../src/stacks/app';
import { Json, only, resources, synthStack } from '../../support/synth';

const envs = Object.fromEntries(loadEnvironments().map((e) => [e.name, e]));
const synthEnv = (env: EnvironmentSpec): Json => synthStack((app) => new CaracalStoresStack(app, env.name, env)).json;

describe('CaracalStoresStack', () => {
  it('binds kubernetes and helm providers to the environment\'s named kubeconfig context', () => {
    const json = synthEnv(envs.staging);
    expect(json.provider.kubernetes).toEqual([{ config_path: '~/.kube/config', config_context: 'caracal-staging' }]);
    expect(json.provider.helm).toEqual([{ kubernetes: { config_path: '~/.kube/config', config_context: 'caracal-staging' } }]);
    expect(json.provider.random).toEqual([{}]);
  });

  it('binds the providers to an API host with an exec credential plugin', () => {
    const exec = { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'caracal'] };
    const json = synthEnv({ ...dev, cluster: { kind: 'host', host: 'https://k8s.example.com', clusterCaCertificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', exec } });
    expect(json.provider.kubernetes[0]).toMatchObject({ host: 'https://k8s.example.com', exec: [{ api_version: exec.apiVersion, command: 'aws', args: exec.args }] });
    expect(json.provider.helm[0].kubernetes).toMatchObject({ host: 'https://k8s.example.com', exec: { command: 'aws' } });
  });

  it('keeps dev state local and staging/prod state remote and encrypted', () => {
    expect(synthEnv(envs.dev).terraform.backend).toEqual({ local: { path: 'terraform.dev.tfstate' } });
    expect(synthEnv(envs.staging).terraform.backend.remote).toMatchObject({ organization: 'caracal', workspaces: { name: 'caracal-stores-staging' } });
    expect(synthEnv(envs.prod).terraform.backend.s3).toMatchObject({ bucket: 'caracal-terraform-state', encrypt: true, kms_key_id: 'alias/caracal-terraform-state' });
  });

  it('runs Postgres in the cluster for dev and deploys none for the managed environments', () => {
    expect(only(synthEnv(envs.dev), 'kubernetes_stateful_set_v1').metadata.namespace).toBe('caracal-dev');
    expect(resources(synthEnv(envs.staging), 'kubernetes_stateful_set_v1')).toEqual({});
    expect(resources(synthEnv(envs.prod), 'kubernetes_stateful_set_v1')).toEqual({});
  });

  it('outputs the managed parameter map, with max_connections derived from the pools', () => {
    const json = synthEnv(envs.prod);
    const params = json.output.postgres_parameters.value;
    expect(params).toMatchObject({ shared_buffers: '8GB', effective_cache_size: '24GB', huge_pages: 'off' });
    const budget = json.output.connection_budget.value;
    expect(Number(params.max_connections)).toBe(budget.max_connections);
    expect(budget.required).toBeLessThanOrEqual(budget.max_connections);
  });

  it('outputs what the services\' release needs: endpoint, Secret and ConfigMap names, role settings, Helm values', () => {
    const out = synthEnv(envs.staging).output;
    expect(out.postgres_endpoint.value).toEqual({ host: 'caracal-staging.db.internal.example.com', port: 5432, database: 'caracal', sslmode: 'verify-full' });
    expect(out.login_secrets.value.api).toBe('caracal-db-api');
    expect(out.service_config_maps.value.audit).toBe('caracal-audit-db');
    expect(out.role_settings.value).toContainEqual({ role: 'caracal_staging_sts', settings: { statement_timeout: '5000', idle_in_transaction_session_timeout: '60000' } });
    expect(out.service_helm_values.value.api.envFrom).toEqual([{ configMapRef: { name: 'caracal-api-db' } }]);
  });

  it('uses the existing Secrets prod names instead of generating any', () => {
    const json = synthEnv(envs.prod);
    expect(resources(json, 'random_password')).toEqual({});
    expect(resources(json, 'random_bytes')).toEqual({});
    expect(json.output.login_secrets.value.owner).toBe('caracal-prod-db-owner');
    expect(json.output.key_material_secret.value.name).toBe('caracal-prod-keys');
  });

  it('reports the construct problems of every environment in one error', () => {
    // GIVEN dev whose Postgres memory cannot hold its settings, and prod whose pools exceed max_connections
    const badDev: EnvironmentSpec = { ...dev, postgres: { ...(dev.postgres as any), capacity: { kind: 'explicit', settings: { sharedBuffers: '900MB' } } } };
    const badProd: EnvironmentSpec = { ...prod, postgres: { ...(prod.postgres as any), capacity: { kind: 'resources', maxConnections: 100 } } };
    // WHEN the app is built THEN one error names both construct paths
    expect(() => buildApp({ environments: [badDev, badProd] })).toThrow(/^2 environments: 3 problems\n  - dev\/postgres: capacity\.sharedBuffers: [\s\S]*\n  - prod\/pools: services: connection budget .* > max_connections 100/);
  });
});
