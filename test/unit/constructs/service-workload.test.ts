// serviceWorkload(): what a platform stack's own DeploymentV1/StatefulSetV1 needs for a service, in the kubernetes
// provider's shape, from the same values as helmValues() (issue 12 point 6). Wired into real provider resources,
// synthesized, and read back into the API shape to compare with the chart values.
import { TerraformStack, Testing } from 'cdktf';
import { Construct } from 'constructs';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import {
  CaracalStores,
  KeyMaterialSecret,
  REPLAY_SERVICES,
  SCHEMA_WAIT_CONTAINER,
  SERVICES,
  ServicePools,
  ServiceName,
  ServiceWorkload,
  StoresPostgres,
  StoresServiceValues,
} from '../../../constructs';
import { checkTerraformJson, formatViolations, fromTerraformShape } from '../../support/pod-security';
import { Json, byName, resources, synthScope, testSecrets } from '../../support/synth';

const IMAGE = 'ghcr.io/example/caracal-api:1.4.0';
/** The service image's own user; fsGroup lets it (and the init container) read the 0440 password files. */
const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: '10001',
  runAsGroup: '10001',
  fsGroup: '10001',
  seccompProfile: { type: 'RuntimeDefault' },
};
const CONTAINER_SECURITY = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** A service as a platform stack deploys it: a DeploymentV1 wired with nothing but serviceWorkload(). */
function deployment(scope: Construct, service: ServiceName, w: ServiceWorkload, dependsOn = [] as CaracalStores['servicesDependOn']) {
  return new DeploymentV1(scope, service, {
    metadata: { name: `caracal-${service}`, namespace: 'caracal-prod', labels: w.labels },
    spec: {
      replicas: w.replicas,
      strategy: w.strategy,
      selector: { matchLabels: w.labels },
      template: {
        metadata: { labels: w.labels, annotations: w.annotations },
        spec: {
          ...w.podSpec,
          securityContext: POD_SECURITY,
          container: [{ name: service, image: IMAGE, ...w.container, securityContext: CONTAINER_SECURITY }],
        },
      },
    },
    dependsOn,
  });
}

/** sts and gateway as the stores describe them: a StatefulSetV1 whose claim template adopts the protected replay claims. */
function statefulSet(scope: Construct, service: ServiceName, w: ServiceWorkload) {
  const sts = w.statefulSet!;
  return new StatefulSetV1(scope, service, {
    metadata: { name: sts.name, namespace: 'caracal-prod', labels: w.labels },
    spec: {
      serviceName: sts.name,
      replicas: w.replicas,
      selector: { matchLabels: w.labels },
      volumeClaimTemplate: sts.volumeClaimTemplate,
      persistentVolumeClaimRetentionPolicy: sts.persistentVolumeClaimRetentionPolicy,
      template: {
        metadata: { labels: w.labels, annotations: w.annotations },
        spec: {
          ...w.podSpec,
          securityContext: POD_SECURITY,
          container: [{ name: service, image: IMAGE, ...w.container, securityContext: CONTAINER_SECURITY }],
        },
      },
    },
  });
}

/** The resource type a service is wired as here. */
const typeOf = (service: ServiceName) =>
  service === 'audit' || (REPLAY_SERVICES as readonly string[]).includes(service)
    ? 'kubernetes_stateful_set_v1'
    : 'kubernetes_deployment_v1';

function platform(): { json: Json; text: string; stores: CaracalStores } {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'platform');
  const stores = new CaracalStores(stack, 'stores', {
    environment: 'prod',
    namespace: 'caracal-prod',
    postgres: StoresPostgres.inCluster({ resources: { requests: { cpu: '1', memory: '4Gi' }, limits: { memory: '4Gi' } } }),
  });
  for (const s of SERVICES.filter((s) => s !== 'audit')) {
    const w = stores.serviceWorkload(s);
    if (w.statefulSet) statefulSet(stack, s, w);
    else deployment(stack, s, w, stores.servicesDependOn);
  }
  // The same method fits a StatefulSetV1's pod template.
  const audit = stores.serviceWorkload('audit');
  new StatefulSetV1(stack, 'audit', {
    metadata: { name: 'caracal-audit', namespace: 'caracal-prod' },
    spec: {
      serviceName: 'caracal-audit',
      replicas: audit.replicas,
      selector: { matchLabels: audit.labels },
      template: {
        metadata: { labels: audit.labels, annotations: audit.annotations },
        spec: {
          ...audit.podSpec,
          securityContext: POD_SECURITY,
          container: [{ name: 'audit', image: IMAGE, ...audit.container, securityContext: CONTAINER_SECURITY }],
        },
      },
    },
  });
  const text = Testing.synth(stack);
  return { json: JSON.parse(text), text, stores };
}

