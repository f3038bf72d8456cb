// The qa stack: the Caracal stores composed with the platform's own api Deployment.
import 'cdktf/lib/testing/adapters/jest';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Testing } from 'cdktf';
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Release } from '@cdktf/provider-helm/lib/release';
import { ValidationError } from '@caracal/stores';
import { PlatformStack, PlatformStackProps } from '../src/platform-stack';

const QA: PlatformStackProps = {
  environment: 'qa',
  namespace: 'caracal-qa',
  kubeContext: 'qa-cluster',
  apiImage: 'ghcr.io/example/caracal-api:1.4.0',
};

function qa(props: Partial<PlatformStackProps> = {}): PlatformStack {
  return new PlatformStack(Testing.app(), 'qa', { ...QA, ...props });
}

describe('PlatformStack', () => {
  test('GIVEN the qa environment WHEN synthesized THEN the api Deployment carries what the stores wire into it', () => {
    const synth = Testing.synth(qa());
    expect(synth).toHaveResourceWithProperties(DeploymentV1, {
      metadata: expect.objectContaining({ name: 'caracal-api', namespace: 'caracal-qa' }),
      spec: expect.objectContaining({
        replicas: '2',
        template: expect.objectContaining({
          spec: expect.objectContaining({
            automount_service_account_token: false,
            init_container: [expect.objectContaining({ name: 'caracal-wait-for-schema' })],
            volume: expect.arrayContaining([
              { name: 'caracal-db-credentials', secret: { secret_name: 'caracal-db-api', default_mode: '0440' } },
            ]),
          }),
        }),
      }),
    });
  });

  test('GIVEN the qa environment WHEN synthesized THEN Postgres and Redis run in the cluster behind NetworkPolicies, with the migration release', () => {
    const synth = Testing.synth(qa());
    expect(synth).toHaveResourceWithProperties(StatefulSetV1, { metadata: expect.objectContaining({ name: 'postgres' }) });
    expect(synth).toHaveResourceWithProperties(StatefulSetV1, { metadata: expect.objectContaining({ name: 'redis' }) });
    expect(synth).toHaveResource(NetworkPolicyV1);
    expect(synth).toHaveResourceWithProperties(Release, { name: 'caracal-qa-migrate', namespace: 'caracal-qa' });
  });

  test('GIVEN the api Deployment WHEN synthesized THEN it matches the snapshot (newest migration and logical ids masked)', () => {
    const json = JSON.parse(Testing.synth(qa()));
    const { depends_on: dependsOn, ...api } = json.resource.kubernetes_deployment_v1.api;
    // It waits for Postgres, its NetworkPolicy, the migration release, Redis and its NetworkPolicy.
    expect(dependsOn).toHaveLength(5);
    const text = JSON.stringify(api).replace(/"--version","\d+"/, '"--version","<newest migration>"');
    expect(JSON.parse(text)).toMatchSnapshot();
  });

  test('GIVEN the qa stack WHEN fully synthesized THEN the stack and the hook chart are in its own output directory', () => {
    const outdir = Testing.fullSynth(qa());
    expect(existsSync(path.join(outdir, 'stacks', 'qa', 'cdk.tf.json'))).toBe(true);
    const assets = readdirSync(path.join(outdir, 'stacks', 'qa', 'assets'));
    expect(assets.some((a) => a.includes('chart'))).toBe(true);
  });

  test.each([
    ['environment', { environment: 'QA' }, /environment: "QA" is not a valid environment name/],
    ['namespace', { namespace: 'Caracal QA' }, /namespace: "Caracal QA" is not a namespace/],
  ])('GIVEN a bad %s WHEN the stack is built THEN a ValidationError names it', (_field, props, message) => {
    expect(() => qa(props)).toThrow(ValidationError);
    expect(() => qa(props)).toThrow(message);
  });
});
