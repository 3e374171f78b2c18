import { ELASTIC_AUTH, type TestServer } from './server.js';

/** For the connectors that stream: their raw `_execute` answer, and waits that cannot hang. */

/** POST `_execute` and hand back the raw response, for streamed answers. */
export function executeRaw(
  server: TestServer,
  id: string,
  params: unknown,
  signal?: AbortSignal,
): Promise<Response> {
  return fetch(`${server.url}/api/actions/connector/${id}/_execute`, {
    method: 'POST',
    headers: {
      authorization: ELASTIC_AUTH,
      'kbn-xsrf': 'true',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ params }),
    ...(signal !== undefined ? { signal } : {}),
  });
}

/** Fails the test instead of hanging when the awaited event never comes. */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`nothing after ${ms} ms`)), ms),
    ),
  ]);
}
