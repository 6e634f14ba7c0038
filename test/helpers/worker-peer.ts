// A stand-in cluster worker for test/foundation/worker-caches.test.ts, run with fork(): the
// WorkerPeers of a real worker, whose applied changes are reported to the test, and which can be
// told to block its event loop and then, before reading anything more, say whether it is behind.
import { WorkerPeers } from '../../service/worker-caches.ts';

const peers = new WorkerPeers();
peers.follow((change) => process.send?.({ type: 'test:applied', change }));

process.on('message', (message: { type?: string; ms?: number }) => {
  if (message.type === 'test:behind') process.send?.({ type: 'test:behind', behind: peers.behind() });
  if (message.type === 'test:block') {
    process.send?.({ type: 'test:blocking' });
    const end = Date.now() + (message.ms ?? 0);
    while (Date.now() < end) {
      // The event loop is held: no message is read meanwhile.
    }
    // As a request read first after the block would: before any message that arrived meanwhile.
    process.send?.({ type: 'test:behind', behind: peers.behind() });
  }
});
