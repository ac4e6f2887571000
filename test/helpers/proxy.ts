/**
 * A TCP proxy in front of the test PostgreSQL that can misbehave like a real network: freeze (stop
 * relaying without closing anything), cut connections, refuse new ones, or cut a connection right
 * after the client sends a given statement (so its answer is lost).
 */
import net from 'node:net';

export interface Proxy {
  port: number;
  /** Stop relaying in both directions; nothing is closed (a frozen network). */
  freeze(): void;
  /** Refuse (close at once) every new connection. */
  refuseNew(on: boolean): void;
  /** After the client sends a simple query containing this text, relay it, then cut that client off. */
  cutAfter(text: string | undefined): void;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<Proxy> {
  let frozen = false;
  let refusing = false;
  let cutText: string | undefined;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const done = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', done);
    upstream.on('error', done);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk: Buffer) => {
      if (frozen) return;
      upstream.write(chunk);
      // A simple Query message ('Q') carrying the text: let it reach the server, lose the answer.
      if (cutText && chunk[0] === 0x51 && chunk.toString('utf8').includes(cutText)) {
        cutText = undefined;
        client.destroy();
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (frozen) return;
      if (!client.destroyed) client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    freeze: () => {
      frozen = true;
    },
    refuseNew: (on) => {
      refusing = on;
    },
    cutAfter: (text) => {
      cutText = text;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
