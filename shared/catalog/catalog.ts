/**
 * @module What each catalog adapter is: a metastore and the query engine
 * that reads it, sharing one session pool (HiveServer2 is both; the embedded
 * DuckDB catalog keeps its own metadata and queries it). Only the places
 * that open an adapter or share one between the loader and insights (one
 * machine, tests) see both halves; the loader is given a `Metastore`,
 * insights a `QueryEngine`.
 */
import type { Metastore } from './metastore.ts';
import type { QueryEngine } from './query-engine.ts';

export type Catalog = Metastore & QueryEngine;
