// A loopback TCP proxy in front of PostgreSQL that a test can cut, hang and restore,
// to see the service through a database outage without stopping the real server.
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** Drops every open connection and refuses new ones. */
  cut(): void;
  /**
   * Stops forwarding without closing anything, like a database that hangs: open connections get
   * no answer, new ones are accepted and then left without one.
   */
  hang(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let state: 'up' | 'cut' | 'hung' = 'up';
  const sockets = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** Connections accepted while hung, forwarded once restored. */
  let held: net.Socket[] = [];
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const forward = (client: net.Socket) => {
    const upstream = net.connect(targetPort, targetHost);
    const pair = { client, upstream };
    pairs.add(pair);
    for (const s of [client, upstream]) {
      track(s);
      s.on('close', () => pairs.delete(pair));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  };
  const server = net.createServer((client) => {
    if (state === 'cut') {
      client.destroy();
      return;
    }
    if (state === 'hung') {
      track(client);
      client.on('error', () => client.destroy());
      client.pause();
      held.push(client);
      return;
    }
    forward(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      state = 'cut';
      for (const s of sockets) s.destroy();
    },
    hang() {
      state = 'hung';
      for (const { client, upstream } of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore() {
      const was = state;
      state = 'up';
      if (was !== 'hung') return;
      for (const { client, upstream } of pairs) client.pipe(upstream).pipe(client);
      for (const client of held) if (!client.destroyed) forward(client);
      held = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
