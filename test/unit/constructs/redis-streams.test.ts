// RedisStreams: the StatefulSet (pinned image, config from a ConfigMap, ACL file from a Secret, probes
// that authenticate from a file), the hashes computed inside Terraform, the NetworkPolicy, bad props.
import { IRedisStreams, RedisPasswords, RedisStreams, RedisStreamsProps, DEFAULT_REDIS_IMAGE } from '../../../constructs/redis-streams';
import { checkTerraformJson, formatViolations } from '../../support/pod-security';
import { Json, only, resources, scope, synthScope } from '../../support/synth';

function redis(extra: Partial<RedisStreamsProps> = {}): { json: Json; text: string; construct: RedisStreams } {
  let construct!: RedisStreams;
  const { json, text } = synthScope((s) => {
    construct = new RedisStreams(s, 'redis', { environment: 'dev', namespace: 'caracal-dev', ...extra });
  });
  return { json, text, construct };
}

const pod = (json: Json) => only(json, 'kubernetes_stateful_set_v1').spec.template.spec;
const container = (json: Json) => pod(json).container[0];
const secretByName = (json: Json, name: string) =>
  Object.values(resources(json, 'kubernetes_secret_v1')).find((s: Json) => s.metadata.name === name) as Json;
const configMap = (json: Json, name: string) =>
  Object.values(resources(json, 'kubernetes_config_map_v1')).find((c: Json) => c.metadata.name === name) as Json;

