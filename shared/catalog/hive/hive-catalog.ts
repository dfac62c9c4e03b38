/**
 * @module The metastore and query-engine ports on HiveServer2 (Hive 4, Spark Thrift
 * Server, Kyuubi) through `hive-driver`: external Parquet tables partitioned
 * by (dt, hour) whose partitions point at object-store locations.
 *
 * Sessions come from a small pool (hive-connection.ts guards each against
 * the driver's hangs). A statement that fails because the connection failed,
 * or with a communication SQLSTATE (08xxx), is retried with backoff; every
 * statement this adapter issues is idempotent (IF NOT EXISTS, SET LOCATION)
 * and query() is meant for reads. HiveServer2 cannot bind parameters, so
 * `?` placeholders are replaced with literals escaped by Hive's own rules
 * (shared/sql/hive-literal.ts). Rows come back in the common format of
 * row-format.ts (hive-rows.ts decodes them).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import hive from 'hive-driver';
import pRetry from 'p-retry';
import { CatalogError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { bindHiveParams } from '../../sql/hive-literal.ts';
import { hiveIdentifier } from '../../sql/identifier.ts';
import type { Metastore, PartitionSpec, TableDef } from '../metastore.ts';
import { assertTableDef, parsePartitionName } from '../partition-spec.ts';
import type { QueryEngine, QueryOptions, Row, SqlValue } from '../query-engine.ts';
import { SessionPool } from '../session-pool.ts';
import { describe, HiveConnection, type HiveEndpoint } from './hive-connection.ts';
import { locationLiteral, partitionClause } from './hive-ddl.ts';
import { FAILED_STATES, OPERATION_STATE } from './hive-driver-protocol.ts';
import { decodeRows, type HiveRowSet, type HiveSchema } from './hive-rows.ts';
import { cancelled, statementError } from './hive-statement-errors.ts';

export interface HiveCatalogOptions extends HiveEndpoint {
  /** Database the tables live in; `default` when absent. */
  database?: string;
  /** Sessions open at once. Default 4. */
  poolSize?: number;
  /** Deadline to connect and open a session. Default 20 s. */
  connectTimeoutMs?: number;
  /** Deadline of one driver call (a status poll, a fetch). Default 60 s. */
  callTimeoutMs?: number;
  /** Deadline of one statement, cancelled on the server when passed. Default 10 min. */
  queryTimeoutMs?: number;
  /** Extra attempts for retriable failures. Default 2. */
  retries?: number;
  /** Partitions per ALTER TABLE … ADD statement. Default 100. */
  partitionsPerStatement?: number;
  logger?: Logger;
}

const HIVE_TYPES = {
  STRING: 'STRING',
  BIGINT: 'BIGINT',
  INT: 'INT',
  DOUBLE: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
};
/** Rows per fetch round trip (hive-driver's default is 100). */
const FETCH_ROWS = 10_000;

export class HiveCatalog implements Metastore, QueryEngine {
  private readonly pool: SessionPool<HiveConnection>;
  private readonly callTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly retries: number;
  private readonly partitionsPerStatement: number;
  private readonly logger: Logger | undefined;
  private readonly utils = new hive.HiveUtils(hive.thrift.TCLIService_types);

  constructor(options: HiveCatalogOptions) {
    const connectTimeoutMs = options.connectTimeoutMs ?? 20_000;
    this.callTimeoutMs = options.callTimeoutMs ?? 60_000;
    this.queryTimeoutMs = options.queryTimeoutMs ?? 600_000;
    this.retries = options.retries ?? 2;
    this.partitionsPerStatement = options.partitionsPerStatement ?? 100;
    this.logger = options.logger;
    const database = options.database;
    this.pool = new SessionPool({
      max: options.poolSize ?? 4,
      create: async () => {
        const connection = await HiveConnection.open(options, connectTimeoutMs);
        if (database) {
          await this.runOn(
            connection,
            `USE ${hiveIdentifier(database)}`,
            AbortSignal.timeout(this.callTimeoutMs),
          ).catch(async (error: unknown) => {
            await connection.close();
            throw error;
          });
        }
        return connection;
      },
      destroy: (connection) => connection.close(),
    });
  }

  async ensureTable(table: TableDef): Promise<void> {
    assertTableDef(table);
    const columns = table.columns.map((c) => `${hiveIdentifier(c.name)} ${HIVE_TYPES[c.type]}`).join(', ');
    const partitions = table.partitionedBy.map((c) => `${hiveIdentifier(c)} STRING`).join(', ');
    await this.execute(
      `CREATE EXTERNAL TABLE IF NOT EXISTS ${hiveIdentifier(table.name)} (${columns})` +
        (partitions ? ` PARTITIONED BY (${partitions})` : '') +
        ` STORED AS PARQUET LOCATION ${locationLiteral(table.location)}`,
    );
    const missing = await this.missingColumns(table);
    if (missing.length === 0) return;
    const added = missing.map((c) => `${hiveIdentifier(c.name)} ${HIVE_TYPES[c.type]}`).join(', ');
    // CASCADE: the partitions' own column lists gain them too, so late files in an old hour are read whole.
    await this.execute(`ALTER TABLE ${hiveIdentifier(table.name)} ADD COLUMNS (${added}) CASCADE`).catch(
      async (error: unknown) => {
        // Another loader may have added them first (a duplicate column): fine if none is missing now.
        if ((await this.missingColumns(table)).length > 0) throw error;
      },
    );
    this.logger?.info(
      { table: table.name, columns: missing.map((c) => c.name) },
      'catalog table gained columns',
    );
  }

