// The reporting database built from the lower-level constructs.
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { ConfigMapV1 } from '@cdktf/provider-kubernetes/lib/config-map-v1';
import { PersistentVolumeClaimV1 } from '@cdktf/provider-kubernetes/lib/persistent-volume-claim-v1';
import { ReportingDatabase } from '../src/reporting-database';

const build = () =>
  Testing.synthScope((scope) => new ReportingDatabase(scope, 'reporting', { environment: 'reporting', namespace: 'reporting' }));

describe('ReportingDatabase', () => {
  test('GIVEN the lower-level constructs WHEN synthesized THEN Postgres runs with its own volume and the audit pool ConfigMap', () => {
    const synth = build();
    expect(synth).toHaveResourceWithProperties(StatefulSetV1, {
      metadata: expect.objectContaining({ name: 'postgres', namespace: 'reporting' }),
    });
    expect(synth).toHaveResource(PersistentVolumeClaimV1);
    expect(synth).toHaveResourceWithProperties(ConfigMapV1, {
      metadata: expect.objectContaining({ name: 'caracal-audit-db' }),
      data: expect.objectContaining({ DB_POOL_MAX: '5', PGDATABASE: 'caracal' }),
    });
  });

  test('GIVEN the lower-level constructs WHEN synthesized THEN the output matches the snapshot', () => {
    expect(JSON.parse(build())).toMatchSnapshot();
  });

  test('GIVEN the same input WHEN synthesized twice THEN the output is byte-identical', () => {
    expect(build()).toBe(build());
  });
});
