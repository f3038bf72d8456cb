// The "Migration Job fails" first checks that come before any SQL, one layer at a time, so the verdict names the
// layer that breaks: the host name resolves, a TCP connection opens within the timeout, TLS works as the sslmode
// asks (the server's certificate and host name), the login authenticates, and the database exists and admits it.
import dns from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Client } from 'pg';
import { classifyConnectError, connect, ConnectionSettings } from '../migrate/connection';
import { finding, ok, type Outcome, unchecked } from './report';

/** Days before a server certificate's expiry at which the doctor calls it a finding. */
export const CERT_EXPIRY_FINDING_DAYS = 7;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    }),
  ]);
}

const isSocketDir = (host: string) => host.startsWith('/');

export async function checkDns(s: ConnectionSettings): Promise<Outcome> {
  if (isSocketDir(s.host)) return ok(`${s.host} is a Unix socket directory (no DNS)`);
  if (net.isIP(s.host)) return ok(`${s.host} is an IP address (no DNS)`);
  try {
    const found = await withTimeout(dns.lookup(s.host, { all: true }), s.connectTimeoutMs, `resolving ${s.host}`);
    return ok(`${s.host} resolves to ${found.map((a) => a.address).join(', ')}`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return finding(
      `host name ${JSON.stringify(s.host)} does not resolve (${code})`,
      "the host: PGHOST must be the Postgres Service name (in the Job's namespace, or fully qualified: <name>.<namespace>.svc.cluster.local) or the managed endpoint",
    );
  }
}

/** Opens a socket to the server (TCP, or the Unix socket in a socket directory) within the connect timeout. */
function openSocket(s: ConnectionSettings): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = isSocketDir(s.host)
      ? net.connect({ path: `${s.host}/.s.PGSQL.${s.port}` })
      : net.connect({ host: s.host, port: s.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' }));
    }, s.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export async function checkTcp(s: ConnectionSettings): Promise<Outcome> {
  const started = Date.now();
  try {
    const socket = await openSocket(s);
    socket.destroy();
    return ok(`${s.host}:${s.port} accepts connections (${Date.now() - started} ms)`);
  } catch (e) {
    const c = classifyConnectError(e, s);
    return finding(c.message, c.firstCheck ?? 'host and port');
  }
}

/** Postgres' SSLRequest: length 8, code 80877103. The server answers one byte, S (TLS follows) or N. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

async function sslAnswer(socket: net.Socket, timeoutMs: number): Promise<string> {
  return withTimeout(
    new Promise<string>((resolve, reject) => {
      socket.once('data', (d) => resolve(String.fromCharCode(d[0])));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('the server closed the connection after the SSLRequest')));
      socket.write(SSL_REQUEST);
    }),
    timeoutMs,
    'SSLRequest',
  );
}

/** TLS as the sslmode asks, shown with the server certificate's names and expiry. */
export async function checkTls(s: ConnectionSettings): Promise<Outcome> {
  if (s.sslMode === 'disable') return ok('not used: sslmode=disable (the connection is not encrypted)');
  if (isSocketDir(s.host)) return ok('not used over a Unix socket');
  let socket: net.Socket;
  try {
    socket = await openSocket(s);
  } catch (e) {
    return unchecked(`no connection to try TLS on (${(e as Error).message})`, 'the TCP connect check above');
  }
  try {
    const answer = await sslAnswer(socket, s.connectTimeoutMs);
    if (answer !== 'S') {
      if (s.sslMode === 'allow' || s.sslMode === 'prefer')
        return ok(`the server offers no TLS; sslmode=${s.sslMode} falls back to an unencrypted connection`);
      return finding(
        `${s.host}:${s.port} does not support SSL, and sslmode=${s.sslMode} requires it`,
        'SSL mode: enable ssl on the server, or weaken PGSSLMODE (prefer or disable) where the network is trusted',
      );
    }
    const secure = tls.connect({ ...s.tls, socket });
    const cert = await withTimeout(
      new Promise<tls.PeerCertificate>((resolve, reject) => {
        secure.once('secureConnect', () => resolve(secure.getPeerCertificate()));
        secure.once('error', reject);
      }),
      s.connectTimeoutMs,
      'TLS handshake',
    ).finally(() => secure.destroy());
    const cn = (x: tls.Certificate | undefined) => (x && typeof x.CN === 'string' ? x.CN : JSON.stringify(x ?? {}));
    const validTo = new Date(cert.valid_to);
    const days = Math.floor((validTo.getTime() - Date.now()) / 86_400_000);
    const verified = s.tls?.rejectUnauthorized === true;
    const details = [
      `subject ${cn(cert.subject)}, issuer ${cn(cert.issuer)}${cert.subjectaltname ? `, ${cert.subjectaltname}` : ''}`,
      `valid until ${validTo.toISOString()} (${days} days)`,
    ];
    if (days < CERT_EXPIRY_FINDING_DAYS)
      return finding(
        `the server certificate expires in ${days} day(s) (${validTo.toISOString()})`,
        'renew the server certificate (and its CA in PGSSLROOTCERT if that changes) before it expires',
        details,
      );
    const what =
      s.sslMode === 'verify-full'
        ? 'certificate chain and host name verified'
        : verified
          ? 'certificate chain verified (host name not checked: sslmode is not verify-full)'
          : 'encrypted, certificate NOT verified (no root certificate; use verify-full with PGSSLROOTCERT)';
    return ok(`TLS under sslmode=${s.sslMode}: ${what}`, details);
  } catch (e) {
    const c = classifyConnectError(e, s);
    return finding(c.message, c.firstCheck ?? 'SSL mode');
  } finally {
    socket.destroy();
  }
}

export interface LoginResult {
  readonly auth: Outcome;
  readonly database: Outcome;
  readonly client?: Client;
}

/** Log in as the doctor's settings say (libpq's prefer/allow fallbacks included). */
export async function checkLogin(s: ConnectionSettings, hasPassword: boolean, transportOk: boolean): Promise<LoginResult> {
  if (!hasPassword) {
    const why = unchecked('no password to log in with (see the password file above)', 'fix the password file first');
    return { auth: why, database: why };
  }
  if (!transportOk) {
    const why = unchecked('the server cannot be reached (see the checks above)', 'fix the first failing check above');
    return { auth: why, database: why };
  }
  try {
    const client = await connect(s);
    return {
      client,
      auth: ok(`logged in as ${s.user} (password from ${s.passwordSource.replace(/=.*/, '')})`),
      database: ok(`database ${s.database} exists and ${s.user} may CONNECT`),
    };
  } catch (e) {
    const c = classifyConnectError(e, s);
    const authOk = ok(`the server accepted ${s.user}'s password before refusing the database`);
    if (c.field === 'database') return { auth: authOk, database: finding(c.message, c.firstCheck ?? 'the database') };
    if (/permission denied for database/i.test(c.message))
      return {
        auth: authOk,
        database: finding(
          `${s.user} lacks CONNECT on database ${s.database}: ${c.message}`,
          `CONNECT is revoked from PUBLIC: the migration Job grants it to this environment's logins (up --provision); for the owner login, GRANT CONNECT ON DATABASE ${s.database} TO ${s.user} as the database owner`,
        ),
      };
    return {
      auth: finding(c.message, c.firstCheck ?? 'the database secret and the user'),
      database: unchecked('not reached: the login failed', 'fix authentication first'),
    };
  }
}
