/**
 * @module POST /v1/relay: batches the Cloudflare Worker's queue consumer
 * forwards to this regional Node relay. The events are already validated and
 * enriched; the HMAC signature (relay/relay-signature.ts) is what lets them
 * skip the public pipeline, so a forged or stale one is a 401.
 */
import type { Hono } from 'hono';
import { InputError } from '../../shared/errors.ts';
import type { EdgeDeps, EdgeEnv } from '../deps.ts';
import { ENVELOPE_DEPTH, parseJson, readRequestBytes } from '../pipeline/parse-body.ts';
import { produce } from '../pipeline/produce.ts';
import { jsonBytes } from '../pipeline/validate-events.ts';
import { relayBodySchema } from '../relay/relay-schema.ts';
import {
  RELAY_SIGNATURE_HEADER,
  RELAY_TIMESTAMP_HEADER,
  verifyRelaySignature,
} from '../relay/relay-signature.ts';

export function registerRelayRoute(app: Hono<EdgeEnv>, deps: EdgeDeps): void {
  const secret = deps.relaySecret;
  if (!secret) return;
  app.post('/v1/relay', async (c) => {
    c.set('route', 'relay');
    const bytes = await readRequestBytes(c.req.raw, deps.limits.maxRelayBytes);
    const verdict = await verifyRelaySignature({
      secret,
      body: bytes,
      signatureHeader: c.req.header(RELAY_SIGNATURE_HEADER),
      timestampHeader: c.req.header(RELAY_TIMESTAMP_HEADER),
      nowSeconds: Math.floor(deps.clock.now() / 1000),
      maxSkewSeconds: deps.limits.relayMaxSkewSeconds,
    });
    if (!verdict.ok) {
      deps.logger.warn({ reason: verdict.reason }, 'relay batch refused');
      throw new InputError(`Relay signature ${verdict.reason}.`, {
        status: 401,
        code: `signature_${verdict.reason}`,
      });
    }
    const parsed = relayBodySchema.safeParse(
      // `{"events": [event]}`: the same depth and Unicode rules as the public routes (the Worker applies them too).
      parseJson(bytes, deps.limits.maxDepth, ENVELOPE_DEPTH),
    );
    if (!parsed.success) {
      throw new InputError(`Relay batch is invalid: ${parsed.error.issues[0]?.message ?? 'unknown'}.`, {
        status: 400,
        code: 'invalid_relay_batch',
      });
    }
    // The Worker applies the same event limit; enrichment adds well under 4 KB. A larger
    // event would be refused by Kafka and block the spool's drain, so it stops here.
    const maxBytes = deps.limits.maxEventBytes + 4096;
    const oversized = parsed.data.events.findIndex((e) => jsonBytes(e, maxBytes) > maxBytes);
    if (oversized >= 0) {
      throw new InputError(`Relay event ${oversized} is larger than ${maxBytes} bytes.`, {
        status: 413,
        code: 'payload_too_large',
      });
    }
    await produce(deps.sink, parsed.data.events);
    deps.metrics.eventsAccepted(parsed.data.events.length);
    return c.json({ success: true, accepted: parsed.data.events.length });
  });
}
