// The Pod Security "restricted" check helper itself: a compliant pod passes, each control's violation
// is found with its field, in manifests and in real provider-kubernetes Terraform JSON.
import { Testing } from 'cdktf';
import { CronJobV1 } from '@cdktf/provider-kubernetes/lib/cron-job-v1';
import { StatefulSetV1 } from '@cdktf/provider-kubernetes/lib/stateful-set-v1';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkChartDirectory, checkManifests, checkTerraformJson, checkYamlManifests, formatViolations } from '../../support/pod-security';

type Obj = Record<string, any>;

const restrictedContainer = (name: string): Obj => ({
  name,
  image: 'redis:7.2.5',
  ports: [{ containerPort: 6379 }],
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  },
  livenessProbe: { tcpSocket: { port: 6379 } },
});

/** A Deployment whose pod meets "restricted" and the project's hardening. */
function goodDeployment(): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'good' },
    spec: {
      template: {
        metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'runtime/default' } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 999,
            seccompProfile: { type: 'RuntimeDefault' },
            sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }],
          },
          initContainers: [restrictedContainer('init')],
          containers: [restrictedContainer('app')],
          volumes: [
            { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
            { name: 'conf', configMap: { name: 'conf' } },
            { name: 'secret', secret: { secretName: 's' } },
            { name: 'tmp', emptyDir: {} },
            { name: 'token', projected: { sources: [] } },
          ],
        },
      },
    },
  };
}

type Mutation = (pod: Obj, meta: Obj) => void;
const app = (pod: Obj) => pod.containers[0];
const init = (pod: Obj) => pod.initContainers[0];

