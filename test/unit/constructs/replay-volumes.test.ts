// ReplayVolumes: the STS and Gateway replay claims (one per StatefulSet ordinal, protected, at fixed addresses), the
// StatefulSet values that adopt them, the VolumeSnapshot option validated against the upstream CRD schema
// (test/fixtures/volume-snapshot), the composite's wiring, and bad props.
import path from 'node:path';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { CaracalStores, ReplayVolumes, ReplayVolumesProps, StoresPostgres, StoresServiceValues } from '../../../constructs';
import { loadCrdSchemas, schemaFor } from '../../support/crd-schema';
import { fromTerraformShape } from '../../support/pod-security';
import { Json, resources, synthScope } from '../../support/synth';

const CRD = path.resolve(__dirname, '..', '..', 'fixtures', 'volume-snapshot', 'snapshot.storage.k8s.io_volumesnapshots.yaml');
const base: ReplayVolumesProps = { environment: 'prod', namespace: 'caracal-prod', pods: { sts: 3, gateway: 2 } };

function synth(extra: Partial<ReplayVolumesProps> = {}): { json: Json; replay: ReplayVolumes } {
  let replay!: ReplayVolumes;
  const { json } = synthScope((s) => {
    replay = new ReplayVolumes(s, 'replay', { ...base, ...extra });
  });
  return { json, replay };
}
const claims = (json: Json) => resources(json, 'kubernetes_persistent_volume_claim_v1');
/** The VolumeSnapshots among the kubernetes_manifest resources, by logical id. */
const snapshots = (json: Json): Json[] =>
  Object.values(resources(json, 'kubernetes_manifest'))
    .map((m) => m.manifest as Json)
    .filter((m) => m.kind === 'VolumeSnapshot');

describe('ReplayVolumes claims', () => {
  test('GIVEN sts with 3 pods and gateway with 2 WHEN synthesized THEN one protected claim per ordinal exists at a fixed address, named as the StatefulSet controller names its claims', () => {
    const { json, replay } = synth();
    const all = claims(json);

    expect(Object.keys(all).sort()).toEqual([
      'caracal_replay_gateway_0',
      'caracal_replay_gateway_1',
      'caracal_replay_sts_0',
      'caracal_replay_sts_1',
      'caracal_replay_sts_2',
    ]);
    expect(replay.claimNames('sts')).toEqual(['replay-caracal-sts-0', 'replay-caracal-sts-1', 'replay-caracal-sts-2']);
    expect(replay.claimNames('api')).toEqual([]);
    const sts0 = all.caracal_replay_sts_0;
    expect(sts0.metadata).toMatchObject({ name: 'replay-caracal-sts-0', namespace: 'caracal-prod' });
    expect(sts0.spec.access_modes).toEqual(['ReadWriteOnce']);
    expect(sts0.spec.resources.requests).toEqual({ storage: '5Gi' });
    expect(sts0.lifecycle).toEqual({ prevent_destroy: true, ignore_changes: ['spec[0].resources[0].requests'] });
    expect(sts0.spec.storage_class_name).toBeUndefined();
  });

  test('GIVEN the claims WHEN read in the API shape THEN each is a valid PersistentVolumeClaim (kubernetes-models schema)', () => {
    for (const c of Object.values(claims(synth({ sts: { storageClassName: 'fast-ssd' } }).json))) {
      const api: Json = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', ...(fromTerraformShape(c) as Json) };
      delete api.lifecycle;
      delete api.waitUntilBound;
      expect(() => new PersistentVolumeClaim(api as never).validate()).not.toThrow();
    }
  });

  test('GIVEN size, storage class and mount path for sts WHEN synthesized THEN its claims and its StatefulSet values use them and gateway keeps the defaults', () => {
    const { json, replay } = synth({ sts: { storageSize: '20Gi', storageClassName: 'fast-ssd', mountPath: '/buffer' } });

    expect(claims(json).caracal_replay_sts_1.spec).toMatchObject({
      storage_class_name: 'fast-ssd',
      resources: { requests: { storage: '20Gi' } },
    });
    expect(replay.workloadValues('sts')).toEqual({
      statefulSet: {
        name: 'caracal-sts',
        volumeClaimTemplates: [
          {
            metadata: { name: 'replay' },
            spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast-ssd', resources: { requests: { storage: '20Gi' } } },
          },
        ],
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      },
      volumeMount: { name: 'replay', mountPath: '/buffer', readOnly: false },
    });
    expect(replay.workloadValues('gateway')?.volumeMount.mountPath).toBe('/var/lib/caracal/replay');
    expect(replay.workloadValues('gateway')?.statefulSet.volumeClaimTemplates[0].spec).not.toHaveProperty('storageClassName');
    expect(replay.workloadValues('audit')).toBeUndefined();
  });

  test('GIVEN only sts has pods WHEN synthesized THEN gateway gets no claim and no values', () => {
    const { json, replay } = synth({ pods: { sts: 1 } });
    expect(Object.keys(claims(json))).toEqual(['caracal_replay_sts_0']);
    expect(replay.workloadValues('gateway')).toBeUndefined();
  });

  test('GIVEN the same props twice WHEN synthesized THEN the output is byte-identical', () => {
    const props = { ...base, snapshot: { className: 'csi-snapclass' } };
    const a = synthScope((s) => new ReplayVolumes(s, 'replay', props)).text;
    const b = synthScope((s) => new ReplayVolumes(s, 'replay', props)).text;
    expect(a).toBe(b);
  });
});

