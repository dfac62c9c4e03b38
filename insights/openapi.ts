/**
 * @module The OpenAPI 3.1 document of the API, its parameters derived from
 * the same zod schemas that validate requests, so the two cannot drift.
 */
import { z } from 'zod';
import {
  funnelParams,
  goalParams,
  projectParams,
  retentionParams,
  summaryParams,
  timeseriesParams,
  topParams,
  visitsParams,
} from './params.ts';

type JsonSchema = Record<string, unknown>;

function queryParameters(schema: z.ZodType): JsonSchema[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  const required = new Set(json.required ?? []);
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...schemaOnly } = property;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(description === undefined ? {} : { description }),
      schema: schemaOnly,
      ...(schemaOnly.type === 'array' ? { style: 'form', explode: true } : {}),
    };
  });
}

const count = { type: 'integer', minimum: 0 };
const isoTime = { type: 'string', format: 'date-time' };
const envelope = {
  project: { type: 'string' },
  source: { type: 'string', enum: ['rollup', 'raw'], description: 'Whether only the rollups were read.' },
};

const schemas: Record<string, JsonSchema> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string' }, message: { type: 'string' } },
      },
    },
  },
  Timeseries: {
    type: 'object',
    properties: {
      ...envelope,
      from: isoTime,
      to: isoTime,
      interval: { type: 'string', enum: ['hour', 'day'] },
      event: { type: ['string', 'null'] },
      points: {
        type: 'array',
        description: 'Every bucket of the range, oldest first; empty buckets are zeros.',
        items: { type: 'object', properties: { time: isoTime, events: count, visitors: count } },
      },
    },
  },
  Top: {
    type: 'object',
    properties: {
      ...envelope,
      from: isoTime,
      to: isoTime,
      dimension: { type: 'string' },
      property: { type: ['string', 'null'] },
      event: { type: ['string', 'null'] },
      rows: {
        type: 'array',
        description: 'By visitors, then events, then value; empty values are left out.',
        items: { type: 'object', properties: { value: { type: 'string' }, events: count, visitors: count } },
      },
    },
  },
  Funnel: {
    type: 'object',
    properties: {
      ...envelope,
      from: isoTime,
      to: isoTime,
      windowSeconds: count,
      steps: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            event: { type: 'string' },
            visitors: count,
            conversion: { type: 'number', description: 'Of the previous step, 0..1.' },
            conversionFromStart: { type: 'number', description: 'Of the first step, 0..1.' },
          },
        },
      },
    },
  },
  Retention: {
    type: 'object',
    properties: {
      ...envelope,
      from: isoTime,
      to: isoTime,
      event: { type: ['string', 'null'] },
      cohorts: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            day: { type: 'string', format: 'date' },
            visitors: count,
            returning: {
              type: 'array',
              items: count,
              description: 'Index n: active n days after the cohort day.',
            },
          },
        },
      },
    },
  },
  Period: {
    type: 'object',
    properties: {
      from: isoTime,
      to: isoTime,
      visitors: count,
      pageviews: count,
      events: count,
      sessions: { ...count, description: 'A visitor’s events up to 30 minutes apart.' },
      bounceRate: { type: 'number', description: 'Sessions of a single page view, 0..1.' },
      visitDuration: { type: 'number', description: 'Mean seconds from first to last event of a session.' },
    },
  },
  Summary: {
    type: 'object',
    properties: {
      ...envelope,
      current: { $ref: '#/components/schemas/Period' },
      previous: { $ref: '#/components/schemas/Period' },
    },
  },
  Visits: {
    type: 'object',
    properties: {
      ...envelope,
      from: isoTime,
      to: isoTime,
      dimension: { type: 'string', enum: ['source', 'entry_page', 'exit_page'] },
      rows: {
        type: 'array',
        description: 'By visitors, then visits, then value.',
        items: {
          type: 'object',
          properties: {
            value: { type: ['string', 'null'], description: 'null: Direct / None (source only).' },
            visits: count,
            visitors: count,
          },
        },
      },
    },
  },
  Goal: {
    type: 'object',
    properties: {
      ...envelope,
      from: isoTime,
      to: isoTime,
      goal: {
        type: 'object',
        description: 'The event, or the page path, that counts as a conversion.',
        properties: { event: { type: 'string' }, page: { type: 'string' } },
      },
      visitors: count,
      converted: { ...count, description: 'Visitors who reached the goal at least once.' },
      completions: { ...count, description: 'Events that were the goal.' },
      conversionRate: { type: 'number', description: 'converted / visitors, 0..1.' },
    },
  },
  Project: {
    type: 'object',
    properties: {
      project: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } },
    },
  },
};

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
}

function insightsOperation(summary: string, params: z.ZodType, responseSchema: string) {
  return {
    get: {
      summary,
      security: [{ readKey: [] }],
      parameters: queryParameters(params),
      responses: {
        '200': {
          description: 'The answer. X-Insights-Cache says whether it came from the cache.',
          content: { 'application/json': { schema: { $ref: `#/components/schemas/${responseSchema}` } } },
        },
        '400': errorResponse('A parameter is missing or invalid; the message names it.'),
        '401': errorResponse('No read key, or not a valid one.'),
        '403': errorResponse('The read key does not open that project.'),
        '502': errorResponse('The query engine failed.'),
        '504': errorResponse('The query took longer than the timeout.'),
      },
    },
  };
}

export function openApiDocument(version: string): JsonSchema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Beacon-to-Hive insights',
      version,
      description:
        'Read API over the warehouse: time series, top values, funnels, retention and a summary, one project per read key. Times are UTC; ranges are [from, to) in whole hours of the time events were received.',
    },
    components: {
      securitySchemes: {
        readKey: { type: 'http', scheme: 'bearer', description: 'A read key of the project.' },
      },
      schemas,
    },
    paths: {
      '/v1/insights/timeseries': insightsOperation(
        'Events and distinct visitors per hour or day',
        timeseriesParams,
        'Timeseries',
      ),
      '/v1/insights/top': insightsOperation('Top values of a dimension', topParams, 'Top'),
      '/v1/insights/funnel': insightsOperation('Ordered steps within a window', funnelParams, 'Funnel'),
      '/v1/insights/retention': insightsOperation('Cohorts by first-seen day', retentionParams, 'Retention'),
      '/v1/insights/summary': insightsOperation(
        'Visitors, page views, sessions, bounce rate and visit duration, with the previous period',
        summaryParams,
        'Summary',
      ),
      '/v1/insights/visits': insightsOperation(
        'Top sources, entry pages or exit pages, per visit',
        visitsParams,
        'Visits',
      ),
      '/v1/insights/goal': insightsOperation('A goal’s conversions and rate', goalParams, 'Goal'),
      '/v1/insights/project': insightsOperation('The project the read key opens', projectParams, 'Project'),
      '/healthz': {
        get: { summary: 'Liveness', responses: { '200': { description: 'The process is up.' } } },
      },
      '/readyz': {
        get: {
          summary: 'Readiness: the query engine answers',
          responses: {
            '200': { description: 'Ready.' },
            '503': { description: 'The engine does not answer.' },
          },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text format.' } } },
      },
    },
  };
}
