// The tracing part of the configuration: OpenTelemetry's standard variables, read by config.ts.
import { ConfigError, parseBoolean } from './config-values.ts';

export type TraceSampler =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface TracingConfig {
  /** Off unless an OTLP endpoint is named or OTEL_TRACES_EXPORTER=otlp: then no span is made at all. */
  enabled: boolean;
  /** Where spans are sent (OTLP over HTTP, protobuf): the traces endpoint itself, /v1/traces included. */
  endpoint: string;
  sampler: TraceSampler;
  /** The share of traces kept by the traceidratio samplers, 0 to 1. */
  ratio: number;
  serviceName: string;
}

const TRACE_SAMPLERS: readonly TraceSampler[] = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
];

function parseOtlpUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(variable, `is not a URL (expected http://host:4318), got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(variable, `must start with http:// or https:// (OTLP over HTTP), got "${url.protocol}//"`);
  return raw;
}

/**
 * OpenTelemetry's standard variables (the subset this service honours): tracing is on once an
 * OTLP endpoint is named or OTEL_TRACES_EXPORTER=otlp; OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none
 * turn it off. The general endpoint gets /v1/traces appended; the traces endpoint is used as it is.
 */
export function parseTracing(env: NodeJS.ProcessEnv): TracingConfig {
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporter !== '' && exporter !== 'otlp' && exporter !== 'none')
    throw new ConfigError('OTEL_TRACES_EXPORTER', `must be otlp or none, got "${env.OTEL_TRACES_EXPORTER}"`);
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || '';
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT || '';
  const url =
    tracesEndpoint !== ''
      ? parseOtlpUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint)
      : endpoint !== ''
        ? `${parseOtlpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', endpoint).replace(/\/+$/, '')}/v1/traces`
        : 'http://localhost:4318/v1/traces';
  const disabled = parseBoolean('OTEL_SDK_DISABLED', env.OTEL_SDK_DISABLED, false);
  const enabled = !disabled && exporter !== 'none' && (exporter === 'otlp' || tracesEndpoint !== '' || endpoint !== '');

  const rawSampler = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase();
  const sampler = (rawSampler === '' ? 'parentbased_always_on' : rawSampler) as TraceSampler;
  if (!TRACE_SAMPLERS.includes(sampler))
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER',
      `must be one of ${TRACE_SAMPLERS.join(', ')}, got "${env.OTEL_TRACES_SAMPLER}"`,
    );
  const rawRatio = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
  const ratio = rawRatio === '' ? 1 : Number(rawRatio);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(rawRatio) && rawRatio !== '')
    throw new ConfigError(
      'OTEL_TRACES_SAMPLER_ARG',
      `must be a number from 0 to 1 (the share of traces kept), got "${rawRatio}"`,
    );
  return {
    enabled,
    endpoint: url,
    sampler,
    ratio,
    serviceName: env.OTEL_SERVICE_NAME || 'clearance',
  };
}