describe('Pod Security "restricted" check helper', () => {
  test('GIVEN a compliant Deployment WHEN checked THEN one pod is found with no violation and no hardening finding', () => {
    const report = checkManifests([goodDeployment()], 'chart');

    expect(report.pods).toEqual([{ address: 'chart:Deployment/good', podPath: 'spec.template.spec', containers: ['app', 'init'] }]);
    expect(formatViolations(report.violations)).toBe('');
    expect(report.hardening).toEqual([]);
  });

  test.each<[string, Mutation, string, string]>([
    // Baseline controls.
    [
      'pod hostProcess',
      (p) => (p.securityContext.windowsOptions = { hostProcess: true }),
      'HostProcess',
      'spec.securityContext.windowsOptions.hostProcess',
    ],
    [
      'container hostProcess',
      (p) => (app(p).securityContext.windowsOptions = { hostProcess: true }),
      'HostProcess',
      'spec.containers[app].securityContext.windowsOptions.hostProcess',
    ],
    ['hostNetwork', (p) => (p.hostNetwork = true), 'Host Namespaces', 'spec.hostNetwork'],
    ['hostPID', (p) => (p.hostPID = true), 'Host Namespaces', 'spec.hostPID'],
    ['hostIPC', (p) => (p.hostIPC = true), 'Host Namespaces', 'spec.hostIPC'],
    [
      'privileged container',
      (p) => (app(p).securityContext.privileged = true),
      'Privileged Containers',
      'spec.containers[app].securityContext.privileged',
    ],
    [
      'privileged init container',
      (p) => (init(p).securityContext.privileged = true),
      'Privileged Containers',
      'spec.initContainers[init].securityContext.privileged',
    ],
    [
      'SYS_ADMIN added',
      (p) => (app(p).securityContext.capabilities.add = ['SYS_ADMIN']),
      'Capabilities',
      'spec.containers[app].securityContext.capabilities.add',
    ],
    [
      'hostPath volume',
      (p) => p.volumes.push({ name: 'host', hostPath: { path: '/' } }),
      'HostPath Volumes',
      'spec.volumes[host].hostPath',
    ],
    ['hostPort', (p) => (app(p).ports[0].hostPort = 6379), 'Host Ports', 'spec.containers[app].ports[0].hostPort'],
    [
      'probe host',
      (p) => (app(p).livenessProbe.tcpSocket.host = '10.0.0.1'),
      'Host Probes / Lifecycle Hooks',
      'spec.containers[app].livenessProbe.tcpSocket.host',
    ],
    [
      'preStop host',
      (p) => (app(p).lifecycle = { preStop: { httpGet: { host: 'node', port: 80 } } }),
      'Host Probes / Lifecycle Hooks',
      'spec.containers[app].lifecycle.preStop.httpGet.host',
    ],
    [
      'AppArmor unconfined field',
      (p) => (p.securityContext.appArmorProfile = { type: 'Unconfined' }),
      'AppArmor',
      'spec.securityContext.appArmorProfile.type',
    ],
    [
      'AppArmor unconfined annotation',
      (_p, m) => (m.annotations['container.apparmor.security.beta.kubernetes.io/app'] = 'unconfined'),
      'AppArmor',
      "metadata.annotations['container.apparmor.security.beta.kubernetes.io/app']",
    ],
    ['SELinux type', (p) => (p.securityContext.seLinuxOptions = { type: 'spc_t' }), 'SELinux', 'spec.securityContext.seLinuxOptions.type'],
    [
      'SELinux user',
      (p) => (app(p).securityContext.seLinuxOptions = { user: 'system_u' }),
      'SELinux',
      'spec.containers[app].securityContext.seLinuxOptions.user',
    ],
    [
      'SELinux role',
      (p) => (init(p).securityContext.seLinuxOptions = { role: 'sysadm_r' }),
      'SELinux',
      'spec.initContainers[init].securityContext.seLinuxOptions.role',
    ],
    [
      'procMount Unmasked',
      (p) => (app(p).securityContext.procMount = 'Unmasked'),
      '/proc Mount Type',
      'spec.containers[app].securityContext.procMount',
    ],
    [
      'seccomp Unconfined',
      (p) => (app(p).securityContext.seccompProfile = { type: 'Unconfined' }),
      'Seccomp',
      'spec.containers[app].securityContext.seccompProfile.type',
    ],
    [
      'unsafe sysctl',
      (p) => p.securityContext.sysctls.push({ name: 'kernel.msgmax', value: '1' }),
      'Sysctls',
      'spec.securityContext.sysctls[1].name',
    ],
    // Restricted controls.
    ['nfs volume', (p) => p.volumes.push({ name: 'nfs', nfs: { server: 'x', path: '/' } }), 'Volume Types', 'spec.volumes[nfs].nfs'],
    ['gitRepo volume', (p) => p.volumes.push({ name: 'git', gitRepo: { repository: 'x' } }), 'Volume Types', 'spec.volumes[git].gitRepo'],
    [
      'allowPrivilegeEscalation unset',
      (p) => delete app(p).securityContext.allowPrivilegeEscalation,
      'Privilege Escalation',
      'spec.containers[app].securityContext.allowPrivilegeEscalation',
    ],
    [
      'allowPrivilegeEscalation true on init',
      (p) => (init(p).securityContext.allowPrivilegeEscalation = true),
      'Privilege Escalation',
      'spec.initContainers[init].securityContext.allowPrivilegeEscalation',
    ],
    ['pod runAsNonRoot false', (p) => (p.securityContext.runAsNonRoot = false), 'Running as Non-root', 'spec.securityContext.runAsNonRoot'],
    [
      'pod runAsNonRoot unset',
      (p) => delete p.securityContext.runAsNonRoot,
      'Running as Non-root',
      'spec.containers[app].securityContext.runAsNonRoot',
    ],
    [
      'container runAsNonRoot false',
      (p) => (app(p).securityContext.runAsNonRoot = false),
      'Running as Non-root',
      'spec.containers[app].securityContext.runAsNonRoot',
    ],
    ['pod runAsUser 0', (p) => (p.securityContext.runAsUser = 0), 'Running as Non-root user', 'spec.securityContext.runAsUser'],
    [
      'container runAsUser 0',
      (p) => (init(p).securityContext.runAsUser = 0),
      'Running as Non-root user',
      'spec.initContainers[init].securityContext.runAsUser',
    ],
    [
      'pod seccomp unset',
      (p) => delete p.securityContext.seccompProfile,
      'Seccomp',
      'spec.containers[app].securityContext.seccompProfile.type',
    ],
    [
      'capabilities not dropped',
      (p) => (app(p).securityContext.capabilities = {}),
      'Capabilities',
      'spec.containers[app].securityContext.capabilities.drop',
    ],
    [
      'CHOWN added (baseline ok, restricted not)',
      (p) => (app(p).securityContext.capabilities.add = ['CHOWN']),
      'Capabilities',
      'spec.containers[app].securityContext.capabilities.add',
    ],
  ])('GIVEN %s WHEN checked THEN the control and field are reported', (_name, mutate, control, field) => {
    const d = goodDeployment();
    mutate(d.spec.template.spec, d.spec.template.metadata);

    const report = checkManifests([d], 'chart');

    expect(report.violations).toContainEqual(expect.objectContaining({ address: 'chart:Deployment/good', control, field }));
  });

  test.each<[string, Mutation]>([
    [
      'runAsNonRoot set only on containers',
      (p) => {
        delete p.securityContext.runAsNonRoot;
        app(p).securityContext.runAsNonRoot = true;
        init(p).securityContext.runAsNonRoot = true;
      },
    ],
    [
      'seccomp set only on containers',
      (p) => {
        delete p.securityContext.seccompProfile;
        app(p).securityContext.seccompProfile = { type: 'RuntimeDefault' };
        init(p).securityContext.seccompProfile = { type: 'Localhost', localhostProfile: 'p.json' };
      },
    ],
    ['NET_BIND_SERVICE added', (p) => (app(p).securityContext.capabilities.add = ['NET_BIND_SERVICE'])],
    ['hostPort 0', (p) => (app(p).ports[0].hostPort = 0)],
    ['SELinux level only', (p) => (p.securityContext.seLinuxOptions = { level: 's0:c1,c2', type: 'container_t' })],
    [
      'csi and ephemeral volumes',
      (p) => p.volumes.push({ name: 'c', csi: { driver: 'x' } }, { name: 'e', ephemeral: { volumeClaimTemplate: {} } }),
    ],
  ])('GIVEN %s WHEN checked THEN it is allowed', (_name, mutate) => {
    const d = goodDeployment();
    mutate(d.spec.template.spec, d.spec.template.metadata);

    expect(formatViolations(checkManifests([d], 'chart').violations)).toBe('');
  });

  test('GIVEN a pod without read-only root filesystem or with a service-account token WHEN checked THEN hardening is reported separately from violations', () => {
    const d = goodDeployment();
    delete d.spec.template.spec.automountServiceAccountToken;
    d.spec.template.spec.initContainers[0].securityContext.readOnlyRootFilesystem = false;

    const report = checkManifests([d], 'chart');

    expect(report.violations).toEqual([]);
    expect(report.hardening.map((h) => [h.check, h.field])).toEqual([
      ['automountServiceAccountToken', 'spec.automountServiceAccountToken'],
      ['readOnlyRootFilesystem', 'spec.initContainers[init].securityContext.readOnlyRootFilesystem'],
    ]);
  });

  test('GIVEN a bare Pod manifest with hostNetwork WHEN checked THEN the pod is found and the violation reported', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { ...goodDeployment().spec.template.spec, hostNetwork: true },
    };

    const report = checkManifests([pod], 'chart');

    expect(report.pods.map((p) => p.address)).toEqual(['chart:Pod/p']);
    expect(report.violations.map((v) => v.field)).toEqual(['spec.hostNetwork']);
  });

  test('GIVEN provider-kubernetes resources synthesized by cdktf WHEN checked THEN pods in a StatefulSet and a CronJob are found with Terraform addresses and API field names', () => {
    const json = Testing.synthScope((scope) => {
      new StatefulSetV1(scope, 'sts', {
        metadata: { name: 'sts' },
        spec: {
          serviceName: 'sts',
          selector: { matchLabels: { a: 'b' } },
          template: {
            metadata: { labels: { a: 'b' } },
            spec: {
              automountServiceAccountToken: false,
              securityContext: { runAsNonRoot: true, runAsUser: '999', seccompProfile: { type: 'RuntimeDefault' } },
              container: [
                {
                  name: 'redis',
                  image: 'redis',
                  port: [{ containerPort: 6379, hostPort: 6379 }],
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
                },
              ],
              volume: [
                { name: 'host', hostPath: { path: '/var' } },
                { name: 'dapi', downwardApi: { items: [] } },
              ],
            },
          },
        },
      });
      new CronJobV1(scope, 'cron', {
        metadata: { name: 'cron' },
        spec: {
          schedule: '*/5 * * * *',
          jobTemplate: {
            metadata: {},
            spec: {
              template: {
                metadata: {},
                spec: {
                  hostPid: true,
                  securityContext: { runAsNonRoot: true, runAsUser: '0', seccompProfile: { type: 'RuntimeDefault' } },
                  container: [
                    {
                      name: 'psql',
                      image: 'postgres',
                      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                    },
                  ],
                },
              },
            },
          },
        },
      });
    });

    const report = checkTerraformJson(json);

    expect(report.pods).toEqual([
      { address: 'kubernetes_cron_job_v1.cron', podPath: 'spec.jobTemplate.spec.template.spec', containers: ['psql'] },
      { address: 'kubernetes_stateful_set_v1.sts', podPath: 'spec.template.spec', containers: ['redis'] },
    ]);
    expect(report.violations.map((v) => `${v.address} ${v.control} ${v.field}`).sort()).toEqual([
      'kubernetes_cron_job_v1.cron Host Namespaces spec.hostPID',
      'kubernetes_cron_job_v1.cron Running as Non-root user spec.securityContext.runAsUser',
      'kubernetes_stateful_set_v1.sts Host Ports spec.containers[redis].ports[0].hostPort',
      'kubernetes_stateful_set_v1.sts HostPath Volumes spec.volumes[host].hostPath',
      'kubernetes_stateful_set_v1.sts Volume Types spec.volumes[host].hostPath',
    ]);
    expect(report.hardening.map((h) => `${h.address} ${h.field}`)).toEqual([
      'kubernetes_cron_job_v1.cron spec.automountServiceAccountToken',
      'kubernetes_cron_job_v1.cron spec.containers[psql].securityContext.readOnlyRootFilesystem',
    ]);
  });

  test('GIVEN a multi-document YAML text WHEN checked THEN every document is read and the pod violation found', () => {
    const yaml = [
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b',
      'apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n      containers:\n        - name: run\n          image: node\n          securityContext: {allowPrivilegeEscalation: true, capabilities: {drop: [ALL]}}',
    ].join('\n---\n');

    const report = checkYamlManifests(yaml, 'job.yaml');

    expect(report.pods.map((p) => p.address)).toEqual(['job.yaml:Job/migrate']);
    expect(report.violations.map((v) => v.field)).toEqual(['spec.containers[run].securityContext.allowPrivilegeEscalation']);
  });

  test('GIVEN a Helm chart directory with template actions WHEN checked THEN the templates are parsed and their pods checked', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'caracal-chart-'));
    mkdirSync(path.join(dir, 'templates'));
    writeFileSync(path.join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: hook\nversion: 0.1.0\n');
    writeFileSync(
      path.join(dir, 'templates', 'job.yaml'),
      [
        'apiVersion: batch/v1',
        'kind: Job',
        'metadata:',
        '  name: migrate',
        '  annotations:',
        '    caracal.dev/hash: {{ .Values.contentHash | quote }}',
        'spec:',
        '  template:',
        '    spec:',
        '      hostNetwork: true',
        '      containers:',
        '        - name: run',
        '          image: "{{ .Values.image }}"',
      ].join('\n'),
    );

    try {
      const report = checkChartDirectory(dir);

      expect(report.pods.map((p) => p.address)).toEqual([path.join('templates', 'job.yaml') + ':Job/migrate']);
      expect(report.violations.map((v) => v.control)).toContain('Host Namespaces');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
