// The previous application version as a load: Caracal's five services, each through its own login with its pool
// size, application_name and connection timeout from its ConfigMap, one pool per pod, zone context set per
// transaction, server-side prepared statements (named queries, as drivers do), explicit column lists. Arrivals are
// open-loop (Poisson, a fixed rate per service), so latency counts from when a request arrived, including the wait
// for a pooled connection: a stall shows up as latency, a pool timeout or an error as a failed transaction.
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool, PoolClient } from 'pg';

export const SERVICES = ['api', 'coordinator', 'audit', 'sts', 'gateway'] as const;
export type Service = (typeof SERVICES)[number];

/** One service as its ConfigMap and Secret describe it. */
export interface ServiceConnection {
  readonly service: Service;
  readonly user: string;
  readonly password: string;
  /** PGAPPNAME. */
  readonly applicationName: string;
  /** DB_POOL_MAX. */
  readonly poolMax: number;
  /** Pods (replicas), each with its own pool. */
  readonly pods: number;
  /** DB_CONNECTION_TIMEOUT_MS: how long a request waits for a pooled connection before it fails. */
  readonly connectionTimeoutMs: number;
  /** DB_IDLE_TIMEOUT_MS. */
  readonly idleTimeoutMs: number;
}

/** Ids the load works on, read once from the data (the services would have them from their caches and requests). */
export interface LoadFixtures {
  readonly zones: ReadonlyArray<{
    id: string;
    applications: string[];
    resources: string[];
    sessions: Array<{ id: string; tokenHash: Buffer }>;
    grants: string[];
    policies: string[];
    agents: string[];
    agentServices: string[];
    providers: string[];
  }>;
}

/** Transactions per second of each service: about 380 in all, as in the outside check. */
export const DEFAULT_RATES: Readonly<Record<Service, number>> = { api: 120, coordinator: 60, audit: 40, sts: 100, gateway: 60 };

export interface TxRecord {
  readonly service: Service;
  readonly kind: string;
  /** When the request arrived (ms since the epoch). */
  readonly arrived: number;
  readonly latencyMs: number;
  /** SQLSTATE, `pool-timeout`, `expectation: ...`, or the message: set when the transaction failed. */
  readonly error?: string;
}

export interface LoadOptions {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly services: readonly ServiceConnection[];
  readonly fixtures: LoadFixtures;
  readonly rates?: Partial<Record<Service, number>>;
  /** Read sessions with `SELECT *` through a prepared statement (what service authors must not do: docs/service-authors.md). */
  readonly selectStar?: boolean;
}

type Tx = (c: PoolClient, zone: LoadFixtures['zones'][number]) => Promise<void>;

const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)];

class Expectation extends Error {}

/** The audit service's next past day to read (query-day). */
let dayCursor = 0;

