// A loopback TCP proxy in front of PostgreSQL that a test can cut, freeze, slow down and restore,
// to see the service through a database outage without stopping the real server.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /**
   * Stops forwarding bytes, either way, on every connection, open or opened later, without
   * closing any: a half-open TCP connection or a server that stopped answering, as the client
   * sees it. What is sent meanwhile waits, as in a network that comes back, until restore().
   */
  freeze(): void;
  /**
   * Delays every chunk, either way, on every connection, by ms (0: none), keeping their order: a
   * distant or congested database that still answers.
   */
  slow(ms: number): void;
  /** Accepts connections again, forwards what waited, and ends any slowing down. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let up = true;
  let frozen = false;
  let delayMs = 0;
  const sockets = new Set<net.Socket>();
  const flushers = new Set<() => void>();
  // By hand rather than pipe(): pipe resumes a paused source when its destination drains. What
  // is delayed (and the end after it) waits in order; while frozen, nothing is passed on.
  const forward = (from: net.Socket, to: net.Socket) => {
    const queue: Array<{ at: number; chunk: Buffer | null }> = [];
    let timer: NodeJS.Timeout | null = null;
    const pass = (chunk: Buffer | null) => {
      if (chunk === null) {
        to.end();
        return;
      }
      if (to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (!frozen) from.resume();
      });
    };
    const flush = () => {
      timer = null;
      const now = Date.now();
      while (!frozen && queue.length > 0 && (queue[0] as { at: number }).at <= now)
        pass((queue.shift() as { chunk: Buffer | null }).chunk);
      const next = queue[0];
      if (next !== undefined && !frozen) timer = setTimeout(flush, Math.max(0, next.at - now));
    };
    flushers.add(flush);
    from.on('close', () => flushers.delete(flush));
    const arrive = (chunk: Buffer | null) => {
      if (delayMs === 0 && queue.length === 0) {
        pass(chunk);
        return;
      }
      queue.push({ at: Date.now() + delayMs, chunk });
      if (timer === null) timer = setTimeout(flush, delayMs);
    };
    from.on('data', (chunk: Buffer) => arrive(chunk));
    from.on('end', () => arrive(null));
  };
  const server = net.createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
    if (frozen) {
      client.pause();
      upstream.pause();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
    },
    freeze() {
      frozen = true;
      for (const s of sockets) s.pause();
    },
    slow(ms: number) {
      delayMs = ms;
    },
    restore() {
      up = true;
      frozen = false;
      delayMs = 0;
      for (const s of sockets) s.resume();
      for (const flush of flushers) flush();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
