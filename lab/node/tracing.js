// OpenTelemetry Node SDK with the auto-instrumentations (http, pino): OTLP/HTTP protobuf
// to the lab's receiver, the endpoint from OTEL_EXPORTER_OTLP_ENDPOINT.
'use strict';
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { getNodeAutoInstrumentations } = require('@opentelemetry/auto-instrumentations-node');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { resourceFromAttributes } = require('@opentelemetry/resources');

const kvPort = Number(process.env.LAB_KV_PORT || 7001);
const sdk = new NodeSDK({
  resource: resourceFromAttributes({
    'service.name': 'frontend',
    'service.instance.id': 'frontend-1',
    'service.version': '5.0.1',
  }),
  spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 1000 })],
  instrumentations: [getNodeAutoInstrumentations({
    '@opentelemetry/instrumentation-fs': { enabled: false },
    '@opentelemetry/instrumentation-dns': { enabled: false },
    '@opentelemetry/instrumentation-net': { enabled: false },
    '@opentelemetry/instrumentation-pino': { disableLogSending: true },
    '@opentelemetry/instrumentation-http': {
      // The store exports nothing: name it on the client span (a peer-service mapping).
      startOutgoingSpanHook: (req) => (Number(req.port) === kvPort ? { 'peer.service': 'kvstore' } : {}),
    },
  })],
});
sdk.start();
const stop = () => sdk.shutdown().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