/** The chart values of a service, with the provider's octal-string modes for comparison. */
function chartValuesAsSynthesized(v: StoresServiceValues): Json {
  const mode = (m: number) => `0${m.toString(8)}`;
  return {
    volumes: v.volumes.map((vol) =>
      'secret' in vol
        ? { name: vol.name, secret: { ...vol.secret, defaultMode: mode(vol.secret.defaultMode) } }
        : { name: vol.name, configMap: { ...vol.configMap, defaultMode: mode(vol.configMap.defaultMode) } },
    ),
    initContainers: v.initContainers.map((c) => ({
      ...c,
      securityContext: {
        ...c.securityContext,
        runAsUser: String(c.securityContext.runAsUser),
        runAsGroup: String(c.securityContext.runAsGroup),
      },
    })),
    envFrom: v.envFrom,
    volumeMounts: v.volumeMounts,
  };
}

let shared: ReturnType<typeof platform> | undefined;
const synthesized = () => (shared ??= platform());

describe('CaracalStores.serviceWorkload', () => {
  test('GIVEN the api wired into a DeploymentV1 with serviceWorkload() WHEN synthesized THEN the provider resource has the modes, volumes, mounts, env and init container in its own shape', () => {
    const { json, stores } = synthesized();
    const api = byName(json, 'kubernetes_deployment_v1', 'caracal-api');
    const pod = api.spec.template.spec;
    const db = stores.pools.secretName('api');

    expect(api.spec.replicas).toBe('2');
    expect(api.spec.strategy).toEqual({ type: 'RollingUpdate', rolling_update: { max_surge: '1', max_unavailable: '0' } });
    expect(pod.automount_service_account_token).toBe(false);
    expect(pod.volume).toContainEqual({ name: 'caracal-db-credentials', secret: { secret_name: db, default_mode: '0440' } });
    expect(pod.volume).toContainEqual({
      name: 'caracal-redis-credentials',
      secret: { secret_name: stores.redis.secretName('api'), default_mode: '0440' },
    });
    expect(pod.container[0].env_from.map((e: Json) => e.config_map_ref.name)).toEqual([
      stores.configMapNames.database.api,
      stores.configMapNames.redis.api,
    ]);
    expect(pod.container[0].volume_mount).toContainEqual({
      name: 'caracal-db-credentials',
      mount_path: '/var/run/secrets/caracal/db',
      read_only: true,
    });
    expect(pod.init_container.map((c: Json) => c.name)).toEqual([SCHEMA_WAIT_CONTAINER]);
    expect(pod.init_container[0].command).toEqual(expect.arrayContaining(['wait', '--version', stores.migrationJob.schemaVersion]));
    expect(pod.init_container[0].security_context.run_as_user).toMatch(/^[1-9][0-9]*$/);
    expect(api.metadata.labels).toEqual(stores.helmValues().api.podLabels);
    expect(byName(json, 'kubernetes_deployment_v1', 'caracal-api').spec.template.metadata.annotations).toEqual(
      stores.helmValues().api.podAnnotations,
    );
  });

  test.each(SERVICES.map((s) => [s]))(
    'GIVEN %s wired with serviceWorkload() WHEN its synthesized pod template is read back in the API shape THEN it equals helmValues() (one source)',
    (service) => {
      const { json, stores } = synthesized();
      const pod = (fromTerraformShape(byName(json, typeOf(service), `caracal-${service}`)) as Json).spec.template.spec;
      const chart = chartValuesAsSynthesized(stores.helmValues()[service]);

      expect(pod.volumes).toEqual(chart.volumes);
      expect(pod.initContainers).toEqual(chart.initContainers);
      expect(pod.containers[0].envFrom).toEqual(chart.envFrom);
      expect(pod.containers[0].volumeMounts).toEqual(chart.volumeMounts);
      expect(byName(json, typeOf(service), `caracal-${service}`).spec.template.metadata.annotations).toEqual(
        stores.helmValues()[service].podAnnotations,
      );
    },
  );

  test.each(REPLAY_SERVICES.map((s) => [s]))(
    'GIVEN %s wired into a StatefulSetV1 with serviceWorkload() WHEN synthesized THEN its claim template and retention are helmValues() ones and its pods adopt the protected claims',
    (service) => {
      const { json, stores } = synthesized();
      const set = fromTerraformShape(byName(json, 'kubernetes_stateful_set_v1', `caracal-${service}`)) as Json;
      const chart = stores.helmValues()[service].statefulSet!;

      expect(set.metadata.name).toBe(chart.name);
      // The provider's blocks are singular lists: `volume_claim_template`, `persistent_volume_claim_retention_policy`.
      expect(set.spec.volumeClaimTemplate).toEqual(chart.volumeClaimTemplates);
      expect(set.spec.persistentVolumeClaimRetentionPolicy).toEqual([chart.persistentVolumeClaimRetentionPolicy]);
      expect(set.spec.template.spec.containers[0].volumeMounts).toContainEqual({
        name: 'replay',
        mountPath: '/var/lib/caracal/replay',
        readOnly: false,
      });
      // The StatefulSet controller names each pod's claim <template>-<statefulset>-<ordinal>: exactly the claims created.
      const claims = Object.values(resources(json, 'kubernetes_persistent_volume_claim_v1'))
        .map((c: Json) => c.metadata.name as string)
        .filter((n) => n.startsWith(`replay-${chart.name}-`));
      const ordinals = stores.pools.pool(service).maxReplicas;
      expect(claims.sort()).toEqual(Array.from({ length: ordinals }, (_, i) => `replay-${chart.name}-${i}`));
    },
  );

  test('GIVEN the services deployed with serviceWorkload() and a restricted pod securityContext WHEN checked THEN every pod meets Pod Security "restricted"', () => {
    const report = checkTerraformJson(synthesized().text);
    expect(
      report.pods.filter((p) => /kubernetes_(deployment|stateful_set)_v1\.(api|coordinator|sts|gateway|audit)$/.test(p.address)),
    ).toHaveLength(5);
    expect(formatViolations(report.violations)).toBe('');
  });

  test('GIVEN two calls WHEN one result is changed by its caller THEN the next call is unaffected (fresh arrays)', () => {
    const { stores } = synthesized();
    const first = stores.serviceWorkload('sts');
    first.podSpec.volume.pop();
    first.container.envFrom.length = 0;
    expect(stores.serviceWorkload('sts').podSpec.volume).toHaveLength(stores.helmValues().sts.volumes.length);
    expect(stores.serviceWorkload('sts').container.envFrom).toHaveLength(2);
  });

  test.each([['apii'], ['API'], [''], ['postgres'], [undefined], [7]])(
    'GIVEN the service %p (a JavaScript caller) WHEN serviceWorkload is asked for it THEN a ValidationError names it and the services there are',
    (service) => {
      const { stores } = synthesized();
      expect(() => stores.serviceWorkload(service as unknown as ServiceName)).toThrow(
        /platform\/stores: 1 problem\n {2}- service: .* is not a service of these stores: expected one of api, coordinator, audit, sts, gateway/,
      );
    },
  );
});

