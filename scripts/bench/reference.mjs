// The reference: a bare Fastify with the same stack, started the same way as the server.
// GET /hello answers a constant; POST /echo/:id answers a small JSON for a JSON body, the bare
// framework's share of an `_execute`; POST /proxy makes one undici call to the sink and relays it.
import Fastify from 'fastify';
import { Agent, request } from 'undici';

const port = Number(process.env.PORT ?? 0);
const sink = process.env.SINK_URL;
const agent = new Agent({ connections: 128, keepAliveTimeout: 10_000 });
const app = Fastify({ logger: false });

app.get('/hello', async () => ({ hello: 'world' }));
app.post('/echo/:id', async (req) => ({ status: 'ok', connector_id: req.params.id }));
app.post('/proxy', async (req) => {
  const res = await request(`${sink}/`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(req.body ?? {}),
  });
  return res.body.json();
});
app.get('/api/status', async () => ({ status: { overall: { level: 'available' } } }));

await app.listen({ port, host: '127.0.0.1' });
