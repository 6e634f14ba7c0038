// A download whose client stops reading is cut off, and the reads behind it end (the iterator's
// return()); one whose client reads gets the whole file.
import { type IncomingMessage, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import t from 'tap';
import { sendDownload } from '../../service/http/download.ts';

async function serve(t: { teardown(fn: () => unknown): void }, stallMs: number) {
  const state = { ended: false, chunks: 0 };
  const app = Fastify({ logger: false });
  app.get('/file', async (_request, reply) => {
    async function* endless() {
      try {
        for (;;) {
          state.chunks += 1;
          yield `${'x'.repeat(64 * 1024)}\n`;
        }
      } finally {
        state.ended = true;
      }
    }
    sendDownload(reply, { format: 'csv', fileName: 'f.csv', chunks: endless() }, stallMs);
    return reply;
  });
  app.get('/short', async (_request, reply) => {
    async function* three() {
      yield 'a\n';
      await new Promise((resolve) => setTimeout(resolve, stallMs * 2));
      yield 'b\n';
      yield 'c\n';
    }
    sendDownload(reply, { format: 'csv', fileName: 's.csv', chunks: three() }, stallMs);
    return reply;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => app.close());
  return { port: (app.server.address() as AddressInfo).port, state };
}

t.test('when the client stops reading, then the download is cut off and its reads end', async (t) => {
  const { port, state } = await serve(t, 300);
  let response: IncomingMessage | undefined;
  const call = request({ host: '127.0.0.1', port, path: '/file' }, (answer) => {
    response = answer;
    answer.pause(); // a client that takes nothing more
  });
  call.on('error', () => undefined);
  call.end();
  const until = Date.now() + 10_000;
  while (!state.ended && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
  t.ok(state.ended, 'the iterator behind it was ended');
  t.ok(state.chunks < 1000, `it stopped making chunks (${state.chunks})`);
  // Reading again, the client finds the file cut short, not a short file that looks whole.
  const complete = await new Promise<boolean>((resolve) => {
    response?.on('close', () => resolve(response?.complete ?? false));
    response?.on('error', () => undefined);
    response?.resume();
  });
  t.equal(complete, false, 'the connection closed mid-file');
});

t.test('when the client reads, then a slow source is no stall and the file comes whole', async (t) => {
  const { port } = await serve(t, 300);
  const body = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/short' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve(text));
      response.on('error', reject);
    }).end();
  });
  t.equal(body, 'a\nb\nc\n');
});
