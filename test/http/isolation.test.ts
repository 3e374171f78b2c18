import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector, execute } from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { answerLater, type Simulator, sendJson, startSimulator } from '../simulators/base.js';

/** A slow vendor ties up only its own pool: runs against another vendor go on at full speed. */
describe('vendor isolation', () => {
  let slow: Simulator;
  let fast: Simulator;
  let server: TestServer;

  beforeAll(async () => {
    slow = await startSimulator((_req, res) =>
      answerLater(res, 3000, () => sendJson(res, 200, {})),
    );
    fast = await startSimulator((_req, res) => sendJson(res, 200, {}), { host: '127.0.0.2' });
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
    await slow.close();
    await fast.close();
  });

  it('answers runs against a healthy vendor while another vendor is stuck', async () => {
    const hook = (url: string) =>
      createConnector(server.api, {
        connector_type_id: '.webhook',
        config: { url, method: 'post', hasAuth: false },
      });
    const slowId = await hook(`${slow.url}/`);
    const fastId = await hook(`${fast.url}/`);
    // More stuck runs than one vendor pool has connections.
    let stuckSettled = 0;
    const stuck = Array.from({ length: 150 }, () =>
      execute(server.api, slowId, { body: '{}' }).finally(() => {
        stuckSettled += 1;
      }),
    );
    while (slow.requests.length < 100) await new Promise((r) => setTimeout(r, 10));

    const results = await Promise.all(
      Array.from({ length: 10 }, () => execute(server.api, fastId, { body: '{}' })),
    );
    // Every run against the healthy vendor is answered while the stuck ones still wait.
    expect(stuckSettled).toBe(0);
    expect(results.map((r) => r.status)).toEqual(Array(10).fill('ok'));
    expect(fast.requests).toHaveLength(10);

    const finished = await Promise.all(stuck);
    expect(finished.every((r) => r.status === 'ok')).toBe(true);
  });
});
