/**
 * @module The accept-time route of a request (request.cf: continent, colo,
 * country) and a request scope that makes it visible to the QueueSink. The
 * shared app hands the sink only events, so the route travels beside the
 * call in an AsyncLocalStorage (node:async_hooks, from nodejs_compat)
 * instead of through every pipeline step.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AcceptRoute } from './region-table.ts';

export interface RouteScope {
  run<T>(route: AcceptRoute, fn: () => T): T;
  /** The route of the request being served; empty outside one (the default region applies). */
  current(): AcceptRoute;
}

export function createRouteScope(): RouteScope {
  const storage = new AsyncLocalStorage<AcceptRoute>();
  return {
    run: (route, fn) => storage.run(route, fn),
    current: () => storage.getStore() ?? {},
  };
}

/** request.cf's fields the relay routing and the country enrichment use; the header when cf lacks the country. */
export function acceptRouteOf(request: Request): AcceptRoute {
  const cf = request.cf as Partial<Record<'continent' | 'colo' | 'country', unknown>> | undefined;
  const route: AcceptRoute = {};
  if (typeof cf?.continent === 'string' && cf.continent) route.continent = cf.continent;
  if (typeof cf?.colo === 'string' && cf.colo) route.colo = cf.colo;
  const country =
    typeof cf?.country === 'string' && cf.country ? cf.country : request.headers.get('cf-ipcountry');
  if (country) route.country = country;
  return route;
}

/**
 * The request the app sees: `cf-ipcountry` set from request.cf.country when
 * Cloudflare gave one (the app reads the country from that header), so a
 * client cannot claim another country where Cloudflare knows better.
 */
export function withCountryHeader(request: Request, route: AcceptRoute): Request {
  if (!route.country || request.headers.get('cf-ipcountry') === route.country) return request;
  const copy = new Request(request);
  copy.headers.set('cf-ipcountry', route.country);
  return copy;
}