describe('ReplayVolumes snapshots', () => {
  const schemas = loadCrdSchemas(CRD);

  test('GIVEN no snapshot prop WHEN synthesized THEN no VolumeSnapshot exists', () => {
    expect(snapshots(synth().json)).toEqual([]);
  });

  test('GIVEN a snapshot class WHEN synthesized THEN every claim has a VolumeSnapshot of it through kubernetes_manifest, created after its claim', () => {
    const { json, replay } = synth({ snapshot: { className: 'csi-snapclass' } });
    const manifests = Object.values(resources(json, 'kubernetes_manifest'));

    expect(snapshots(json).map((m) => [m.metadata.name, m.spec.source.persistentVolumeClaimName])).toEqual(
      [...replay.claimNames('gateway'), ...replay.claimNames('sts')].map((c) => [`${c}-snapshot`, c]),
    );
    expect(snapshots(json).find((m) => m.metadata.name === 'replay-caracal-sts-0-snapshot')).toEqual({
      apiVersion: 'snapshot.storage.k8s.io/v1',
      kind: 'VolumeSnapshot',
      metadata: {
        name: 'replay-caracal-sts-0-snapshot',
        namespace: 'caracal-prod',
        labels: expect.objectContaining({ 'app.kubernetes.io/component': 'sts-replay' }),
      },
      spec: { volumeSnapshotClassName: 'csi-snapclass', source: { persistentVolumeClaimName: 'replay-caracal-sts-0' } },
    });
    expect(manifests.map((m) => m.depends_on)).toEqual(
      [...replay.claimNames('gateway'), ...replay.claimNames('sts')].map((c) => [
        `kubernetes_persistent_volume_claim_v1.caracal_${c.replace('-caracal-', '_').replace(/-/g, '_')}`,
      ]),
    );
    expect(replay.snapshots).toHaveLength(5);
  });

  test('GIVEN a suffix WHEN synthesized THEN the snapshots are <claim>-<suffix>', () => {
    const names = snapshots(synth({ pods: { gateway: 1 }, snapshot: { className: 'csi-snapclass', suffix: 'before-upgrade' } }).json).map(
      (m) => m.metadata.name,
    );
    expect(names).toEqual(['replay-caracal-gateway-0-before-upgrade']);
  });

  test('GIVEN the rendered VolumeSnapshots WHEN validated against the external-snapshotter v8.6.0 CRD schema (ajv) THEN each is valid and names exactly one source', () => {
    const rendered = snapshots(synth({ snapshot: { className: 'csi-snapclass', suffix: 'nightly' } }).json);
    expect(rendered).toHaveLength(5);
    for (const object of rendered) {
      expect(schemaFor(schemas, object as { apiVersion: string; kind: string }).validate(object)).toEqual([]);
      // The CRD's CEL rule (not run by ajv): exactly one of persistentVolumeClaimName and volumeSnapshotContentName.
      expect(Object.keys(object.spec.source)).toEqual(['persistentVolumeClaimName']);
    }
  });

  test('GIVEN a VolumeSnapshot with a misspelt field or no source WHEN validated against the same schema THEN the validator names the problem (it is not a pass-through)', () => {
    const good = snapshots(synth({ snapshot: { className: 'csi-snapclass' } }).json)[0];
    const schema = schemaFor(schemas, good as { apiVersion: string; kind: string });
    expect(schema.validate({ ...good, spec: { ...good.spec, snapshotClassName: 'x' } })).toEqual([
      '/spec: unknown field "snapshotClassName"',
    ]);
    expect(schema.validate({ ...good, spec: { volumeSnapshotClassName: 'csi-snapclass' } })).toEqual([
      "/spec: must have required property 'source'",
    ]);
  });
});

