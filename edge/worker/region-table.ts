/**
 * @module Which regional Node relay a queued batch goes to. The table comes
 * from config (the REGIONS var): each region has an ordered list of relay
 * base URLs; a colo (`request.cf.colo`, e.g. `FRA`) or, failing that, a
 * continent (`request.cf.continent`, e.g. `EU`) names the home region; and
 * every region has an ordered failover list of other regions, tried when
 * all of its own relays are down. The route is recorded when the event is
 * accepted (queue-message.ts), so an event is relayed to the region that
 * served its visitor even though the consumer runs wherever Cloudflare puts it.
 */
import { z } from 'zod';

const REGION_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const regionName = z.string().regex(REGION_NAME, 'region names are lower-case letters, digits, - and _');
/** request.cf gives codes in upper case; the table may be written either way. */
const codeToRegion = z
  .record(z.string(), regionName)
  .default({})
  .transform((map) =>
    Object.fromEntries(Object.entries(map).map(([code, region]) => [code.toUpperCase(), region])),
  );

export const regionTableSchema = z
  .object({
    /** Region → its relays' base URLs, in the order they are tried (POST <url>/v1/relay). */
    regions: z.record(regionName, z.array(z.url({ protocol: /^https?$/ })).min(1)),
    /** Continent code of request.cf (AF, AN, AS, EU, NA, OC, SA) → region. */
    continents: codeToRegion,
    /** Colo (IATA code of the Cloudflare data centre) → region; wins over the continent. */
    colos: codeToRegion,
    /** Region of events whose colo and continent the table does not name. */
    default: regionName,
    /**
     * Region → the other regions to try, in order, when its own relays are
     * down. A region missing here fails over to every other region in the
     * order `regions` lists them.
     */
    failover: z.record(regionName, z.array(regionName)).default({}),
  })
  .superRefine((table, ctx) => {
    const known = new Set(Object.keys(table.regions));
    const check = (region: string, path: (string | number)[]) => {
      if (!known.has(region)) ctx.addIssue({ code: 'custom', path, message: `unknown region ${region}` });
    };
    check(table.default, ['default']);
    for (const [code, region] of Object.entries(table.continents)) check(region, ['continents', code]);
    for (const [colo, region] of Object.entries(table.colos)) check(region, ['colos', colo]);
    for (const [from, list] of Object.entries(table.failover)) {
      check(from, ['failover', from]);
      for (const [i, region] of list.entries()) check(region, ['failover', from, i]);
    }
  });

export type RegionTable = z.infer<typeof regionTableSchema>;

/** Where the request that carried the events was accepted (request.cf). */
export interface AcceptRoute {
  continent?: string;
  colo?: string;
  country?: string;
}

/** One place to send a relay batch. */
export interface RelayTarget {
  region: string;
  /** Base URL; the batch is posted to `<url>/v1/relay`. */
  url: string;
}

/** The home region of a route: the colo's, else the continent's, else the default. */
export function homeRegion(table: RegionTable, route: AcceptRoute): string {
  const byColo = route.colo === undefined ? undefined : table.colos[route.colo.toUpperCase()];
  if (byColo) return byColo;
  const byContinent =
    route.continent === undefined ? undefined : table.continents[route.continent.toUpperCase()];
  return byContinent ?? table.default;
}

/** Every relay to try for a home region, in order: its own, then its failover regions'. */
export function relayPlan(table: RegionTable, home: string): RelayTarget[] {
  const fallbacks = table.failover[home] ?? Object.keys(table.regions).filter((r) => r !== home);
  const plan: RelayTarget[] = [];
  const seen = new Set<string>();
  for (const region of [home, ...fallbacks]) {
    for (const url of table.regions[region] ?? []) {
      const base = url.replace(/\/+$/, '');
      if (seen.has(base)) continue;
      seen.add(base);
      plan.push({ region, url: base });
    }
  }
  return plan;
}
