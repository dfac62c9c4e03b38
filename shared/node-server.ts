/**
 * @module Serving a fetch handler (a Hono app) on Node: resolves once the port
 * is bound (or rejects with the bind error, EADDRINUSE), and closes gently.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

export interface NodeServer {
  url: string;
  port: number;
  /** Stops accepting connections and lets requests in flight finish; idle keep-alive sockets close at once. */
  close(): Promise<void>;
}

export async function listenOnNode(
  fetch: (request: Request) => Response | Promise<Response>,
  host: string,
  port: number,
): Promise<NodeServer> {
  const server = serve({ fetch, hostname: host, port });
  await new Promise<void>((ok, fail) => {
    server.once('listening', ok);
    server.once('error', fail);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}