describe('RedisStreams', () => {
  test('GIVEN defaults WHEN synthesized THEN the pinned official Redis 7.2 image runs redis-server with the mounted config', () => {
    const { json } = redis();

    expect(DEFAULT_REDIS_IMAGE).toMatch(/^docker\.io\/library\/redis:7\.2\.\d+-bookworm$/);
    expect(container(json).image).toBe(DEFAULT_REDIS_IMAGE);
    expect(container(json).command).toEqual(['redis-server']);
    expect(container(json).args).toEqual(['/etc/redis/conf/redis.conf']);
  });

  test('GIVEN a Valkey image WHEN synthesized THEN it runs instead, with its own binaries', () => {
    const { json } = redis({ image: 'docker.io/valkey/valkey:7.2.11-bookworm', serverBinary: 'valkey-server', cliBinary: 'valkey-cli' });

    expect(container(json).image).toBe('docker.io/valkey/valkey:7.2.11-bookworm');
    expect(container(json).command).toEqual(['valkey-server']);
    expect(container(json).readiness_probe.exec.command[2]).toContain('valkey-cli --user healthcheck');
  });

  test('GIVEN a 1Gi memory limit WHEN synthesized THEN redis.conf in the ConfigMap has maxmemory half of it, noeviction, AOF everysec and the mounted aclfile', () => {
    const { json, construct } = redis({ resources: { limits: { memory: '1Gi' } } });
    const conf: string = configMap(json, 'caracal-redis-config').data['redis.conf'];

    expect(construct.maxmemoryBytes).toBe(512 * 1024 ** 2);
    expect(conf.split('\n')).toEqual(
      expect.arrayContaining([
        'maxmemory 536870912',
        'maxmemory-policy noeviction',
        'appendonly yes',
        'appendfsync everysec',
        'aclfile /etc/redis/acl/users.acl',
        'dir /data',
      ]),
    );
  });

  test('GIVEN generated passwords WHEN synthesized THEN the ACL file holds sha256() of each random_password result, computed by Terraform, and no literal hash', () => {
    const { json } = redis();
    const acl: string = secretByName(json, 'caracal-redis-acl').data['users.acl'];

    for (const user of ['api', 'coordinator', 'audit', 'sts', 'gateway', 'healthcheck', 'ops']) {
      expect(acl).toContain(`user ${user} on resetpass #\${sha256(random_password.caracal_redis_password_${user}.result)} `);
    }
    expect(acl.split('\n')[0]).toBe('user default off resetpass ~* &* +@all');
    expect(acl).not.toMatch(/[0-9a-f]{64}/);
  });

  test('GIVEN generated passwords WHEN synthesized THEN every Secret value is a Terraform reference or a user name, never a literal secret', () => {
    const { json, text } = redis();

    for (const secret of Object.values(resources(json, 'kubernetes_secret_v1')) as Json[]) {
      for (const [key, value] of Object.entries(secret.data as Record<string, string>)) {
        if (key === 'username') expect(value).toMatch(/^[a-z]+$/);
        else expect(value).toMatch(/\$\{(sha256\()?random_password\./);
      }
    }
    expect(text).not.toMatch(/"(value|password)":\s*"[A-Za-z0-9]{32}"/);
  });

  test('GIVEN secret values in the environment at synth time WHEN synthesized THEN none of them appears in the output', () => {
    const supplied: Record<string, string> = {
      REDIS_PASSWORD: 'redis-pass-4c1e9a7b2d',
      REDISCLI_AUTH: 'cli-auth-8f2b6d1a3e',
      VALKEYCLI_AUTH: 'valkey-auth-2a9c4e7f1b',
      TF_VAR_redis_password: 'tfvar-redis-6e3b8d2c9a',
    };
    const saved = Object.fromEntries(Object.keys(supplied).map((k) => [k, process.env[k]]));
    Object.assign(process.env, supplied);
    try {
      const { text } = redis({ passwords: RedisPasswords.generated({ rotation: { api: '2' } }) });

      for (const [name, value] of Object.entries(supplied)) expect({ name, found: text.includes(value) }).toEqual({ name, found: false });
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('GIVEN the synthesized pod WHEN checked against Pod Security "restricted" THEN there is no violation and the hardening holds', () => {
    const { text } = redis();

    const report = checkTerraformJson(text);

    expect(report.pods).toHaveLength(1);
    expect(report.pods[0].address).toMatch(/^kubernetes_stateful_set_v1\./);
    expect(formatViolations(report.violations)).toBe('');
    expect(report.hardening).toEqual([]);
  });

  test('GIVEN the pod WHEN its mounts and env are read THEN secrets arrive only as whole-directory files and no env carries a password', () => {
    const { json } = redis();
    const c = container(json);

    expect(c.volume_mount.every((m: Json) => m.sub_path === undefined)).toBe(true);
    expect(
      pod(json)
        .volume.filter((v: Json) => v.secret)
        .map((v: Json) => v.secret.secret_name)
        .sort(),
    ).toEqual(['caracal-redis-acl', 'caracal-redis-healthcheck', 'caracal-redis-reloader']);
    expect(c.env).toEqual([
      { name: 'REDIS_PORT', value: '6379' },
      { name: 'REDIS_PROBE_PASSWORD_FILE', value: '/var/run/secrets/caracal/redis-healthcheck/password' },
    ]);
  });

  test('GIVEN the probes WHEN read THEN they authenticate as healthcheck from the password file, and only readiness rejects LOADING', () => {
    const { json } = redis();
    const c = container(json);

    for (const probe of [c.startup_probe, c.liveness_probe, c.readiness_probe]) {
      expect(probe.exec.command[2]).toMatch(/REDISCLI_AUTH="\$\(cat "\$REDIS_PROBE_PASSWORD_FILE"\)".* redis-cli --user healthcheck /);
    }
    expect(c.liveness_probe.exec.command[2]).toContain("'^(PONG|LOADING)'");
    expect(c.readiness_probe.exec.command[2]).toContain("'^(PONG)'");
  });

  test('GIVEN a config change or the reloader password rotated WHEN synthesized THEN the pod template annotations change, and a user password rotation leaves them (Redis is not restarted)', () => {
    const annotations = (json: Json) => only(json, 'kubernetes_stateful_set_v1').spec.template.metadata.annotations;
    const base = annotations(redis().json);

    expect(annotations(redis({ maxmemory: '64Mi' }).json)['caracal.dev/config-hash']).not.toBe(base['caracal.dev/config-hash']);
    expect(annotations(redis({ passwords: RedisPasswords.generated({ reloaderRotation: '1' }) }).json)).not.toEqual(base);
    expect(
      annotations(redis({ passwords: RedisPasswords.generated({ rotation: { api: '1', sts: { b: '1', active: 'b' } } }) }).json),
    ).toEqual(base);
    expect(Object.keys(base).sort()).toEqual(['caracal.dev/config-hash', 'sidecar.istio.io/inject']);
    expect(annotations(redis().json)).toEqual(base);
  });

  test('GIVEN default selectors WHEN synthesized THEN the NetworkPolicy denies by default and admits only the five services and the exporters on 6379', () => {
    const { json } = redis();
    const np = only(json, 'kubernetes_network_policy_v1').spec;

    expect(np.policy_types).toEqual(['Ingress', 'Egress']);
    expect(np.egress).toBeUndefined();
    expect(np.ingress[0].ports).toEqual([{ port: '6379', protocol: 'TCP' }]);
    expect(np.ingress[0].from.map((f: Json) => f.pod_selector.match_labels['app.kubernetes.io/component'])).toEqual([
      'api',
      'coordinator',
      'audit',
      'sts',
      'gateway',
      'metrics',
    ]);
  });

  test('GIVEN the data volume WHEN synthesized THEN it is a separate PVC with a fixed logical id and prevent_destroy', () => {
    const { json } = redis();
    const pvc = resources(json, 'kubernetes_persistent_volume_claim_v1').caracal_redis_data;

    expect(pvc.lifecycle.prevent_destroy).toBe(true);
    expect(pod(json).volume.find((v: Json) => v.name === 'data').persistent_volume_claim.claim_name).toBe(
      '${kubernetes_persistent_volume_claim_v1.caracal_redis_data.metadata[0].name}',
    );
  });

  test('GIVEN a service WHEN its connection ConfigMap and Helm values are read THEN it gets its own user, password file, streams and rate-limit prefix', () => {
    const { json, construct } = redis();
    const data = configMap(json, 'caracal-gateway-redis').data;

    expect(data).toEqual({
      REDIS_HOST: 'redis.caracal-dev.svc.cluster.local',
      REDIS_PORT: '6379',
      REDIS_USERNAME: 'gateway',
      REDIS_PASSWORD_FILE: '/var/run/secrets/caracal/redis/password',
      REDIS_CONSUMER_GROUP: 'gateway',
      REDIS_STREAM_PROPAGATION: 'caracal:stream:propagation',
      REDIS_STREAM_INVALIDATION: 'caracal:stream:invalidation',
      REDIS_STREAM_REVOCATION: 'caracal:stream:revocation',
      REDIS_STREAM_AUDIT: 'caracal:stream:audit',
      REDIS_RATE_LIMIT_PREFIX: 'caracal:ratelimit:gateway:',
    });
    expect(construct.helmValues('gateway').volumes).toEqual([
      { name: 'caracal-redis-credentials', secret: { secretName: 'caracal-redis-gateway', defaultMode: 0o440 } },
    ]);
  });

  test('GIVEN existing Secrets WHEN synthesized THEN nothing is generated and the pod mounts the given ACL Secret', () => {
    const { json } = redis({
      passwords: RedisPasswords.fromExistingSecrets('vault-redis', { aclSecretName: 'vault-redis-acl', aclKey: 'acl' }),
    });

    expect(resources(json, 'random_password')).toEqual({});
    expect(resources(json, 'kubernetes_secret_v1')).toEqual({});
    expect(pod(json).volume.find((v: Json) => v.name === 'acl').secret.secret_name).toBe('vault-redis-acl');
    expect(configMap(json, 'caracal-redis-config').data['redis.conf']).toContain('aclfile /etc/redis/acl/acl\n');
  });

  test('GIVEN opsUser false WHEN synthesized THEN no ops password exists and the ACL file has no ops user', () => {
    const { json } = redis({ opsUser: false });

    expect(Object.keys(resources(json, 'random_password'))).not.toContain('caracal_redis_password_ops');
    expect(secretByName(json, 'caracal-redis-acl').data['users.acl']).not.toContain('user ops ');
  });

  test('GIVEN the ACL file template WHEN rendered for External Secrets THEN each user has the placeholder hash', () => {
    const template = RedisStreams.aclFileTemplate((u) => `{{ .${u} | sha256sum }}`);

    expect(template).toContain('user api on resetpass #{{ .api | sha256sum }} ');
  });

  test.each<[string, Partial<RedisStreamsProps>, RegExp]>([
    ['environment', { environment: 'Prod!' }, /environment: "Prod!" is not a valid environment name/],
    ['namespace', { namespace: 'Caracal_Dev' }, /namespace: "Caracal_Dev" is not a namespace/],
    ['name', { name: 'redis.streams' }, /name: "redis.streams" is not a Service name/],
    ['image latest', { image: 'redis:latest' }, /image: "redis:latest" is not a pinned image reference/],
    ['image untagged', { image: 'redis' }, /image: "redis" is not a pinned image reference/],
    ['serverBinary', { serverBinary: 'redis-server; rm -rf /' }, /serverBinary: .* is not an executable name/],
    ['cliBinary', { cliBinary: '$(id)' }, /cliBinary: .* is not an executable name/],
    ['runAsUser root', { runAsUser: 0 }, /runAsUser: 0 is not a non-root uid/],
    ['memory limit missing', { resources: { requests: { memory: '256Mi' } } }, /resources\.limits\.memory: undefined is required/],
    [
      'memory limit tiny',
      { resources: { limits: { memory: '64Mi' } } },
      /resources\.limits\.memory: "64Mi" is not a memory limit of at least 128Mi/,
    ],
    [
      'memory request above limit',
      { resources: { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } } },
      /resources\.requests\.memory: "2Gi" exceeds the memory limit/,
    ],
    [
      'cpu',
      { resources: { requests: { cpu: 'lots' }, limits: { memory: '1Gi' } } },
      /resources\.requests\.cpu: "lots" is not a CPU quantity/,
    ],
    [
      'maxmemory above 75%',
      { maxmemory: '900Mi', resources: { limits: { memory: '1Gi' } } },
      /maxmemory: "900Mi" exceeds 75% of the memory limit \(1Gi\).*at most 768Mi/,
    ],
    ['maxmemory unparsable', { maxmemory: 'half' }, /maxmemory: "half" is not a Kubernetes quantity of at least 16Mi/],
    ['save', { save: 'hourly' }, /save: "hourly" is not a save schedule/],
    ['storageSize', { storageSize: '100Mi' }, /storageSize: "100Mi" is not a volume size of at least 1Gi/],
    ['storageClassName', { storageClassName: 'Fast SSD' }, /storageClassName: "Fast SSD" is not a storage class name/],
    ['grace', { terminationGracePeriod: '1s' }, /terminationGracePeriod: "1s" is out of range/],
    ['namePrefix', { namePrefix: 'Caracal' }, /namePrefix: "Caracal" is not a valid name prefix/],
    [
      'allowedClients not a list',
      { allowedClients: { app: 'x' } as never },
      /allowedClients: \{"app":"x"\} is not a list of pod selectors/,
    ],
    ['allowedClients empty selector', { allowedClients: [{}] }, /allowedClients\[0\]: \{\} is an empty selector/],
    [
      'allowedClients bad value',
      { allowedClients: [{ app: 'x'.repeat(64) }] },
      /allowedClients\[0\]\.app: .* is not a valid label selector entry/,
    ],
    ['passwords.length', { passwords: RedisPasswords.generated({ length: 8 }) }, /passwords\.length: 8 is out of range/],
    [
      'passwords.rotation user',
      { passwords: RedisPasswords.generated({ rotation: { root: '1' } as any }) },
      /passwords\.rotation\.root: "root" is not a Redis user/,
    ],
    [
      'passwords.rotation token',
      { passwords: RedisPasswords.generated({ rotation: { api: 'a b' } }) },
      /passwords\.rotation\.api: "a b" is not a rotation token/,
    ],
    [
      'passwords.prefix',
      { passwords: RedisPasswords.fromExistingSecrets('Vault') },
      /passwords\.prefix: "Vault" is not a Secret name prefix/,
    ],
    [
      'passwords.secretNames',
      { passwords: RedisPasswords.fromExistingSecrets('v', { secretNames: { api: 'API' } }) },
      /passwords\.secretNames\.api: "API" is not a Secret name/,
    ],
    [
      'passwords.passwordKey',
      { passwords: RedisPasswords.fromExistingSecrets('v', { passwordKey: 'pass word' }) },
      /passwords\.passwordKey: "pass word" is not a Secret key/,
    ],
    [
      'passwords.aclSecretName',
      { passwords: RedisPasswords.fromExistingSecrets('v', { aclSecretName: '-acl' }) },
      /passwords\.aclSecretName: "-acl" is not a Secret name/,
    ],
  ])('GIVEN a bad %s WHEN constructed THEN a ValidationError names the prop', (_name, props, expected) => {
    expect(() => new RedisStreams(scope(), 'redis', { environment: 'dev', namespace: 'caracal-dev', ...props })).toThrow(expected);
  });

  test('GIVEN several bad props WHEN constructed THEN every problem is reported at once, under the construct path', () => {
    expect(
      () =>
        new RedisStreams(scope(), 'redis', {
          environment: 'dev',
          namespace: 'caracal-dev',
          image: 'redis',
          storageSize: '1Mi',
          runAsUser: 0,
        }),
    ).toThrow(/^test\/redis: 3 problems\n {2}- image: [^\n]+\n {2}- runAsUser: [^\n]+\n {2}- storageSize: /);
  });
});

describe('RedisStreams.fromAttributes (IRedisStreams)', () => {
  const attrs = { environment: 'dev', namespace: 'caracal-dev', host: 'redis.example.com', secretPrefix: 'managed-redis' };

  test('GIVEN an external Redis WHEN imported THEN nothing of Redis is deployed and each service gets the same connection ConfigMap and values as in the cluster', () => {
    let external!: IRedisStreams;
    let inCluster!: IRedisStreams;
    const { json } = synthScope((s) => {
      external = RedisStreams.fromAttributes(s, 'redis', { ...attrs, port: 6380 });
    });
    synthScope((s) => {
      inCluster = new RedisStreams(s, 'redis', { environment: 'dev', namespace: 'caracal-dev' });
    });
    expect(Object.keys(json.resource)).toEqual(['kubernetes_config_map_v1']);
    expect(external.mode).toBe('external');
    expect(external.readyResources).toEqual([]);
    expect(external.podLabels).toBeUndefined();
    expect(configMap(json, 'caracal-api-redis').data).toMatchObject({
      REDIS_HOST: 'redis.example.com',
      REDIS_PORT: '6380',
      REDIS_USERNAME: 'api',
      REDIS_PASSWORD_FILE: '/var/run/secrets/caracal/redis/password',
    });
    expect(external.secretName('api')).toBe('managed-redis-api');
    const values = external.helmValues('api');
    const expected = inCluster.helmValues('api');
    expect({ ...values, volumes: [], podAnnotations: {} }).toEqual({ ...expected, volumes: [], podAnnotations: {} });
    expect(values.volumes).toEqual([
      { name: 'caracal-redis-credentials', secret: { secretName: 'managed-redis-api', defaultMode: 0o440 } },
    ]);
    expect(inCluster.mode).toBe('in-cluster');
    expect(inCluster.readyResources).toHaveLength(2);
  });

  test.each<[string, Record<string, unknown>]>([
    ['host', { host: 'redis://r.example.com:6379' }],
    ['port', { port: 0 }],
    ['secretPrefix', { secretPrefix: 'Managed Redis' }],
    ['secretNames.apii', { secretNames: { apii: 'x' } }],
    ['passwordKey', { passwordKey: 'pass word' }],
    ['rotation.api', { rotation: { api: 'two words' } }],
    ['rotation.root', { rotation: { root: '1' } }],
  ])('GIVEN a bad external %s WHEN imported THEN the error names it', (field, extra) => {
    expect(() => RedisStreams.fromAttributes(scope(), 'redis', { ...attrs, ...extra } as never)).toThrow(new RegExp(`- ${field}: `));
  });

  test("GIVEN an external Redis WHEN the secret manager rotated api's password and its version token is bumped THEN only api's credentials annotation changes, and it is a hash", () => {
    const imported = (rotation?: Record<string, string>) => {
      let r!: IRedisStreams;
      synthScope((s) => {
        r = RedisStreams.fromAttributes(s, 'redis', { ...attrs, ...(rotation ? { rotation } : {}) });
      });
      return r;
    };
    const [before, after] = [imported(), imported({ api: 'secret-manager-v12' })];
    const annotation = (r: IRedisStreams, s: 'api' | 'sts') => r.helmValues(s).podAnnotations['caracal.dev/redis-credentials'];
    expect(annotation(after, 'api')).not.toBe(annotation(before, 'api'));
    expect(annotation(after, 'sts')).toBe(annotation(before, 'sts'));
    expect(annotation(after, 'api')).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('RedisStreams password rotation', () => {
  const aclLine = (json: Json, user: string) =>
    (secretByName(json, 'caracal-redis-acl').data['users.acl'] as string).split('\n').find((l) => l.startsWith(`user ${user} `))!;
  const hashesOf = (line: string) => line.split(' ').filter((t) => t.startsWith('#'));
  const generated = (rotation: Parameters<typeof RedisPasswords.generated>[0]) => redis({ passwords: RedisPasswords.generated(rotation) });

  test('GIVEN no rotation WHEN synthesized THEN each user has one password at its fixed address and one hash in the ACL file', () => {
    const { json } = redis();

    expect(Object.keys(resources(json, 'random_password')).filter((id) => id.endsWith('_b'))).toEqual([]);
    expect(hashesOf(aclLine(json, 'api'))).toEqual(['#${sha256(random_password.caracal_redis_password_api.result)}']);
    expect(secretByName(json, 'caracal-redis-api').data.password).toBe('${random_password.caracal_redis_password_api.result}');
  });

  test('GIVEN slot b added WHEN synthesized THEN its password exists beside a, both hashes are in the ACL file, and the Secret still holds a', () => {
    const { json } = generated({ rotation: { api: { b: '1' } } });

    expect(resources(json, 'random_password').caracal_redis_password_api_b.keepers).toEqual({ rotation: '1', user: 'api', slot: 'b' });
    expect(resources(json, 'random_password').caracal_redis_password_api.keepers).toEqual({ rotation: '0', user: 'api' });
    expect(hashesOf(aclLine(json, 'api'))).toEqual([
      '#${sha256(random_password.caracal_redis_password_api.result)}',
      '#${sha256(random_password.caracal_redis_password_api_b.result)}',
    ]);
    expect(secretByName(json, 'caracal-redis-api').data.password).toBe('${random_password.caracal_redis_password_api.result}');
    expect(hashesOf(aclLine(json, 'sts'))).toHaveLength(1);
  });

  test('GIVEN slot b active WHEN synthesized THEN the Secret holds b, both stay valid, and the service pods get a new credentials checksum', () => {
    const base = redis().construct.helmValues('api').podAnnotations;
    const { json, construct } = generated({ rotation: { api: { b: '1', active: 'b' } } });

    expect(secretByName(json, 'caracal-redis-api').data.password).toBe('${random_password.caracal_redis_password_api_b.result}');
    expect(hashesOf(aclLine(json, 'api'))).toHaveLength(2);
    expect(construct.userSecret('api').version).toBe('generated:32:b:1');
    expect(construct.helmValues('api').podAnnotations['caracal.dev/redis-credentials']).toMatch(/^[0-9a-f]{64}$/);
    expect(construct.helmValues('api').podAnnotations).not.toEqual(base);
    expect(construct.helmValues('sts').podAnnotations).toEqual(redis().construct.helmValues('sts').podAnnotations);
  });

  test('GIVEN the inactive slot retired WHEN synthesized THEN only the active hash is in the ACL file and the pods do not roll again', () => {
    const active = generated({ rotation: { api: { b: '1', active: 'b' } } });
    const { json, construct } = generated({ rotation: { api: { b: '1', active: 'b', retireInactive: true } } });

    expect(hashesOf(aclLine(json, 'api'))).toEqual(['#${sha256(random_password.caracal_redis_password_api_b.result)}']);
    expect(construct.helmValues('api').podAnnotations).toEqual(active.construct.helmValues('api').podAnnotations);
  });

  test('GIVEN the pod WHEN synthesized THEN the acl-reloader sidecar runs the reloader script from the Redis image as the reloader user, with the ACL file and its own password only', () => {
    const { json } = redis();
    const sidecar = pod(json).container.find((c: Json) => c.name === 'acl-reloader');

    expect(sidecar.image).toBe(DEFAULT_REDIS_IMAGE);
    expect(sidecar.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(sidecar.command[2]).toContain('ACL SETUSER');
    expect(sidecar.volume_mount.map((m: Json) => [m.name, m.mount_path])).toEqual([
      ['acl', '/etc/redis/acl'],
      ['reloader-password', '/var/run/secrets/caracal/redis-reloader'],
    ]);
    expect(sidecar.env.find((e: Json) => e.name === 'RELOADER_PASSWORD_FILE').value).toBe(
      '/var/run/secrets/caracal/redis-reloader/password',
    );
    expect(pod(json).volume.find((v: Json) => v.name === 'reloader-password').secret).toMatchObject({
      secret_name: 'caracal-redis-reloader',
      optional: true,
    });
    expect(aclLine(json, 'reloader')).toBe(
      'user reloader on resetpass #${sha256(random_password.caracal_redis_password_reloader.result)} resetchannels -@all +acl|setuser',
    );
  });

  test('GIVEN existing Secrets WHEN the ACL template is rendered with the reloader and two hashes for a user THEN both are in its line and the reloader user is there', () => {
    const template = RedisStreams.aclFileTemplate((u) => (u === 'api' ? ['{{ .api }}', '{{ .apiPrevious }}'] : `{{ .${u} }}`), undefined, {
      reloader: true,
    });
    const { json } = redis({ passwords: RedisPasswords.fromExistingSecrets('vault-redis', { reloaderSecretName: 'vault-reloader' }) });

    expect(template).toContain('user api on resetpass #{{ .api }} #{{ .apiPrevious }} ');
    expect(template).toContain('user reloader on resetpass #{{ .reloader }} resetchannels -@all +acl|setuser\n');
    expect(pod(json).volume.find((v: Json) => v.name === 'reloader-password').secret.secret_name).toBe('vault-reloader');
  });

  test.each<[string, Parameters<typeof RedisPasswords.generated>[0], RegExp]>([
    [
      'active slot without token',
      { rotation: { api: { active: 'b' } } },
      /passwords\.rotation\.api\.active: "b" names slot b, which has no token/,
    ],
    [
      'unknown slot',
      { rotation: { api: { b: '1', active: 'c' as never } } },
      /passwords\.rotation\.api\.active: "c" is not a rotation slot/,
    ],
    [
      'retire the only slot',
      { rotation: { api: { retireInactive: true } } },
      /passwords\.rotation\.api\.retireInactive: true retires slot b, which does not exist/,
    ],
    ['misspelled key', { rotation: { api: { actve: 'a' } as never } }, /passwords\.rotation\.api\.actve: .*active/],
    ['number', { rotation: { api: 5 as never } }, /passwords\.rotation\.api: 5 is not a rotation: expected a token/],
    ['bad token', { rotation: { api: { b: 'two words' } } }, /passwords\.rotation\.api\.b: "two words" is not a rotation token/],
    [
      'retire not boolean',
      { rotation: { api: { b: '1', retireInactive: 'yes' as never } } },
      /passwords\.rotation\.api\.retireInactive: "yes" is not a boolean/,
    ],
    ['unknown user', { rotation: { root: '1' } as never }, /passwords\.rotation\.root: "root" is not a Redis user/],
    ['reloader token', { reloaderRotation: 'x y' }, /passwords\.reloaderRotation: "x y" is not a rotation token/],
  ])(
    'GIVEN a bad rotation (%s) WHEN constructed THEN a ValidationError names the field and what is accepted',
    (_name, options, expected) => {
      expect(
        () =>
          new RedisStreams(scope(), 'redis', {
            environment: 'dev',
            namespace: 'caracal-dev',
            passwords: RedisPasswords.generated(options),
          }),
      ).toThrow(expected);
    },
  );
});