describe('ServicePools.serviceWorkload', () => {
  test('GIVEN the lower-level pools with key material for sts WHEN its workload is read THEN it has the database Secret and the key material in the provider shape and no init container', () => {
    let pools!: ServicePools;
    synthScope((s) => {
      const keys = new KeyMaterialSecret(s, 'keys', { environment: 'staging', namespace: 'caracal-staging' });
      pools = new ServicePools(s, 'pools', {
        environment: 'staging',
        namespace: 'caracal-staging',
        endpoint: { host: 'db.example.com', port: 5432, database: 'caracal', sslMode: 'verify-full' },
        maxConnections: 300,
        secrets: testSecrets(s, 'staging', 'caracal-staging'),
        keyMaterialServices: ['sts'],
        keyMaterial: keys,
      });
    });
    const sts = pools.serviceWorkload('sts');
    expect(sts.podSpec.volume).toEqual([
      { name: 'caracal-db-credentials', secret: { secretName: pools.secretName('sts'), defaultMode: '0440' } },
      { name: 'caracal-key-material', secret: { secretName: 'caracal-keys', defaultMode: '0440' } },
    ]);
    expect(sts.podSpec.initContainer).toEqual([]);
    expect(sts.container.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '512Mi' } });
    expect(sts.autoscaling).toEqual({ enabled: false, minReplicas: 2, maxReplicas: 2 });
    expect(() => pools.serviceWorkload('stss' as ServiceName)).toThrow(/service: "stss" is not a service of these stores/);
  });

  test('GIVEN a CA certificate on the endpoint WHEN a workload is read THEN the CA volume is world-readable 0444 and mounted beside the password', () => {
    let pools!: ServicePools;
    synthScope((s) => {
      pools = new ServicePools(s, 'pools', {
        environment: 'staging',
        namespace: 'caracal-staging',
        endpoint: {
          host: 'db.example.com',
          port: 5432,
          database: 'caracal',
          sslMode: 'verify-full',
          caCertSecret: { secretName: 'db-ca', key: 'ca.crt' },
        },
        maxConnections: 300,
        secrets: testSecrets(s, 'staging', 'caracal-staging'),
      });
    });
    const api = pools.serviceWorkload('api');
    expect(api.podSpec.volume[1]).toEqual({ name: 'caracal-db-ca', secret: { secretName: 'db-ca', defaultMode: '0444' } });
    expect(api.container.volumeMount.map((m) => m.mountPath)).toEqual(['/var/run/secrets/caracal/db', '/var/run/secrets/caracal/db-ca']);
  });
});
