/**
 * @module A loopback port that was free a moment ago, drawn from [20000, 32000). Not port 0:
 * the kernel would answer from its ephemeral range (32768 and up), where outgoing connections
 * take their ports too, and every listening port here must stay below 32768.
 */
import { createServer, type Server } from 'node:net';

const LOW = 20_000;
const HIGH = 32_000;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A random free port in [20000, 32000); random so parallel test files rarely pick the same one. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free loopback port in [${LOW}, ${HIGH}) after 100 tries`);
}

/**
 * Starts `server` listening on a free port in [20000, 32000) and returns the port. Binding
 * the server itself (rather than asking `freePort` first) leaves no window for another
 * process to take the port in between.
 */
export async function listenOnFreePort(server: Server): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<boolean>((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        if (error.code === 'EADDRINUSE') resolve(false);
        else reject(error);
      };
      const onListening = () => {
        server.off('error', onError);
        resolve(true);
      };
      server.once('error', onError).once('listening', onListening).listen(port, '127.0.0.1');
    });
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await tryPort(port)) return port;
  }
  throw new Error(`no free loopback port in [${LOW}, ${HIGH}) after 100 tries`);
}
