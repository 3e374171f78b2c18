import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverLogConnector } from '../../src/connectors/server_log/index.js';
import { webhookConnector } from '../../src/connectors/webhook/index.js';
import { createConnector, type ExecuteEnvelope } from '../helpers/connectors.js';
import { createApiKey, createUser } from '../helpers/identities.js';
import {
  createDatabase,
  inDatabase,
  postgresAvailable,
  type TestDatabase,
} from '../helpers/postgres.js';
import { type Api, startServer, type TestServer } from '../helpers/server.js';
import { type Simulator, sendJson, startSimulator } from '../simulators/base.js';

/**
 * Three instances on loopback, each with its own path.data, sharing one PostgreSQL database:
 * what one instance writes, every other one answers at once; a change reaches the other
 * instances' caches within a second; racing writes resolve as Kibana resolves them; and nothing
 * is lost or done twice.
 */

const available = await postgresAvailable();

/** The most a change may take to reach another instance's caches. */
const PROPAGATION_MS = 1000;

let db: TestDatabase;
let vendor: Simulator;
let servers: TestServer[] = [];
let a: Api;
let b: Api;
let c: Api;

/** Every run the vendor received, by the token in its body. */
const received = new Map<string, number>();

function startInstance(url: string): Promise<TestServer> {
  return startServer({
    connectorTypes: [webhookConnector, serverLogConnector],
    settings: {
      'store.engine': 'postgres',
      'store.postgres.url': url,
      'store.postgres.pool.max': 4,
      // Timing here is about the store, not about a busy test machine.
      'loadShedding.enabled': false,
    },
  });
}

/** A small seeded generator, so a failing mix of operations can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function run(api: Api, id: string, token: string) {
  return api<ExecuteEnvelope>('POST', `/api/actions/connector/${id}/_execute`, {
    body: { params: { body: JSON.stringify({ token }) } },
  });
}

/** Calls `attempt` until it returns true; the time it took, or a failure after `limitMs`. */
async function timeUntil(attempt: () => Promise<boolean>, limitMs = 5000): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await attempt()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function webhook(path: string) {
  return {
    name: `hook ${path}`,
    connector_type_id: '.webhook',
    config: { url: `${vendor.url}${path}`, method: 'post', hasAuth: true },
    secrets: { user: 'vendor-user', password: 'vendor-password' },
  };
}