  /** The columns of `table` the metastore's table lacks (DESCRIBE lists data columns first, then partition info). */
  private async missingColumns(table: TableDef): Promise<TableDef['columns']> {
    const described = await this.execute(`DESCRIBE ${hiveIdentifier(table.name)}`);
    const existing = new Set<string>();
    for (const row of described) {
      const name = String(row.col_name ?? '')
        .trim()
        .toLowerCase();
      if (name === '' || name.startsWith('#')) break;
      existing.add(name);
    }
    return table.columns.filter((c) => !existing.has(c.name.toLowerCase()));
  }

  async addPartitions(table: string, partitions: PartitionSpec[]): Promise<void> {
    const clauses = partitions.map(
      (p) => `${partitionClause(p.values)} LOCATION ${locationLiteral(p.location)}`,
    );
    for (let i = 0; i < clauses.length; i += this.partitionsPerStatement) {
      const batch = clauses.slice(i, i + this.partitionsPerStatement);
      await this.execute(`ALTER TABLE ${hiveIdentifier(table)} ADD IF NOT EXISTS ${batch.join(' ')}`);
    }
  }

  async setPartitionLocation(table: string, partition: PartitionSpec): Promise<void> {
    const spec = partitionClause(partition.values);
    const location = locationLiteral(partition.location);
    // The metastore changes the location in one update: readers see the old files or the new ones.
    await this.execute(`ALTER TABLE ${hiveIdentifier(table)} ADD IF NOT EXISTS ${spec} LOCATION ${location}`);
    await this.execute(`ALTER TABLE ${hiveIdentifier(table)} ${spec} SET LOCATION ${location}`);
  }

  async listPartitions(table: string): Promise<PartitionSpec['values'][]> {
    const rows = await this.execute(`SHOW PARTITIONS ${hiveIdentifier(table)}`);
    return rows
      .map((row) => String(Object.values(row)[0]))
      .sort()
      .map(parsePartitionName);
  }

  async query(sql: string, params: SqlValue[] = [], options: QueryOptions = {}): Promise<Row[]> {
    return this.execute(bindHiveParams(sql, params), options.signal);
  }

  /** Drops the table (not part of the port: tests and operators). External: the files stay. */
  async dropTable(table: string): Promise<void> {
    await this.execute(`DROP TABLE IF EXISTS ${hiveIdentifier(table)}`);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Runs one statement on a pooled session, retrying retriable failures, within the query deadline. */
  private async execute(sql: string, callerSignal?: AbortSignal): Promise<Row[]> {
    const timeout = AbortSignal.timeout(this.queryTimeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      return await pRetry(
        () =>
          this.pool.use(async (connection, markBroken) => {
            try {
              return await this.runOn(connection, sql, signal);
            } finally {
              if (connection.broken) markBroken();
            }
          }),
        {
          retries: this.retries,
          minTimeout: 250,
          factor: 3,
          signal,
          shouldRetry: ({ error }) => error instanceof CatalogError && error.retriable,
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (retriesLeft > 0 && error instanceof CatalogError && error.retriable) {
              this.logger?.warn(
                { err: error, attemptNumber, retriesLeft },
                'hive statement failed; retrying',
              );
            }
          },
        },
      );
    } catch (error) {
      if (signal.aborted) throw cancelled(timeout.aborted, this.queryTimeoutMs, error);
      if (error instanceof CatalogError) throw error;
      throw new CatalogError(`HiveServer2 failed: ${describe(error)}`, {
        code: 'query_failed',
        cause: error,
      });
    }
  }

  /** Executes asynchronously on the server, polls with a growing sleep, cancels on abort, fetches and decodes. */
  private async runOn(connection: HiveConnection, sql: string, signal: AbortSignal): Promise<Row[]> {
    if (signal.aborted) throw signal.reason;
    const operation = await connection
      .call(
        'executeStatement',
        connection.session.executeStatement(sql, { runAsync: true }),
        this.callTimeoutMs,
      )
      .catch((error: unknown) => {
        throw statementError(error, sql);
      });
    try {
      for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
        const status = await connection.call('status', operation.status(false), this.callTimeoutMs);
        const state = status.operationState ?? OPERATION_STATE.UKNOWN_STATE;
        if (state === OPERATION_STATE.FINISHED_STATE) break;
        const failure = FAILED_STATES.get(state);
        if (failure)
          throw statementError({ message: status.errorMessage, sqlState: status.sqlState }, sql, failure);
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          await connection.call('cancel', operation.cancel(), 5_000).catch(() => undefined);
          throw signal.reason;
        }
      }
      operation.setMaxRows(FETCH_ROWS);
      await connection.call('fetch', this.utils.fetchAll(operation), this.callTimeoutMs);
      return decodeRows(
        operation.getSchema() as HiveSchema | null,
        operation.getData() as unknown as HiveRowSet[],
      );
    } finally {
      await connection.call('closeOperation', operation.close(), 5_000).catch(() => undefined);
    }
  }
}
