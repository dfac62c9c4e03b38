/**
 * @module `npm start`: the whole pipeline in one process (docs/architecture.md,
 * "The dependency rule"). A thin entry, which nothing imports: the
 * composition lives in deploy/one-machine/ (its README says why there). It
 * reads one config file whose sections each deployable owns, opens the three
 * ports once (embedded by default: the local durable log under <data>/bus, a
 * directory under <data>/warehouse, DuckDB; or Kafka, S3 and HiveServer2 by
 * configuration) and hands them to each deployable's own start function.
 *
 *   node start.ts [--config beacon.config.json] [--data-dir ./data] [--edge-port 8080] …
 */
import { runMain } from './deploy/one-machine/main.ts';

if (import.meta.main) runMain(process.argv);