describe.runIf(available)('three instances on one PostgreSQL database', () => {
  beforeAll(async () => {
    db = await createDatabase();
    vendor = await startSimulator((req, res) => {
      const token = (req.json as { token?: string } | undefined)?.token;
      if (token !== undefined) received.set(token, (received.get(token) ?? 0) + 1);
      sendJson(res, 200, { ok: true });
    });
    // All three at once on an empty database: they migrate concurrently.
    servers = await Promise.all([1, 2, 3].map(() => startInstance(db.url)));
    [a, b, c] = servers.map((s) => s.api) as [Api, Api, Api];
  }, 60_000);

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await vendor?.close();
    await db?.drop();
  });

  it('started on a fresh database together, migrated once, with their own data folders', async () => {
    const migrations = await inDatabase(db.url, (client) =>
      client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version'),
    );
    expect(migrations.rows.map((r) => r.version)).toEqual([1, 2]);
    expect(new Set(servers.map((s) => s.dataDir)).size).toBe(3);
    for (const api of [a, b, c]) expect((await api('GET', '/api/status')).status).toBe(200);
  });

  it('answers racing creates of one id on two instances with one 200 and one 409', async () => {
    for (let i = 0; i < 10; i++) {
      const id = `race-${i}`;
      const answers = await Promise.all(
        [a, b].map((api) =>
          api('POST', `/api/actions/connector/${id}`, {
            body: { name: `race ${i}`, connector_type_id: '.server-log' },
          }),
        ),
      );
      expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(answers.find((r) => r.status === 409)?.body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: `Saved object [action/${id}] conflict`,
      });
      const winner = answers.find((r) => r.status === 200)?.body as { name: string };
      expect((await c(`GET`, `/api/actions/connector/${id}`)).body).toMatchObject(winner);
    }
  });

  it('uses an update made on A in the next run on B, within a second', async () => {
    const id = await createConnector(a, webhook('/before'));
    expect((await run(b, id, 'warm-b')).body.status).toBe('ok');
    expect(vendor.last().path).toBe('/before');
    // B now holds the connector, secrets decrypted, in its cache.
    const updated = await a('PUT', `/api/actions/connector/${id}`, {
      body: {
        name: 'moved',
        config: webhook('/after').config,
        secrets: { user: 'vendor-user-2', password: 'vendor-password-2' },
      },
    });
    expect(updated.status).toBe(200);
    let n = 0;
    const took = await timeUntil(async () => {
      const token = `after-update-${n++}`;
      expect((await run(b, id, token)).body.status).toBe('ok');
      return vendor.last().path === '/after';
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
    expect(vendor.last().headers.authorization).toBe(
      `Basic ${Buffer.from('vendor-user-2:vendor-password-2').toString('base64')}`,
    );
    expect((await c('GET', `/api/actions/connector/${id}`)).body).toMatchObject({
      name: 'moved',
    });
  });

  it('answers 404 on B within a second of a delete on A', async () => {
    const id = await createConnector(b, webhook('/doomed'));
    expect((await run(b, id, 'before-delete')).body.status).toBe('ok');
    expect((await a('DELETE', `/api/actions/connector/${id}`)).status).toBe(204);
    let n = 0;
    const took = await timeUntil(async () => {
      const res = await run(b, id, `after-delete-${n++}`);
      if (res.status === 200) return false;
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: `Saved object [action/${id}] not found`,
      });
      return true;
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it('refuses on B an API key invalidated on A, within a second', async () => {
    const key = await createApiKey(a, { name: 'shared-key' });
    expect((await b('GET', '/api/actions/connectors', { auth: key.auth })).status).toBe(200);
    const invalidated = await a('POST', '/internal/security/api_key/invalidate', {
      body: { apiKeys: [{ id: key.id, name: key.name }], isAdmin: true },
    });
    expect(invalidated.status).toBe(200);
    const took = await timeUntil(
      async () => (await b('GET', '/api/actions/connectors', { auth: key.auth })).status === 401,
    );
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it('refuses on C a password changed on B, within a second', async () => {
    const auth = await createUser(a, 'shared_user', ['viewer']);
    expect((await c('GET', '/api/actions/connectors', { auth })).status).toBe(200);
    const changed = await b('POST', '/internal/security/users/shared_user/password', {
      body: { newPassword: 'a-new-password-2' },
    });
    expect(changed.status).toBe(204);
    const took = await timeUntil(
      async () => (await c('GET', '/api/actions/connectors', { auth })).status === 401,
    );
    expect(took).toBeLessThan(PROPAGATION_MS);
  });

  it('spreads creates, updates, deletes and runs over the three; all agree, nothing lost or doubled', async () => {
    const apis = [a, b, c];
    const random = prng(20_260_102);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    /** What each connector should be: its name and vendor path; absent once deleted. */
    const expected = new Map<string, { name: string; path: string }>();
    /** Runs answered `ok`, by connector. */
    const runs = new Map<string, string[]>();
    let token = 0;

    const worker = async (w: number) => {
      for (let step = 0; step < 40; step++) {
        const api = pick(apis);
        const live = [...expected.keys()];
        const roll = random();
        if (live.length < 3 || roll < 0.25) {
          const id = `mix-${w}-${step}`;
          const res = await api('POST', `/api/actions/connector/${id}`, {
            body: webhook(`/p/${id}/0`),
          });
          expect(res.status).toBe(200);
          expected.set(id, { name: `hook /p/${id}/0`, path: `/p/${id}/0` });
        } else if (roll < 0.45) {
          const id = pick(live);
          const path = `/p/${id}/${step}`;
          expected.set(id, { name: `renamed ${step}`, path });
          const res = await api('PUT', `/api/actions/connector/${id}`, {
            body: {
              name: `renamed ${step}`,
              config: webhook(path).config,
              secrets: webhook(path).secrets,
            },
          });
          // Another worker may have deleted it meanwhile.
          if (res.status === 404) expect(expected.has(id)).toBe(false);
          else expect(res.status).toBe(200);
        } else if (roll < 0.55) {
          const id = pick(live);
          expected.delete(id);
          const res = await api('DELETE', `/api/actions/connector/${id}`);
          expect([204, 404]).toContain(res.status);
        } else {
          const id = pick(live);
          const t = `mix-run-${token++}`;
          const res = await run(api, id, t);
          if (res.status === 404) continue;
          expect(res.status).toBe(200);
          expect(res.body.status).toBe('ok');
          runs.set(id, [...(runs.get(id) ?? []), t]);
        }
      }
    };
    // Each worker owns its own ids for creates, but updates, deletes and runs range over all.
    await Promise.all([0, 1, 2, 3, 4, 5].map(worker));

    // Every acknowledged run reached the vendor exactly once; nothing else did.
    const acknowledged = [...runs.values()].flat();
    expect(acknowledged.length).toBeGreaterThan(20);
    for (const t of acknowledged) expect(received.get(t), t).toBe(1);
    const mixReceived = [...received.keys()].filter((t) => t.startsWith('mix-run-'));
    expect(mixReceived.sort()).toEqual([...acknowledged].sort());

    // Every instance gives the same answers, and they match what was acknowledged.
    const views = await Promise.all(
      apis.map(async (api) => {
        const list = await api<Array<{ id: string; name: string; config: { url: string } }>>(
          'GET',
          '/api/actions/connectors',
        );
        return list.body
          .filter((x) => x.id.startsWith('mix-'))
          .map((x) => ({ id: x.id, name: x.name, url: x.config.url }))
          .sort((x, y) => (x.id < y.id ? -1 : 1));
      }),
    );
    expect(views[1]).toEqual(views[0]);
    expect(views[2]).toEqual(views[0]);
    // Writes to one connector from different workers may land in another order than they were
    // sent, so the survivors are compared as a set, and each name with its own vendor path.
    expect(views[0]?.map((v) => v.id)).toEqual([...expected.keys()].sort());
    for (const v of views[0] ?? []) {
      const path = new URL(v.url).pathname;
      const step = /^renamed (\d+)$/.exec(v.name)?.[1];
      expect(path, v.name).toBe(
        step === undefined ? v.name.slice('hook '.length) : `/p/${v.id}/${step}`,
      );
    }

    // A second on, every instance runs each survivor with its latest config and secrets.
    await new Promise((resolve) => setTimeout(resolve, PROPAGATION_MS));
    for (const v of views[0] ?? []) {
      for (const [i, api] of apis.entries()) {
        const t = `check-${v.id}-${i}`;
        expect((await run(api, v.id, t)).body.status).toBe('ok');
        expect(vendor.last().path).toBe(new URL(v.url).pathname);
        expect(received.get(t)).toBe(1);
      }
    }

    // Each instance reads every run of a connector from the shared event log: two records each.
    for (const [id, tokens] of runs) {
      if (!expected.has(id)) continue;
      for (const api of apis) {
        await timeUntil(async () => {
          const found = await api<{ total: number }>(
            'GET',
            `/internal/event_log/action/${id}/_find?per_page=1`,
          );
          return found.body.total === (tokens.length + apis.length) * 2;
        });
      }
    }
  });

  it("returns a connector's runs with Kibana's event-log fields, whichever instance ran them", async () => {
    const id = await createConnector(a, webhook('/logged'));
    expect((await run(a, id, 'logged-a')).body.status).toBe('ok');
    expect((await run(b, id, 'logged-b')).body.status).toBe('ok');
    let docs: Array<Record<string, unknown>> = [];
    await timeUntil(async () => {
      const found = await c<{ total: number; data: Array<Record<string, unknown>> }>(
        'GET',
        `/internal/event_log/action/${id}/_find?per_page=10&sort_order=desc`,
      );
      docs = found.body.data;
      return found.body.total === 4;
    });
    const executed = docs.filter((d) => (d.event as { action: string }).action === 'execute');
    expect(executed).toHaveLength(2);
    for (const doc of executed) {
      expect(doc).toMatchObject({
        '@timestamp': expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        event: {
          provider: 'actions',
          action: 'execute',
          outcome: 'success',
          duration: expect.stringMatching(/^\d+$/),
        },
        message: `action executed: .webhook:${id}: hook /logged`,
        kibana: { space_ids: ['default'] },
        user: { name: 'elastic' },
      });
    }
  });

  it('forgets every cached connector when the LISTEN connection drops, and hears changes again', async () => {
    const id = await createConnector(a, webhook('/cached'));
    expect((await run(b, id, 'cache-it')).body.status).toBe('ok');
    // A change B cannot hear about: written straight into the database, with no NOTIFY.
    await inDatabase(db.url, (client) =>
      client.query(
        "UPDATE connectors SET config = jsonb_set(config, '{url}', to_jsonb($1::text)) WHERE id = $2",
        [`${vendor.url}/missed`, id],
      ),
    );
    expect((await run(b, id, 'still-cached')).body.status).toBe('ok');
    expect(vendor.last().path).toBe('/cached');
    const dropped = await inDatabase(db.url, (client) =>
      client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kcs-listen'",
      ),
    );
    expect(dropped.rowCount).toBe(3);
    let n = 0;
    const took = await timeUntil(async () => {
      expect((await run(b, id, `after-drop-${n++}`)).body.status).toBe('ok');
      return vendor.last().path === '/missed';
    });
    expect(took).toBeLessThan(PROPAGATION_MS);
    // Reconnected: an update on A reaches B's cache again.
    await timeUntil(async () => {
      const { rowCount } = await inDatabase(db.url, (client) =>
        client.query(
          "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kcs-listen'",
        ),
      );
      return rowCount === 3;
    });
    const updated = await a('PUT', `/api/actions/connector/${id}`, {
      body: { name: 'heard', config: webhook('/heard').config, secrets: webhook('/heard').secrets },
    });
    expect(updated.status).toBe(200);
    const heard = await timeUntil(async () => {
      expect((await run(b, id, `after-reconnect-${n++}`)).body.status).toBe('ok');
      return vendor.last().path === '/heard';
    });
    expect(heard).toBeLessThan(PROPAGATION_MS);
  });

  it('keeps whatever text the API accepts, NUL included, as the embedded engine does', async () => {
    const created = await a<{ id: string; name: string }>(
      'POST',
      '/api/actions/connector/nul%00id%01',
      { body: { name: 'nul\u0000name\u0001', connector_type_id: '.server-log' } },
    );
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ id: 'nul\u0000id\u0001', name: 'nul\u0000name\u0001' });
    const got = await b('GET', '/api/actions/connector/nul%00id%01');
    expect(got.body).toEqual(created.body);
    const ran = await c<ExecuteEnvelope>('POST', '/api/actions/connector/nul%00id%01/_execute', {
      body: { params: { message: 'nul\u0000message' } },
    });
    expect(ran.body).toEqual({ status: 'ok', connector_id: 'nul\u0000id\u0001' });
  });

  it('deletes a space made on A, with its connectors made on B, everywhere within a second', async () => {
    const created = await a('POST', '/api/spaces/space', {
      body: { id: 'shared-space', name: 'Shared' },
    });
    expect(created.status).toBe(200);
    const id = await createConnector(b, webhook('/in-space'), '/s/shared-space');
    const runIn = (api: Api, t: string) =>
      api<ExecuteEnvelope>('POST', `/s/shared-space/api/actions/connector/${id}/_execute`, {
        body: { params: { body: JSON.stringify({ token: t }) } },
      });
    expect((await run(c, id, 'not-in-default')).status).toBe(404);
    expect((await runIn(c, 'in-space-c')).body.status).toBe('ok');
    expect((await runIn(b, 'in-space-b')).body.status).toBe('ok');
    expect((await c('DELETE', '/api/spaces/space/shared-space')).status).toBe(204);
    let n = 0;
    const took = await timeUntil(async () => (await runIn(b, `space-gone-${n++}`)).status === 404);
    expect(took).toBeLessThan(PROPAGATION_MS);
    for (const api of [a, b, c]) {
      expect((await api('GET', `/s/shared-space/api/actions/connector/${id}`)).status).toBe(404);
    }
  });
});

if (!available) describe.skip('three instances on one PostgreSQL database (unreachable)', () => {});
