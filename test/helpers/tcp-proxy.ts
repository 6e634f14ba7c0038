// A loopback TCP proxy in front of PostgreSQL that a test can cut, freeze and restore,
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
  /** Accepts connections again and forwards what waited. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let up = true;
  let frozen = false;
  const sockets = new Set<net.Socket>();
  // By hand rather than pipe(): pipe resumes a paused source when its destination drains.
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => {
      if (to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (!frozen) from.resume();
      });
    });
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
      s.on('end', () => (s === client ? upstream : client).end());
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
    restore() {
      up = true;
      frozen = false;
      for (const s of sockets) s.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
