/**
 * The server's metrics ({@link org.esmp.server.metrics.ServerMetrics}, Micrometer) and the metrics
 * port that exports them ({@link org.esmp.server.metrics.MetricsEndpoint}: Prometheus
 * {@code /metrics}, {@code /health}, {@code /ready}). Off unless {@code metrics_port} is set;
 * loopback unless {@code metrics_bind} says otherwise.
 */
package org.esmp.server.metrics;