describe('ReplayVolumes props', () => {
  test('GIVEN every kind of bad prop WHEN constructed THEN one error lists each with the field, the value and what is accepted', () => {
    const bad = {
      ...base,
      pods: { sts: 0, api: 2 },
      sts: { storageSize: '5GB', storageClassName: 'Fast_SSD', mountPath: 'var/replay' },
      gateway: { storagesize: '5Gi' },
      snapshot: { className: 'CSI class', suffix: 'Nightly!' },
      snapshots: true,
    } as unknown as ReplayVolumesProps;
    let message = '';
    try {
      synthScope((s) => new ReplayVolumes(s, 'replay', bad));
    } catch (e) {
      message = (e as Error).message;
    }

    expect(message.split('\n')).toEqual([
      'stack/replay: 9 problems',
      '  - snapshots: "snapshots" is not a ReplayVolumes prop: expected one of environment, namespace, pods, sts, gateway, snapshot, logicalIdPrefix; did you mean "snapshot"?',
      '  - pods.api: "api" is not a service with a replay volume: expected one of sts, gateway',
      '  - pods.sts: 0 is out of range: expected an integer from 1 to 200',
      '  - sts.storageSize: "5GB" is not a volume size of at least 1Gi: expected a Kubernetes quantity such as 5Gi; did you mean `5Gi` or `5G`?',
      '  - sts.storageClassName: "Fast_SSD" is not a storage class name: expected a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", at most 253 characters',
      '  - sts.mountPath: "var/replay" is not an absolute path (a directory of its own, read-write): expected e.g. /var/lib/caracal/replay',
      '  - gateway.storagesize: "storagesize" is not a replay volume setting: expected one of storageSize, storageClassName, mountPath; did you mean "storageSize"?',
      '  - snapshot.className: "CSI class" is not a VolumeSnapshotClass name: expected a DNS-1123 subdomain: lower-case letters, digits, "-" and ".", at most 253 characters',
      '  - snapshot.suffix: "Nightly!" is not a snapshot name suffix: expected a DNS-1123 label (lower-case letters, digits and "-") of at most 40 characters (snapshots are <claim>-<suffix>)',
    ]);
  });

  test('GIVEN a snapshot without a class WHEN constructed THEN the error asks for the VolumeSnapshotClass name', () => {
    expect(() => synth({ snapshot: {} as never })).toThrow(/snapshot\.className: undefined is not a .*VolumeSnapshotClass name/);
  });
});

describe('CaracalStores replay', () => {
  function stores(replay?: Json): { json: Json; stores: CaracalStores } {
    let built!: CaracalStores;
    const { json } = synthScope((s) => {
      built = new CaracalStores(s, 'stores', {
        environment: 'prod',
        namespace: 'caracal-prod',
        postgres: StoresPostgres.external({ host: 'db.example.com', sslMode: 'verify-full' }),
        pools: { sts: { replicas: 2, maxReplicas: 4 } },
        ...(replay ? { replay } : {}),
      });
    });
    return { json, stores: built };
  }

  test("GIVEN sts autoscaling to 4 pods WHEN the composite is synthesized THEN sts has 4 claims, gateway 2, and both services' values carry the StatefulSet and the mount", () => {
    const { json, stores: s } = stores({ gateway: { storageSize: '10Gi' }, snapshot: { className: 'csi-snapclass' } });

    expect(s.replay.claimNames('sts')).toHaveLength(4);
    expect(s.replay.claimNames('gateway')).toHaveLength(2);
    expect(claims(json).caracal_replay_gateway_1.spec.resources.requests.storage).toBe('10Gi');
    expect(snapshots(json)).toHaveLength(6);
    const values = s.helmValues();
    expect(values.gateway.statefulSet?.name).toBe('caracal-gateway');
    expect(values.sts.volumeMounts).toContainEqual({ name: 'replay', mountPath: '/var/lib/caracal/replay', readOnly: false });
    expect(values.api.statefulSet).toBeUndefined();
    expect(values.api.volumeMounts.map((m) => m.name)).not.toContain('replay');
    expect(s.serviceWorkload('sts').statefulSet?.volumeClaimTemplate[0].spec.resources.requests).toEqual({ storage: '5Gi' });
    expect(s.serviceWorkload('api').statefulSet).toBeUndefined();
  });

  test.each([
    [['api', 'audit'], []],
    [
      ['api', 'sts'],
      ['caracal_replay_sts_0', 'caracal_replay_sts_1'],
    ],
  ] as const)(
    'GIVEN the services %j WHEN the composite is synthesized THEN only sts and gateway among them get replay claims (%j)',
    (services, expected) => {
      const withStatefulSet: string[] = [];
      const { json } = synthScope((sc) => {
        const built = new CaracalStores(sc, 'stores', {
          environment: 'prod',
          namespace: 'caracal-prod',
          services: [...services],
          postgres: StoresPostgres.external({ host: 'db.example.com', sslMode: 'verify-full' }),
        });
        for (const [service, v] of Object.entries<StoresServiceValues>(built.helmValues()))
          if (v.statefulSet) withStatefulSet.push(service);
      });
      expect(Object.keys(claims(json)).filter((k) => k.startsWith('caracal_replay_'))).toEqual(expected);
      expect(withStatefulSet).toEqual(expected.length > 0 ? ['sts'] : []);
    },
  );

  test('GIVEN a bad replay prop and a bad composite prop WHEN the composite is built THEN one error names both', () => {
    expect(() =>
      synthScope(
        (sc) =>
          new CaracalStores(sc, 'stores', {
            environment: 'prod',
            namespace: 'caracal-prod',
            postgres: StoresPostgres.external({ host: 'db.example.com', sslMode: 'verify-full' }),
            replay: { sts: { storageSize: '5GB' } },
            logicalIdPrefixx: 'x',
          } as never),
      ),
    ).toThrow(
      /stack\/stores: 2 problems\n.*logicalIdPrefixx.*did you mean "logicalIdPrefix"\?\n {2}- stack\/stores\/replay: sts\.storageSize: "5GB" .*did you mean `5Gi` or `5G`\?$/,
    );
  });
});
