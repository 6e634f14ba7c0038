// The workers' caches kept in step (service/worker-caches.ts): the supervisor's relay and a
// worker's half, a real child process standing in for the worker. A write waits for the others
// to drop what it changed, at most ACK_BOUND_MS; a worker whose event loop is blocked meanwhile
// knows, before it reads the announcement, that it must not use its cache.
import { fork, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { ACK_BOUND_MS, ChangeRelay, type Message, type RelayWorker } from '../../service/worker-caches.ts';

/** The child as the relay sees a cluster worker. */
function relayWorker(child: ChildProcess, id: number): RelayWorker {
  return {
    id,
    isConnected: () => child.connected,
    send: (message, callback) => child.send(message, callback),
    process: child,
  };
}

/** A writer the relay answers; its answers are kept. */
function fakeWriter(id: number): RelayWorker & { answers: Message[] } {
  const answers: Message[] = [];
  return { id, answers, isConnected: () => true, send: (message) => answers.push(message) > 0, process: { pid: 0 } };
}

/** The next test message of a type from the child. */
const next = <T>(child: ChildProcess, type: string): Promise<T> =>
  new Promise((resolve) => {
    const listener = (message: { type?: string }) => {
      if (message.type !== type) return;
      child.off('message', listener);
      resolve(message as T);
    };
    child.on('message', listener);
  });

async function setUp(t: { teardown(fn: () => unknown): void }) {
  const warnings: string[] = [];
  const relay = new ChangeRelay((message) => warnings.push(message));
  t.teardown(() => relay.close());
  const child = fork('test/helpers/worker-peer.ts', { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  t.teardown(() => child.kill('SIGKILL'));
  const worker = relayWorker(child, 1);
  child.on('message', (message) => relay.onMessage(worker, message));
  // It follows from its start: the first answer names the generation file.
  await next(child, 'test:applied');
  const behind = async () => {
    child.send({ type: 'test:behind' });
    return (await next<{ behind: boolean }>(child, 'test:behind')).behind;
  };
  return { relay, child, worker, warnings, behind };
}

t.test('given a worker following the relay', async (t) => {
  const { relay, child, behind } = await setUp(t);
  t.equal(await behind(), false, 'caught up once it follows');

  t.test(
    'when another worker announces a change, then it is dropped here and the writer answered once this worker acknowledged',
    async (t) => {
      const writer = fakeWriter(2);
      const applied = next<{ change: string }>(child, 'test:applied');
      relay.onMessage(writer, { type: 'clearance:changed', id: 7, changes: ['users/u1/p1'] });
      t.equal((await applied).change, 'users/u1/p1');
      while (writer.answers.length === 0) await new Promise((r) => setTimeout(r, 5));
      t.match(writer.answers[0], { type: 'clearance:announced', id: 7 });
      t.equal(await behind(), false);
    },
  );
});

t.test('given a worker whose event loop is blocked', async (t) => {
  const { relay, child, warnings, behind } = await setUp(t);
  const writer = fakeWriter(2);
  child.send({ type: 'test:block', ms: ACK_BOUND_MS * 8 });
  await next(child, 'test:blocking');
  const started = Date.now();
  relay.onMessage(writer, { type: 'clearance:changed', id: 1, changes: ['api_tokens/abc/abc'] });
  let unblocked = false;
  const afterBlock = next<{ behind: boolean }>(child, 'test:behind').then((answer) => {
    unblocked = true;
    return answer;
  });

  t.test(
    'when another worker announces a change, then the write is answered after the bound without its acknowledgement',
    async (t) => {
      while (writer.answers.length === 0) await new Promise((r) => setTimeout(r, 5));
      t.notOk(unblocked, 'answered while the worker is still blocked');
      t.ok(Date.now() - started >= ACK_BOUND_MS - 5, 'after waiting the bound for it');
      t.match(warnings, [/did not drop a write's changes within 250 ms/]);
    },
  );

  t.test(
    'when the blocked worker runs again, then before reading the announcement it knows it is behind, and after it, it is not',
    async (t) => {
      t.equal((await afterBlock).behind, true, 'behind: a request read now would bypass the cache');
      t.equal(await behind(), false, 'caught up once the announcement is read');
    },
  );
});
