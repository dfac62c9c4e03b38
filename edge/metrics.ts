/**
 * @module What the edge measures, as a small interface: the Node runtime
 * backs it with prom-client (prom-metrics.ts), a Worker can pass its own or
 * the no-op, and the app never imports a metrics library.
 */

export interface EdgeMetrics {
  eventsAccepted(count: number): void;
  eventsRejected(reason: string, count: number): void;
  /** One HTTP request: route name (not the raw path, to bound cardinality), status, seconds. */
  request(route: string, status: number, seconds: number): void;
  /** The exposition for GET /metrics, or undefined when this runtime exposes none. */
  render(): Promise<{ contentType: string; body: string } | undefined>;
}

export const noopMetrics: EdgeMetrics = {
  eventsAccepted() {},
  eventsRejected() {},
  request() {},
  render: async () => undefined,
};
