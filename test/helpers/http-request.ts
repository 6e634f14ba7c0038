// One HTTP request to a listening service on a connection of its own (agent: false), so that a
// cluster hands each to its next worker: for tests that drive real processes, not app.inject.
import { request as httpRequest } from 'node:http';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown> | null;
  headers: Record<string, string | string[] | undefined>;
}

/** A body given as a Buffer is sent as it is (with contentType); anything else as JSON. */
export function sendRequest(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  { contentType = 'application/json', headers = {} }: { contentType?: string; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      new URL(path, base),
      {
        method,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload === undefined ? {} : { 'content-type': contentType }),
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? null : (JSON.parse(text) as Record<string, unknown>),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