async function inZone(c: PoolClient, zoneId: string, body: () => Promise<void>): Promise<void> {
  await c.query('BEGIN');
  try {
    await c.query({ name: 'zone', text: `SELECT set_config('caracal.zone_id', $1, true)`, values: [zoneId] });
    await body();
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** The old version's transactions per service, with weights. Every query names its columns. */
function transactions(selectStar: boolean): Record<Service, Array<[number, string, Tx]>> {
  const q = (c: PoolClient, name: string, text: string, values: unknown[]) => c.query({ name, text, values });
  return {
    api: [
      [
        35,
        'read-catalog',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(c, 'apps', `SELECT id, name, kind, status FROM public.applications WHERE zone_id = $1 ORDER BY name LIMIT 20`, [z.id]);
            await q(c, 'res', `SELECT id, name, uri FROM public.resources WHERE zone_id = $1 AND provider_id IS NOT NULL LIMIT 20`, [z.id]);
          }),
      ],
      [
        20,
        'create-session',
        (c, z) =>
          inZone(c, z.id, async () => {
            const id = randomUUID();
            await q(
              c,
              'new-session',
              `INSERT INTO public.sessions (id, zone_id, subject, application_id, token_hash, expires_at) VALUES ($1, $2, $3, $4, $5, now() + interval '1 hour')`,
              [id, z.id, `user-${Math.floor(Math.random() * 500)}`, pick(z.applications), randomBytes(32)],
            );
            await q(
              c,
              'outbox',
              `INSERT INTO public.event_outbox (zone_id, topic, aggregate_type, aggregate_id, payload) VALUES ($1, 'session.created', 'session', $2, '{}')`,
              [z.id, id],
            );
          }),
      ],
      [
        15,
        'touch-session',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(c, 'touch', `UPDATE public.sessions SET last_seen_at = now() WHERE zone_id = $1 AND id = $2`, [
              z.id,
              pick(z.sessions).id,
            ]);
          }),
      ],
      [
        5,
        'touch-zone',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(c, 'touch-zone-session', `UPDATE public.sessions SET last_seen_at = now() WHERE zone_id = $1 AND id = $2`, [
              z.id,
              pick(z.sessions).id,
            ]);
            await q(c, 'touch-zone', `UPDATE public.zones SET updated_at = now() WHERE id = $1`, [z.id]);
          }),
      ],
      [
        8,
        'revoke-grant',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(c, 'revoke', `UPDATE public.delegated_grants SET revoked_at = now() WHERE zone_id = $1 AND id = $2`, [
              z.id,
              pick(z.grants),
            ]);
            await q(
              c,
              'revocation',
              `INSERT INTO public.caracal_outbox (zone_id, stream, message_key, payload) VALUES ($1, 'revocation', $2, '{}')`,
              [z.id, randomUUID()],
            );
          }),
      ],
      [
        7,
        'new-policy-version',
        (c, z) =>
          inZone(c, z.id, async () => {
            const policy = pick(z.policies);
            const r = await q(
              c,
              'next-version',
              `SELECT coalesce(max(version), 0) + 1 AS v FROM public.policy_versions WHERE zone_id = $1 AND policy_id = $2`,
              [z.id, policy],
            );
            await q(
              c,
              'policy-version',
              `INSERT INTO public.policy_versions (zone_id, policy_id, version, document, document_sha256, created_by)
               VALUES ($1, $2, $3, '{"allow": ["read"]}', $4, 'api') ON CONFLICT (zone_id, policy_id, version) DO NOTHING`,
              [z.id, policy, r.rows[0].v, randomBytes(32)],
            );
            await q(c, 'policy-touch', `UPDATE public.policies SET updated_at = now() WHERE zone_id = $1 AND id = $2`, [z.id, policy]);
          }),
      ],
      [
        10,
        'dispatch-outbox',
        async (c) => {
          await c.query('BEGIN');
          try {
            const r = await q(
              c,
              'pending',
              `SELECT id FROM public.event_outbox WHERE status = 'pending' ORDER BY next_attempt_at, id LIMIT 10 FOR UPDATE SKIP LOCKED`,
              [],
            );
            if (r.rows.length)
              await q(
                c,
                'dispatched',
                `UPDATE public.event_outbox SET status = 'dispatched', dispatched_at = now(), stream_entry_id = id || '-0' WHERE id = ANY($1)`,
                [r.rows.map((x) => x.id)],
              );
            await c.query('COMMIT');
          } catch (e) {
            await c.query('ROLLBACK').catch(() => undefined);
            throw e;
          }
        },
      ],
    ],
    coordinator: [
      [
        40,
        'heartbeat',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(c, 'heartbeat', `UPDATE public.agent_sessions SET last_heartbeat_at = now() WHERE zone_id = $1 AND id = $2`, [
              z.id,
              pick(z.agents),
            ]);
          }),
      ],
      [
        30,
        'invocation',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(
              c,
              'invoke',
              `INSERT INTO public.agent_invocations (zone_id, caller_agent_session_id, agent_service_id, status) VALUES ($1, $2, $3, 'started')`,
              [z.id, pick(z.agents), pick(z.agentServices)],
            );
          }),
      ],
      [
        20,
        'read-delegation',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(
              c,
              'edges',
              `SELECT id, scopes, epoch FROM public.delegation_edges WHERE zone_id = $1 AND delegate_agent_session_id = $2 AND revoked_at IS NULL`,
              [z.id, pick(z.agents)],
            );
            await q(c, 'epoch', `SELECT max(epoch) AS epoch FROM public.delegation_graph_epochs WHERE zone_id = $1`, [z.id]);
          }),
      ],
      [
        10,
        'delegate',
        (c, z) =>
          inZone(c, z.id, async () => {
            // One epoch bump per zone at a time, as the coordinator serializes them.
            await q(c, 'epoch-lock', `SELECT pg_advisory_xact_lock(hashtext($1))`, [z.id]);
            const r = await q(
              c,
              'bump',
              `INSERT INTO public.delegation_graph_epochs (zone_id, epoch, reason)
               SELECT $1, coalesce(max(epoch), 0) + 1, 'delegate' FROM public.delegation_graph_epochs WHERE zone_id = $1 RETURNING epoch`,
              [z.id],
            );
            await q(
              c,
              'edge',
              `INSERT INTO public.delegation_edges (zone_id, delegate_agent_session_id, principal_subject, scopes, epoch, expires_at)
               VALUES ($1, $2, 'user-1', '{read}', $3, now() + interval '1 hour')`,
              [z.id, pick(z.agents), r.rows[0].epoch],
            );
          }),
      ],
    ],
    audit: [
      [
        85,
        'ingest-batch',
        (c, z) =>
          inZone(c, z.id, async () => {
            const rows = 20;
            const values: unknown[] = [];
            const tuples: string[] = [];
            for (let i = 0; i < rows; i++) {
              const b = i * 8;
              tuples.push(
                `($${b + 1}, $${b + 2}, now(), $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, '{"status": 200}')`,
              );
              values.push(
                z.id,
                randomUUID(),
                'gateway',
                'request.authorized',
                `agent:${i}`,
                `resource:${i}`,
                'allow',
                `req-${randomUUID()}`,
              );
            }
            await q(
              c,
              'ingest',
              `INSERT INTO public.audit_events (zone_id, event_id, occurred_at, source, event_type, actor, subject, decision, request_id, payload) VALUES ${tuples.join(', ')}`,
              values,
            );
          }),
      ],
      [
        10,
        'query-day',
        (c, z) =>
          inZone(c, z.id, async () => {
            // The form docs/service-authors.md asks for: literal day bounds, so the planner prunes to one partition.
            // The five past days in turn (not at random), so every day is read a few times a second.
            const day = new Date(Date.now() - 86_400_000 * (1 + (dayCursor++ % 5)));
            const lo = `${day.toISOString().slice(0, 10)} 00:00:00+00`;
            const hi = `${new Date(Date.parse(lo) + 86_400_000).toISOString().slice(0, 10)} 00:00:00+00`;
            const r = await q(
              c,
              'day',
              `SELECT count(*)::int AS n FROM public.audit_events WHERE zone_id = $1 AND ingested_at >= $2::timestamptz AND ingested_at < $3::timestamptz`,
              [z.id, lo, hi],
            );
            if (r.rows[0].n === 0) throw new Expectation('expectation: a past day of audit events is empty');
          }),
      ],
      [
        5,
        'health',
        async (c) => {
          await q(c, 'health', `SELECT check_name, ok FROM public.audit_partition_health(7)`, []);
        },
      ],
    ],
    sts: [
      [
        60,
        'token-exchange',
        (c, z) =>
          inZone(c, z.id, async () => {
            const s = pick(z.sessions);
            const r = selectStar
              ? await q(c, 'session-star', `SELECT * FROM public.sessions WHERE token_hash = $1`, [s.tokenHash])
              : await q(
                  c,
                  'session',
                  `SELECT id, subject, application_id, expires_at, revoked_at FROM public.sessions WHERE token_hash = $1`,
                  [s.tokenHash],
                );
            if (r.rows.length !== 1) throw new Expectation('expectation: the session of a known token hash is not found');
            await q(
              c,
              'grants',
              `SELECT scopes FROM public.delegated_grants WHERE zone_id = $1 AND subject = $2 AND revoked_at IS NULL LIMIT 5`,
              [z.id, r.rows[0].subject],
            );
            await q(
              c,
              'binding',
              `SELECT v.document_sha256, v.combining_algorithm FROM public.policy_set_bindings b
                 JOIN public.policy_set_versions v ON v.zone_id = b.zone_id AND v.policy_set_id = b.policy_set_id AND v.version = b.policy_set_version
                WHERE b.zone_id = $1 AND b.application_id = $2`,
              [z.id, r.rows[0].application_id],
            );
          }),
      ],
      [
        30,
        'provider-grant',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(c, 'pgrant', `SELECT scopes, expires_at FROM public.provider_grants WHERE zone_id = $1 AND provider_id = $2 LIMIT 5`, [
              z.id,
              pick(z.providers),
            ]);
          }),
      ],
      [
        10,
        'step-up',
        (c, z) =>
          inZone(c, z.id, async () => {
            await q(
              c,
              'challenge',
              `INSERT INTO public.step_up_challenges (zone_id, session_id, method, challenge_hash, expires_at) VALUES ($1, $2, 'totp', $3, now() + interval '5 minutes')`,
              [z.id, pick(z.sessions).id, randomBytes(32)],
            );
          }),
      ],
    ],
    gateway: [
      [
        45,
        'revision',
        (c, z) =>
          inZone(c, z.id, async () => {
            const r = await q(c, 'revision', `SELECT revision FROM public.gateway_binding_revision WHERE zone_id = $1`, [z.id]);
            if (r.rows.length !== 1) throw new Expectation("expectation: the zone's binding revision is missing");
          }),
      ],
      [
        30,
        'routes',
        (c, z) =>
          inZone(c, z.id, async () => {
            const r = await q(
              c,
              'routes',
              `SELECT b.route, b.upstream_uri, l.requests FROM public.gateway_resource_bindings b
                 LEFT JOIN public.resource_rate_limits l ON l.zone_id = b.zone_id AND l.resource_id = b.resource_id AND l.application_id IS NULL
                WHERE b.zone_id = $1 AND b.enabled`,
              [z.id],
            );
            if (r.rows.length === 0) throw new Expectation('expectation: the zone has no routes');
          }),
      ],
      [
        25,
        'revocation-snapshot',
        (c, z) =>
          inZone(c, z.id, async () => {
            // RLS scopes it to the context's zone: rows of another zone here mean isolation is off.
            const r = await q(
              c,
              'revoked',
              `SELECT count(DISTINCT zone_id)::int AS zones FROM public.sessions WHERE revoked_at IS NOT NULL`,
              [],
            );
            if (r.rows[0].zones > 1) throw new Expectation('expectation: the revocation snapshot sees other zones (RLS is off)');
          }),
      ],
    ],
  };
}

