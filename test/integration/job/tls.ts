// TLS for the e2e server: a throwaway CA and a server certificate for the in-cluster host name, installed
// into a running test cluster (ssl can be turned on by a reload; a second call replaces the certificate).
import { execFileSync } from 'node:child_process';
import { chownSync, copyFileSync, chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withClient } from '../../support/postgres';

export interface TestCa {
  /** PEM of the CA that signed the server certificate (what the Job's CA Secret holds). */
  readonly caPem: string;
}

export async function enableTls(
  cluster: { url: string; dataDir: string },
  hostName: string,
  options: { readonly days?: number } = {},
): Promise<TestCa> {
  const days = String(options.days ?? 2);
  const dir = mkdtempSync(path.join(tmpdir(), 'caracal-e2e-tls-'));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-days',
    days,
    '-subj',
    '/CN=caracal-e2e-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${hostName}`);
  const ext = f('ext.cnf');
  require('node:fs').writeFileSync(ext, `subjectAltName=DNS:${hostName}\nextendedKeyUsage=serverAuth\n`);
  ssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.crt'),
    '-days',
    days,
    '-extfile',
    ext,
  );
  const owner = statSync(cluster.dataDir);
  for (const name of ['server.crt', 'server.key']) {
    const target = path.join(cluster.dataDir, name);
    copyFileSync(f(name), target);
    chownSync(target, owner.uid, owner.gid);
    chmodSync(target, 0o600);
  }
  await withClient(cluster.url, async (c) => {
    await c.query('ALTER SYSTEM SET ssl = on');
    await c.query('SELECT pg_reload_conf()');
  });
  return { caPem: readFileSync(f('ca.crt'), 'utf8') };
}
