/**
 * Side-effect module, imported first wherever libp2p runs: Node 20 lacks two globals that
 * libp2p 3 uses (`Promise.withResolvers`, a Node 22 addition, and `WebSocket`, needed to
 * dial `/ws` addresses).
 */
import { WebSocket as WsWebSocket } from 'ws';

interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const g = globalThis as unknown as { WebSocket?: unknown };
if (typeof g.WebSocket === 'undefined') g.WebSocket = WsWebSocket;

export {};