function errorCode(e: unknown): string {
  if (e instanceof Expectation) return e.message;
  const err = e as { code?: string; message?: string };
  if (err.code) return err.code;
  if (/timeout exceeded when trying to connect/.test(err.message ?? '')) return 'pool-timeout';
  return (err.message ?? String(e)).split('\n')[0];
}

/** A running load; `stop()` waits for transactions in flight and closes every pool. */
export class OldVersionLoad {
  readonly records: TxRecord[] = [];
  private readonly pools = new Map<Service, Pool[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopped = false;

  private constructor(private readonly o: LoadOptions) {}

  static start(o: LoadOptions): OldVersionLoad {
    const load = new OldVersionLoad(o);
    const txs = transactions(o.selectStar ?? false);
    for (const s of o.services) {
      const pools = Array.from({ length: s.pods }, () => {
        const pool = new Pool({
          host: o.host,
          port: o.port,
          database: o.database,
          user: s.user,
          password: s.password,
          application_name: s.applicationName,
          max: s.poolMax,
          connectionTimeoutMillis: s.connectionTimeoutMs,
          idleTimeoutMillis: s.idleTimeoutMs,
        });
        pool.on('error', () => undefined); // an idle client whose backend was terminated: the pool replaces it
        return pool;
      });
      load.pools.set(s.service, pools);
      const rate = o.rates?.[s.service] ?? DEFAULT_RATES[s.service];
      if (rate > 0) load.arrivals(s.service, rate, txs[s.service]);
    }
    return load;
  }

  /** Poisson arrivals at `rate` per second, each to the next pod, each a transaction picked by weight. */
  private arrivals(service: Service, rate: number, mix: Array<[number, string, Tx]>): void {
    const total = mix.reduce((a, [w]) => a + w, 0);
    let next = Date.now();
    let pod = 0;
    const tick = () => {
      if (this.stopped) return;
      const now = Date.now();
      while (next <= now) {
        let r = Math.random() * total;
        const [, kind, tx] = mix.find(([w]) => (r -= w) < 0) ?? mix[0];
        const pools = this.pools.get(service)!;
        this.run(service, kind, next, pools[pod++ % pools.length], tx);
        next += (-Math.log(1 - Math.random()) / rate) * 1000;
      }
      this.timers.push(setTimeout(tick, Math.max(1, next - Date.now())));
      if (this.timers.length > 64) this.timers.splice(0, 32);
    };
    tick();
  }

  private run(service: Service, kind: string, arrived: number, pool: Pool, tx: Tx): void {
    const zone = pick(this.o.fixtures.zones);
    const p = (async () => {
      let error: string | undefined;
      let client: PoolClient | undefined;
      try {
        client = await pool.connect();
        await tx(client, zone);
      } catch (e) {
        error = errorCode(e);
      } finally {
        // A client whose connection broke is destroyed rather than reused.
        client?.release(error !== undefined && !/^(expectation|[0-9A-Z]{5}$)/.test(error) ? true : undefined);
      }
      this.records.push({ service, kind, arrived, latencyMs: Date.now() - arrived, ...(error ? { error } : {}) });
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /**
   * One long transaction of the old version: reads `table` in the zone (holding ACCESS SHARE on it) and keeps the
   * transaction open for `seconds`, as a slow report or export would. Resolves with its record.
   */
  async longTransaction(service: Service, table: string, seconds: number): Promise<TxRecord> {
    const arrived = Date.now();
    const pool = this.pools.get(service)![0];
    const zone = this.o.fixtures.zones[0];
    let error: string | undefined;
    let client: PoolClient | undefined;
    try {
      client = await pool.connect();
      const c = client;
      await inZone(c, zone.id, async () => {
        await c.query(`SELECT count(*) FROM ${table}`);
        await c.query(`SELECT pg_sleep($1)`, [seconds]);
      });
    } catch (e) {
      error = errorCode(e);
    } finally {
      client?.release();
    }
    const rec: TxRecord = {
      service,
      kind: `long-transaction on ${table}`,
      arrived,
      latencyMs: Date.now() - arrived,
      ...(error ? { error } : {}),
    };
    this.records.push(rec);
    return rec;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.allSettled([...this.inFlight]);
    await Promise.allSettled([...this.pools.values()].flat().map((p) => p.end()));
  }
}
