// doctor's TLS check against a Postgres of this file's own with TLS on (a CA made here by openssl): the chain and
// host name verified under verify-full, a CA that did not sign the server certificate, a host name the
// certificate does not name, and a certificate about to expire, each with the fix named.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { resolvePostgresTarget, runDoctor } from '../../../src/doctor';
import { OwnCluster, startOwnCluster } from '../../support/postgres';
import { enableTls } from '../job/tls';
import { verdict } from './world';

let cluster: OwnCluster;
let dir: string;
let password: string;
let caFile: string;

beforeAll(async () => {
  cluster = await startOwnCluster();
  dir = mkdtempSync(path.join(tmpdir(), 'caracal-doctor-tls-'));
  caFile = path.join(dir, 'ca.crt');
  writeFileSync(caFile, (await enableTls(cluster, 'localhost', { days: 30 })).caPem);
  password = decodeURIComponent(new URL(cluster.url).password);
  writeFileSync(path.join(dir, 'password'), password);
  await serverCertificateValidFor(30);
}, 120_000);
afterAll(async () => {
  await cluster?.destroy();
});

/** Waits until the server presents a certificate valid for about `days` (the reload that installs it is asynchronous). */
async function serverCertificateValidFor(days: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const left = await new Promise<number>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: cluster.port }, () =>
        socket.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])),
      );
      socket.once('data', (d) => {
        if (String.fromCharCode(d[0]) !== 'S') return resolve(-1);
        const s = tls.connect({ socket, rejectUnauthorized: false }, () => {
          resolve((new Date(s.getPeerCertificate().valid_to).getTime() - Date.now()) / 86_400_000);
          s.destroy();
        });
      });
      socket.once('error', reject);
    });
    if (Math.abs(left - days) < 1) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the server never presented a certificate valid for ${days} days`);
}

function env(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    HOME: dir,
    PGHOST: 'localhost',
    PGPORT: String(cluster.port),
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
    PGPASSWORD_FILE: path.join(dir, 'password'),
    PGSSLMODE: 'verify-full',
    PGSSLROOTCERT: caFile,
    ...extra,
  };
}

async function tlsVerdict(extra: NodeJS.ProcessEnv = {}) {
  const report = await runDoctor({ postgres: resolvePostgresTarget(env(extra)), rows: ['migration-job-fails'] });
  return { tls: verdict(report, 'tls'), auth: verdict(report, 'auth') };
}

describe('doctor: TLS (sslmode)', () => {
  test('GIVEN verify-full with the CA that signed the server certificate WHEN doctor runs THEN TLS is ok with the chain and host name verified', async () => {
    const { tls: t, auth } = await tlsVerdict();
    expect(t.status).toBe('ok');
    expect(t.summary).toBe('TLS under sslmode=verify-full: certificate chain and host name verified');
    expect(t.details[0]).toBe('subject localhost, issuer caracal-e2e-ca, DNS:localhost');
    expect(auth.status).toBe('ok');
  });

  test('GIVEN PGSSLROOTCERT is a CA that did not sign the server certificate WHEN doctor runs THEN TLS is a finding naming PGSSLROOTCERT', async () => {
    const other = path.join(dir, 'other-ca');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        `${other}.key`,
        '-out',
        `${other}.crt`,
        '-days',
        '2',
        '-subj',
        '/CN=not-the-ca',
      ],
      { stdio: 'pipe' },
    );
    const { tls: t, auth } = await tlsVerdict({ PGSSLROOTCERT: `${other}.crt` });
    expect(t).toMatchObject({ status: 'finding', runbook: 'docs/operations.md#tls-and-sslmode' });
    expect(t.summary).toMatch(
      /^TLS with localhost:\d+ failed under PGSSLMODE=verify-full against the root certificate \S+other-ca\.crt \(PGSSLROOTCERT\): .*(self[- ]signed|unable to (get|verify))/i,
    );
    expect(t.next).toMatch(/PGSSLROOTCERT \(the CA that signed the server certificate\)/);
    expect(auth.status).toBe('unchecked');
  });

  test('GIVEN verify-full to an IP address the certificate does not name WHEN doctor runs THEN TLS is a finding about the host name', async () => {
    const { tls: t } = await tlsVerdict({ PGHOST: '127.0.0.1' });
    expect(t.status).toBe('finding');
    expect(t.summary).toMatch(/IP: 127\.0\.0\.1 is not in the cert's list|does not match/);
    expect(t.next).toMatch(/PGHOST is a name in the certificate/);
  });

  test('GIVEN a PGSSLROOTCERT file that cannot be read WHEN doctor runs THEN TLS is a finding naming the file, and the host is still checked', async () => {
    const report = await runDoctor({
      postgres: resolvePostgresTarget(env({ PGSSLROOTCERT: path.join(dir, 'missing-ca.crt') })),
      rows: ['migration-job-fails'],
    });
    expect(verdict(report, 'tls').status).toBe('finding');
    expect(verdict(report, 'tls').summary).toMatch(/PGSSLROOTCERT=.*missing-ca\.crt: the root certificate cannot be read \(ENOENT\)/);
    expect(verdict(report, 'tcp').status).toBe('ok');
  });

  test('GIVEN a server certificate that expires within a week WHEN doctor runs THEN TLS is a finding to renew it', async () => {
    writeFileSync(caFile, (await enableTls(cluster, 'localhost', { days: 2 })).caPem);
    await serverCertificateValidFor(2);
    const { tls: t } = await tlsVerdict();
    expect(t.status).toBe('finding');
    expect(t.summary).toMatch(/^the server certificate expires in 1 day\(s\)/);
    expect(t.next).toMatch(/renew the server certificate/);
  });
});
